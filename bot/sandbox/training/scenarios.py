"""Training scenarios as data: bot/sandbox/training/data/*.yaml, one scenario a file.

A scenario is a list of scripted citizens, each with what they write, where, when (minutes of scenario
time after the start), which topic they pick in the dialog and how they behave afterwards: answer a
clarification after N minutes or never, rate the answer, say solved / not solved, or fall silent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DATA_DIR = Path(__file__).parent / "data"


class ScenarioError(ValueError):
    """A scenario file that does not say what a scripted citizen needs."""


@dataclass(frozen=True)
class Clarification:
    """How the citizen answers an operator's request to clarify: after `after` minutes, or never."""

    after: float | None  # scenario minutes after the request; None: never answers
    text: str = ""


@dataclass(frozen=True)
class AfterAnswer:
    """What the citizen does once the body answered: nothing (silent), or «solved?» and stars."""

    after: float = 5.0  # scenario minutes after the answer
    silent: bool = False
    solved: bool = True
    stars: int | None = None
    comment: str | None = None


@dataclass(frozen=True)
class ScriptedCitizen:
    """One citizen of a scenario, with the sector the report truly belongs to (the score card's truth)."""

    key: str
    platform: str  # tg | vk
    name: str
    language: str  # ru | en
    sector: str
    text: str
    place: str  # municipality id: the citizen sends a geo pin at its centre (or lat/lon)
    at: float = 0.0  # scenario minutes after the start
    filed_as: str | None = None  # the topic picked in the dialog; None: the right sector
    photos: int = 0
    lat: float | None = None
    lon: float | None = None
    clarification: Clarification = Clarification(after=None)
    after_answer: AfterAnswer = AfterAnswer()
    rude: bool = False
    duplicate_of: str | None = None

    @property
    def picks(self) -> str:
        """The sector the citizen chooses in the intake dialog."""
        return self.filed_as or self.sector


@dataclass(frozen=True)
class Scenario:
    """A named training scenario."""

    name: str
    title_ru: str
    title_en: str
    description_ru: str
    description_en: str
    citizens: tuple[ScriptedCitizen, ...] = field(default_factory=tuple)

    def title(self, lang: str) -> str:
        """The title in `lang` (Russian unless English is asked for)."""
        return self.title_en if lang == "en" else self.title_ru


def _citizen(raw: dict[str, Any], scenario: str) -> ScriptedCitizen:
    try:
        clarify_raw = raw.get("clarification") or {}
        clarification = Clarification(
            after=None if clarify_raw.get("never") else float(clarify_raw.get("after", 10)),
            text=str(clarify_raw.get("text", "")),
        )
        answer_raw = raw.get("after_answer") or {}
        stars = answer_raw.get("stars")
        after_answer = AfterAnswer(
            after=float(answer_raw.get("after", 5)),
            silent=bool(answer_raw.get("silent", False)),
            solved=bool(answer_raw.get("solved", True)),
            stars=None if stars is None else int(stars),
            comment=answer_raw.get("comment"),
        )
        citizen = ScriptedCitizen(
            key=str(raw["key"]),
            platform=str(raw["platform"]),
            name=str(raw["name"]),
            language=str(raw.get("language", "ru")),
            sector=str(raw["sector"]),
            text=" ".join(str(raw["text"]).split()),
            place=str(raw["place"]),
            at=float(raw.get("at", 0)),
            filed_as=raw.get("filed_as"),
            photos=int(raw.get("photos", 0)),
            lat=raw.get("lat"),
            lon=raw.get("lon"),
            clarification=clarification,
            after_answer=after_answer,
            rude=bool(raw.get("rude", False)),
            duplicate_of=raw.get("duplicate_of"),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ScenarioError(f"scenario {scenario}: bad citizen {raw.get('key')!r}: {error}") from error
    if citizen.platform not in ("tg", "vk") or citizen.language not in ("ru", "en"):
        raise ScenarioError(f"scenario {scenario}: {citizen.key}: platform tg|vk, language ru|en")
    if citizen.after_answer.stars is not None and not 1 <= citizen.after_answer.stars <= 5:
        raise ScenarioError(f"scenario {scenario}: {citizen.key}: stars must be 1..5")
    return citizen


def parse_scenario(raw: dict[str, Any]) -> Scenario:
    """A scenario from its YAML mapping; ScenarioError when something needed is missing."""
    name = str(raw.get("name", ""))
    if not name:
        raise ScenarioError("a scenario needs a name")
    citizens = tuple(_citizen(item, name) for item in raw.get("citizens") or [])
    keys = [c.key for c in citizens]
    if len(set(keys)) != len(keys):
        raise ScenarioError(f"scenario {name}: citizen keys must be unique")
    for citizen in citizens:
        if citizen.duplicate_of is not None and citizen.duplicate_of not in keys:
            raise ScenarioError(f"scenario {name}: {citizen.key} duplicates unknown {citizen.duplicate_of}")
    return Scenario(
        name=name,
        title_ru=str(raw.get("title_ru", name)),
        title_en=str(raw.get("title_en", raw.get("title_ru", name))),
        description_ru=" ".join(str(raw.get("description_ru", "")).split()),
        description_en=" ".join(str(raw.get("description_en", "")).split()),
        citizens=tuple(sorted(citizens, key=lambda c: c.at)),
    )


def load_scenarios(directory: Path = DATA_DIR) -> dict[str, Scenario]:
    """Every scenario in `directory`, by name, in file-name order."""
    found: dict[str, Scenario] = {}
    for path in sorted(directory.glob("*.yaml")):
        scenario = parse_scenario(yaml.safe_load(path.read_text(encoding="utf-8")))
        if scenario.name in found:
            raise ScenarioError(f"two scenarios are called {scenario.name}")
        found[scenario.name] = scenario
    return found
