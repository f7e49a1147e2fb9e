"""The classifier build (a minute or two of training): the committed model is what the files in the
repository build, byte for byte, so the build is reproducible and the file is fresh."""

from __future__ import annotations

from pathlib import Path

from bot.classify import Classifier
from bot.classify.build import build_model, write_model
from bot.classify.model import DEFAULT_MODEL_PATH


def test_building_again_gives_the_committed_model_byte_for_byte(tmp_path: Path) -> None:
    rebuilt = tmp_path / "model.json"
    write_model(rebuilt, build_model())
    assert rebuilt.read_bytes() == DEFAULT_MODEL_PATH.read_bytes(), (
        "bot/classify/model.json differs from a fresh build: run `make model`"
    )
    assert Classifier.load(rebuilt).predict("нет воды").sector == Classifier.load().predict("нет воды").sector
