"""The page's training controls, wired to the world's trainer (bot/sandbox/training) when the
sandbox attached one: the scenario picker, «⏭ к следующему сроку», the score card."""

from __future__ import annotations

from typing import Any

from bot.sandbox.training.trainer import Trainer
from bot.sandbox.world import SandboxWorld
from bot.web.sandbox.actions import Action, ActionError

Json = dict[str, Any]


async def training_state(world: SandboxWorld, lang: str) -> Json | None:
    """The scenarios, the one being played, its citizens' progress and its score card so far
    (None when the sandbox runs without a trainer)."""
    trainer = world.trainer
    if trainer is None:
        return None
    english = lang == "en"
    scenarios = [
        {
            "name": s.name,
            "title": s.title_en if english else s.title_ru,
            "description": s.description_en if english else s.description_ru,
            "citizens": s.citizens,
        }
        for s in trainer.scenarios()
    ]
    session = trainer.session
    card = (await trainer.score_card()).to_dict() if session is not None else None
    return {
        "scenarios": scenarios,
        "scenario": session.scenario.name if session is not None else None,
        "running": trainer.running,
        "progress": [{"name": p.name, "state": p.state} for p in trainer.progress()],
        "card": card,
    }


def _trainer(world: SandboxWorld) -> Trainer:
    if world.trainer is None:
        raise ActionError("this sandbox runs without scenarios")
    return world.trainer


async def start_scenario(world: SandboxWorld, body: Json) -> Json:
    """Start the chosen scenario for the trainee named on the page."""
    trainer = _trainer(world)
    name = str(body.get("scenario", ""))
    trainee = str(body.get("trainee") or "")
    try:
        await (trainer.start(name, trainee) if trainee else trainer.start(name))
    except KeyError as error:
        raise ActionError(str(error)) from None
    return {}


async def finish_scenario(world: SandboxWorld, _body: Json) -> Json:
    """End the scenario and keep its score card."""
    try:
        card = await _trainer(world).finish()
    except LookupError as error:
        raise ActionError(str(error)) from None
    return {"score": card.score}


async def next_deadline(world: SandboxWorld, _body: Json) -> Json:
    """Move the clock to the next reminder, deadline or escalation of any open report."""
    moment = await _trainer(world).jump_to_next_deadline()
    return {"at": moment.isoformat() if moment else None}


TRAINING_ACTIONS: dict[str, Action] = {
    "training/start": start_scenario,
    "training/finish": finish_scenario,
    "training/next-deadline": next_deadline,
}
