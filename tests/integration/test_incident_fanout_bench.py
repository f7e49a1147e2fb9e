"""The incident fan-out bench (issue #16) as a process, small: every reporter on both platforms
gets the confirmed answer once, within the rates counted at the fake servers."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def figure(printed: str, pattern: str) -> re.Match[str]:
    found = re.search(pattern, printed)
    assert found, f"{pattern!r} not in:\n{printed}"
    return found


async def test_forty_reporters_answered_once_within_the_rates() -> None:
    bench = await asyncio.create_subprocess_exec(
        sys.executable,
        str(REPO_ROOT / "bench" / "incident_fanout.py"),
        "--reporters",
        "40",
        "--within",
        "20",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(bench.communicate(), timeout=60)
    except TimeoutError:
        bench.kill()
        await bench.wait()
        raise
    printed = out.decode()
    assert bench.returncode == 0, printed
    assert "answered: Telegram 20/20, VK 20/20" in printed
    assert "answered total: 40/40" in printed
    assert figure(printed, r"duplicates: (\d+) ").group(1) == "0"
    busiest = figure(printed, r"busiest second to citizens: (\d+) \(limit (\d+)\)")
    assert 0 < int(busiest.group(1)) <= int(busiest.group(2))
    assert int(figure(printed, r"one chat: (\d+)").group(1)) <= 3
    vk = figure(printed, r"VK max_rps: (\d+) \(limit (\d+)\); error 6 answers: (\d+)")
    assert 0 < int(vk.group(1)) <= int(vk.group(2)) and vk.group(3) == "0"
    seconds = float(figure(printed, r"confirmation to last answer: ([\d.]+) s").group(1))
    assert 0 < seconds < 20
    assert "result: OK" in printed
