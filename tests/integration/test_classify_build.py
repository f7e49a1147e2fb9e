"""The classifier build (about 40 s of training): deterministic, and the committed model is fresh."""

from __future__ import annotations

from pathlib import Path

from bot.classify import Classifier
from bot.classify.build import build_model, write_model
from bot.classify.model import DEFAULT_MODEL_PATH


def test_build_is_deterministic_and_committed_model_is_fresh(tmp_path: Path) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    write_model(first, build_model())
    write_model(second, build_model())
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() == DEFAULT_MODEL_PATH.read_bytes(), (
        "bot/classify/model.json is stale: run `python -m bot.classify.build`"
    )
    # The written file must load and agree with the in-memory model.
    assert Classifier.load(first).predict("нет воды").sector == Classifier.load().predict("нет воды").sector
