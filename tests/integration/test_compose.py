"""compose.yaml is not run by CI (no container engine here): this checks what can be checked.

Every bot service's command must be a valid `python -m bot run …` of this version, the roles
must add up to a working deployment (something receives, something processes), and the edge
must point at the receivers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.__main__ import _parser

ROOT = Path(__file__).resolve().parents[2]


def services() -> dict[str, Any]:
    document = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    return dict(document["services"])


def bot_commands() -> dict[str, list[str]]:
    commands = {}
    for name, service in services().items():
        command = service.get("command")
        if isinstance(command, list) and command[:3] == ["python", "-m", "bot"]:
            commands[name] = [str(part) for part in command[3:]]
    return commands


def test_every_bot_service_runs_a_valid_command_of_this_version() -> None:
    commands = bot_commands()
    assert set(commands) == {"web", "worker"}
    for name, argv in commands.items():
        args = _parser().parse_args(argv)  # exits (SystemExit) on an unknown option or role
        assert args.command == "run", name
        assert args.webhook, f"{name}: the compose deployment receives updates by webhook"


def test_the_roles_add_up_receivers_behind_one_edge_and_a_worker() -> None:
    roles = {name: _parser().parse_args(argv).role for name, argv in bot_commands().items()}
    assert roles == {"web": "web", "worker": "worker"}
    web = services()["web"]
    assert web["deploy"]["replicas"] >= 2
    assert "ports" not in web, "the receivers are reached through the edge only"
    edge = services()["edge"]
    assert edge["ports"] == ["8080:8080"]
    mounted = [v.split(":")[0] for v in edge["volumes"]]
    nginx = (ROOT / mounted[0]).read_text(encoding="utf-8")
    assert "server web:8080" in nginx
    # Both bot services share PostgreSQL and Redis: several processes need them (not SQLite).
    for name in ("web", "worker"):
        env = services()[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgresql") and env["REDIS_URL"].startswith("redis://")
