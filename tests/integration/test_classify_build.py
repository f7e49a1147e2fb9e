"""The classifier build (half a minute to two of training): the committed model is what the files in
the repository build, byte for byte, so the build is reproducible and the file is fresh."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

from bot.classify import Classifier
from bot.classify.build import build_model, toolchain, write_model
from bot.classify.corpus import DEV_SET, read_labelled_csv
from bot.classify.model import DEFAULT_MODEL_PATH


def test_building_again_gives_the_committed_model_byte_for_byte(tmp_path: Path) -> None:
    rebuilt = tmp_path / "model.json"
    write_model(rebuilt, build_model())
    committed = json.loads(DEFAULT_MODEL_PATH.read_text(encoding="utf-8"))
    if committed["built_with"] == toolchain():
        assert rebuilt.read_bytes() == DEFAULT_MODEL_PATH.read_bytes(), (
            "bot/classify/model.json differs from a fresh build: run `make model`"
        )
        return
    # Another release of numpy, scikit-learn or the dictionaries may round a weight differently:
    # the same features must still give the same answers, and `make model` brings the file up to date.
    warnings.warn(f"model.json was built with {committed['built_with']}, this is {toolchain()}", stacklevel=1)
    fresh = json.loads(rebuilt.read_text(encoding="utf-8"))
    assert fresh["inputs"] == committed["inputs"]
    assert set(fresh["features"]) == set(committed["features"])
    old, new = Classifier(committed), Classifier(fresh)
    texts = [e.text for e in read_labelled_csv(DEV_SET)]
    same = sum(old.predict(t).sector == new.predict(t).sector for t in texts)
    assert same >= 0.99 * len(texts), f"only {same} of {len(texts)} dev texts keep their sector"
