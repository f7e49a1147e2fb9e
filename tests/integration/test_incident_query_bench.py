"""The duplicate-suggestion latency bench (bench/incident_query.py) runs end to end on a small SQLite
database and prints figures that parse and make sense."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
REPORTS = 3_000
QUERIES = 50
NUMBER = r"(\d+(?:\.\d+)?)"


def _figures(line: str) -> dict[str, float]:
    return {name: float(value) for name, value in re.findall(rf"(median|p95|p99|max) {NUMBER}", line)}


async def test_the_bench_prints_sane_latency_and_candidate_figures(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bench.db'}"
    bench = await asyncio.create_subprocess_exec(
        sys.executable,
        str(REPO_ROOT / "bench" / "incident_query.py"),
        "--database-url",
        url,
        "--reports",
        str(REPORTS),
        "--queries",
        str(QUERIES),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(bench.communicate(), timeout=60)
    printed = out.decode()
    assert bench.returncode == 0, err.decode()[-2000:]

    insert = re.search(rf"insert: {REPORTS} reports in {NUMBER} s .*parsed for (\d+) distinct", printed)
    assert insert is not None, printed
    assert 0 < float(insert.group(1)) < 30
    assert 0 < int(insert.group(2)) <= REPORTS  # parsed once per distinct address, not per report

    data = re.search(rf"ekaterinburg {NUMBER}% of reports; open (\d+) \({NUMBER}%\)", printed)
    assert data is not None, printed
    assert 25 < float(data.group(1)) < 50  # spread by population
    assert 5 < float(data.group(3)) < 15  # most reports are closed

    [overall] = [line for line in printed.splitlines() if line.startswith("similar_open:")]
    assert f"{QUERIES} queries" in overall
    latency = _figures(overall)
    assert set(latency) == {"median", "p95", "p99", "max"}
    assert 0 < latency["median"] <= latency["p95"] <= latency["p99"] <= latency["max"] < 5_000
    for kind in ("ekb street", "pin", "small town", "area sector"):
        assert re.search(rf"^  {kind} +\d+ queries +median", printed, re.MULTILINE), kind

    candidates = re.search(r"candidates per query: median (\d+) +p95 (\d+) +max (\d+)", printed)
    assert candidates is not None, printed
    median, p95, top = map(int, candidates.groups())
    assert 0 <= median <= p95 <= top <= 200  # CANDIDATE_LIMIT bounds what the query hands on

    # The plan shows the candidate query on an index of migration 0011, and SQLite is explained.
    assert re.search(r"USING (COVERING )?INDEX ix_reports_(place|street|cell)", printed), printed
    assert "sqlite: same migrations, same three indexes, same query" in printed
