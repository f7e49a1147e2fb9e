"""A process picks a retrained model up without restart: the classifier dialogs hold is swapped in
place when MODEL_PATH changes, and MODEL_PATH appearing later is noticed too."""

from __future__ import annotations

import json
import os
from pathlib import Path

from bot.classify.model import DEFAULT_MODEL_PATH, ModelFile

TEXT = "огромная яма на проезжей части"


def _model_preferring(sector: str) -> str:
    model = json.loads(DEFAULT_MODEL_PATH.read_text(encoding="utf-8"))
    model["intercept"] = [100.0 if s == sector else 0.0 for s in model["sectors"]]
    return json.dumps(model)


def test_a_changed_model_file_is_swapped_in_place(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    files = ModelFile(path)  # not there yet: the committed seed model runs
    held = files.classifier
    assert files.path == DEFAULT_MODEL_PATH and held.predict(TEXT).sector == "roads"
    assert files.refresh() is False

    path.write_text(_model_preferring("health"), encoding="utf-8")
    assert files.refresh() is True
    assert files.path == path and held.predict(TEXT).sector == "health"
    assert files.refresh() is False

    path.write_text(_model_preferring("waste"), encoding="utf-8")
    os.utime(path, ns=(1, 1))  # a new file even if the clock did not move
    assert files.refresh() is True
    assert held.predict(TEXT).sector == "waste"
