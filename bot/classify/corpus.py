"""The classifier's inputs: sectors, seed reports, lexicons and stop words read from the repository
(Russian files and their `.en` companions), the held-out development set, and a hash of it all."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = PACKAGE_DIR / "data"
SECTORS_FILE = PACKAGE_DIR.parent / "data" / "sectors.yaml"
# Written apart from the seeds and frozen: reported on, never trained on or tuned by.
DEV_SET = DATA_DIR / "dev" / "messages.csv"
# Every data file may have per-language companions: `roads.txt` (Russian), `roads.en.txt` (English).
LANGUAGE_SUFFIXES = ("", ".en")
# Files whose change changes the model: the hash of them is stored in it (see `inputs_digest`).
CODE_INPUTS = ("words.py", "noise.py", "corpus.py", "build.py")


@dataclass(frozen=True)
class Labelled:
    """One training or evaluation text with its sector, weight and origin."""

    text: str
    sector: str
    weight: float = 1.0
    kind: str = "seed"  # seed | lexicon | correction


def read_lines(path: Path) -> list[str]:
    """Non-empty lines of a UTF-8 data file, without comments (lines starting with #)."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            lines.append(stripped)
    return lines


def language_files(directory: Path, name: str) -> list[Path]:
    """Existing files of one data set in all languages: `<name>.txt`, then `<name>.en.txt`."""
    paths = [directory / f"{name}{suffix}.txt" for suffix in LANGUAGE_SUFFIXES]
    return [path for path in paths if path.exists()]


def read_language_lines(directory: Path, name: str) -> list[str]:
    """Lines of a data set over all its language files (see `read_lines`)."""
    return [line for path in language_files(directory, name) for line in read_lines(path)]


def read_sectors(path: Path = SECTORS_FILE) -> list[str]:
    """Sector ids in the order of sectors.yaml."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    sectors = [str(entry["id"]) for entry in data["sectors"]]
    if len(set(sectors)) != len(sectors) or not sectors:
        raise ValueError(f"{path}: sector ids must be unique and non-empty")
    return sectors


def load_stopwords(data_dir: Path = DATA_DIR) -> frozenset[str]:
    """Words with no sector signal, lower case, ё written as е."""
    return frozenset(w.lower().replace("ё", "е") for w in read_language_lines(data_dir, "stopwords"))


def seed_corpus(
    sectors: Sequence[str], data_dir: Path = DATA_DIR, lexicon_weight: float = 0.5
) -> list[Labelled]:
    """Seed reports of every sector, then its lexicon entries as short, lighter examples."""
    examples: list[Labelled] = []
    for sector in sectors:
        seeds = read_language_lines(data_dir / "seed", sector)
        if not seeds:
            raise ValueError(f"sector {sector!r} has no seed reports in {data_dir / 'seed'}")
        examples += [Labelled(text, sector) for text in seeds]
        examples += [
            Labelled(text, sector, lexicon_weight, "lexicon")
            for text in read_language_lines(data_dir / "lexicon", sector)
        ]
    return examples


def read_labelled_csv(path: Path, text_column: str = "text", label_column: str = "sector") -> list[Labelled]:
    """Rows of a labelled CSV (the development set, or any set given to the bench)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [
            Labelled(row.get(text_column) or "", (row.get(label_column) or "").strip(), kind="eval")
            for row in csv.DictReader(handle)
        ]


def inputs_digest(data_dir: Path = DATA_DIR, sectors_file: Path = SECTORS_FILE) -> str:
    """SHA-256 of every file the model is built from (data, sectors, the build's own code)."""
    digest = hashlib.sha256()
    files = [
        *sorted((data_dir / "seed").glob("*.txt")),
        *sorted((data_dir / "lexicon").glob("*.txt")),
        *sorted(data_dir.glob("stopwords*.txt")),
        sectors_file,
        *(PACKAGE_DIR / name for name in CODE_INPUTS),
    ]
    for path in files:
        digest.update(
            path.relative_to(PACKAGE_DIR.parent).as_posix().encode() + b"\0" + path.read_bytes() + b"\0"
        )
    return digest.hexdigest()
