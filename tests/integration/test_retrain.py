"""A transcript of learning from operators: shared scooters are filed as roads, operators transfer
them to transport, `retrain` learns it, paraphrases then go to transport while unrelated texts keep
their sectors, and a candidate that is not better is refused (two builds: a minute or two)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from bot.app.wiring import App
from bot.classify import Classifier
from bot.classify.build import BuildConfig
from bot.classify.cli import run_retrain
from bot.classify.corpus import DATA_DIR, read_sectors, seed_corpus
from bot.classify.retrain import DEV_TOLERANCE, MIN_HELD_BACK, judge, load_corrections
from bot.services.chats import bind_chat
from bot.services.reports.access import Actor
from bot.services.staff.roles import Principal
from storage.db import Database, migrate
from tests.harness.filing import file_directly

TSUR_CHAT = -100_2
OPERATOR = Actor("700", "Ольга", TSUR_CHAT)
# Two folds instead of five: the same model family, built in half the time.
QUICK = BuildConfig(folds=2)

WHERE = [
    "у подъезда",
    "на тротуаре у школы",
    "возле остановки",
    "у входа в поликлинику",
    "во дворе",
    "на набережной",
    "у торгового центра",
    "на велодорожке",
]
WHAT = [
    "самокаты кикшеринга брошены {where}, пройти невозможно",
    "арендные электросамокаты валяются {where}, уберите их",
    "прокатные самокаты стоят кучей {where}, коляска не проходит",
    "кто-то оставил шеринговые самокаты {where}, дети спотыкаются",
]
WHEN = ["", " уже неделю", " каждый вечер", " третий день", " с утра"]
PARAPHRASES = [
    "Сервис аренды самокатов не забирает свои самокаты, стоят поперёк дорожки в сквере",
    "электросамокаты из приложения бросают где попало, прошу обязать оператора проката убирать",
]
UNRELATED = {
    "roads": "огромная яма на проезжей части ул. Ленина",
    "housing": "не горит фонарь у подъезда",
    "health": "нет записи к терапевту в поликлинике",
    "waste": "контейнерная площадка переполнена",
    "energy": "нет электричества на всей улице",
}


@pytest.fixture
async def app(sqlite_url: str, app_factory: Any) -> App:
    # One backend: storing the examples is tested on both in test_sector_examples.py.
    built: App = await app_factory(sqlite_url)
    await bind_chat(built.db, "tsur", TSUR_CHAT, "tg:1")
    await built.staff.add(Principal.shell(), OPERATOR.platform_user_id, "operator", "tsur")
    return built


async def test_operators_transfers_teach_the_model_and_a_candidate_no_better_is_refused(
    app: App, tmp_path: Path
) -> None:
    seed_model = Classifier.load()
    assert seed_model.predict(PARAPHRASES[0]).sector != "transport"
    texts = [t.format(where=w) + when for t, w, when in itertools.product(WHAT, WHERE, WHEN)]
    texts += [t.upper() for t in texts]
    for n, text in enumerate(texts):
        report_id, _ = await file_directly(app, str(5000 + n), text, key=f"scooter-{n}", sector="roads")
        await app.actions.transfer(report_id, OPERATOR, "transport")
    corrections = await load_corrections(app.db)
    assert len(corrections) == len(texts)

    path = tmp_path / "model.json"
    verdict = judge(corrections, seed_model, path, QUICK)
    assert verdict.held_back >= MIN_HELD_BACK
    assert verdict.accepted, verdict
    retrained = Classifier.load(path)
    for text in PARAPHRASES:
        assert retrained.predict(text).sector == "transport", text
    for sector, text in UNRELATED.items():
        assert retrained.predict(text).sector == sector, text

    # The same corrections again, against the model that already knows them: nothing to gain.
    stamp = path.stat().st_mtime_ns
    again = judge(corrections, retrained, path, QUICK)
    assert not again.accepted and again.reason == "not better on held-back corrections"
    assert path.stat().st_mtime_ns == stamp


# Someone with an operator's seat "corrects" the everyday road reports into health by the hundred:
# the candidate learns it and so wins on held-back corrections of the same kind, but the frozen
# development set shows the damage and the gate refuses it. (Poison narrow enough to leave the
# development set alone is not caught by this gate: see the README.)
POISONED = 260


async def test_poisoned_corrections_are_refused_by_the_development_set(app: App, tmp_path: Path) -> None:
    seed_model = Classifier.load()
    roads = [
        e.text for e in seed_corpus(read_sectors(), DATA_DIR, 0.5) if e.kind == "seed" and e.sector == "roads"
    ]
    texts = [t for t in roads if seed_model.predict(t).sector == "roads"][:POISONED]
    assert len(texts) == POISONED
    for n, text in enumerate(texts):
        report_id, _ = await file_directly(app, str(9000 + n), text, key=f"poison-{n}", sector="roads")
        await app.actions.transfer(report_id, OPERATOR, "health")
    corrections = await load_corrections(app.db)

    path = tmp_path / "model.json"
    verdict = judge(corrections, seed_model, path, QUICK)
    assert verdict.candidate_held_f1 > verdict.current_held_f1  # it did learn the poison
    assert not verdict.accepted and verdict.reason == "worse on the dev set", verdict
    assert verdict.candidate_dev_f1 < verdict.current_dev_f1 - DEV_TOLERANCE
    assert not path.exists()


async def test_too_few_corrections_are_not_enough(app: App, tmp_path: Path) -> None:
    verdict = judge([], Classifier.load(), tmp_path / "model.json")
    assert not verdict.accepted and "50 needed" in verdict.reason
    assert not (tmp_path / "model.json").exists()


async def test_the_retrain_command_needs_model_path_and_refuses_without_enough_corrections(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = Database(sqlite_url)
    await migrate(db)
    await db.dispose()
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.delenv("MODEL_PATH", raising=False)
    assert await run_retrain([]) == 2
    assert "MODEL_PATH is not set" in capsys.readouterr().err
    monkeypatch.setenv("MODEL_PATH", str(tmp_path / "model.json"))
    assert await run_retrain([]) == 1
    assert "0 corrections held back, 50 needed" in capsys.readouterr().out
    assert not (tmp_path / "model.json").exists()
