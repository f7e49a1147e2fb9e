"""The test tree, enforced: tests live in three tiers by what they need, and share code only through
tests/harness.

- tests/unit: pure. No database (SQLite file, PostgreSQL, Redis), no subprocess, no HTTP server or
  socket: no database/Redis/port fixture, no import of `storage.db`, `sqlalchemy`, `subprocess`, the
  sandbox servers, or the harness drivers that need them.
- tests/integration: databases, state stores, the platform-free `Chat` driver, CLIs.
- tests/e2e: real aiogram / vkbottle against the sandbox servers, and `python -m bot run`.
- tests/faults: the bot as processes killed, cut off from its storage, fed duplicates and fuzz.

No module under tests/ imports a test module or a conftest.py; conftest.py files define fixtures
(and pytest hooks) only. The parsing is tests/harness/imports.py, as for the house plan.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import Path

from tests.harness.imports import discover, imports_of

ROOT = Path(__file__).resolve().parents[2]
TIERS = ("unit", "integration", "e2e", "faults")

# What a pure test may not touch: imported modules (and their submodules) ...
NOT_IN_UNIT = (
    "storage.db",
    "sqlalchemy",
    "alembic",
    "aiosqlite",
    "asyncpg",
    "redis",
    "subprocess",
    "socket",
    "aiohttp",
    "bot.sandbox",
    "tests.harness.chat",
    "tests.harness.citizens",
    "tests.harness.comms",
    "tests.harness.proxy",
    "tests.harness.receiver",
    "tests.harness.reports",
    "tests.harness.seeds",
    "tests.harness.stores",
    "tests.harness.telegram",
)
# ... and fixtures (tests/conftest.py and pytest-asyncio's ports).
FIXTURES_NOT_IN_UNIT = frozenset(
    {"database_url", "sqlite_url", "app_factory", "state_kind", "unused_tcp_port", "unused_tcp_port_factory"}
)


def _is_test_module(name: str) -> bool:
    last = name.rpartition(".")[2]
    return last == "conftest" or last.startswith("test_")


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _is_fixture(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Attribute) and target.attr == "fixture":
            return True
        if isinstance(target, ast.Name) and target.id == "fixture":
            return True
    return False


def _fixtures_requested(tree: ast.AST) -> list[tuple[int, str]]:
    """Fixture names a module asks for: parameters of its functions, and `usefixtures("…")`."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found += [(node.lineno, a.arg) for a in [*node.args.posonlyargs, *node.args.args]]
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr == "usefixtures":
                found += [
                    (node.lineno, a.value)
                    for a in node.args
                    if isinstance(a, ast.Constant) and isinstance(a.value, str)
                ]
    return found


def _conftest_problems(rel: str, tree: ast.Module) -> list[str]:
    problems = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if not (_is_fixture(node) or node.name.startswith("pytest_")):
                problems.append(
                    f"{rel}:{node.lineno} defines {node.name}, not a fixture (move it to tests/harness)"
                )
        elif isinstance(node, ast.ClassDef):
            problems.append(f"{rel}:{node.lineno} defines class {node.name} (move it to tests/harness)")
    return problems


def check_tiers(root: Path) -> list[str]:
    """Every breach of the rules above in the tree at `root` (its tests/ package)."""
    modules: Mapping[str, Path] = discover(root, ["tests"])
    problems: list[str] = []  # "path:line message" or "path message"
    for module, path in modules.items():
        rel = path.relative_to(root).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
        parts = module.split(".")
        tier = parts[1] if len(parts) > 2 and parts[1] in TIERS else None
        if path.name == "conftest.py":
            problems += _conftest_problems(rel, tree)
        elif path.name.startswith("test_") and tier is None:
            problems.append(f"{rel} is a test module outside tests/{{{','.join(TIERS)}}}")
        for imp in imports_of(module, path, root, modules):
            if _is_test_module(imp.target):
                problems.append(
                    f"{imp.path}:{imp.line} imports {imp.target} (share code through tests/harness)"
                )
            elif tier == "unit" and _under(imp.target, NOT_IN_UNIT):
                problems.append(f"{imp.path}:{imp.line} imports {imp.target} (not in the pure tier)")
        if tier == "unit":
            problems += [
                f"{rel}:{line} uses the fixture {name} (not in the pure tier)"
                for line, name in _fixtures_requested(tree)
                if name in FIXTURES_NOT_IN_UNIT
            ]
    return sorted(problems, key=_by_place)


def _by_place(problem: str) -> tuple[str, int, str]:
    place, _, rest = problem.partition(" ")
    path, _, line = place.partition(":")
    return path, int(line or 0), rest


def test_the_test_tree_keeps_its_tiers_and_shares_through_the_harness() -> None:
    assert check_tiers(ROOT) == []


# -- the checker checks itself -----------------------------------------------------------------------

CLEAN_TREE = {
    "tests/__init__.py": "",
    "tests/conftest.py": (
        "import pytest\nfrom tests.harness.settings import START\n\n"
        "@pytest.fixture\ndef clock():\n    return START\n\n"
        "def pytest_configure(config):\n    pass\n"
    ),
    "tests/harness/__init__.py": "",
    "tests/harness/settings.py": "START = 1\n",
    "tests/harness/stores.py": "import sqlalchemy\n",
    "tests/unit/__init__.py": "",
    "tests/unit/test_pure.py": (
        "from pathlib import Path\nfrom tests.harness.settings import START\n\n"
        "def test_pure(tmp_path: Path, clock) -> None:\n    assert START\n"
    ),
    "tests/integration/__init__.py": "",
    "tests/integration/test_db.py": (
        "import subprocess\nfrom sqlalchemy import select\nfrom tests.harness.stores import x\n\n"
        "async def test_db(database_url: str, app_factory) -> None:\n    pass\n"
    ),
    "tests/e2e/__init__.py": "",
    "tests/e2e/test_live.py": "from bot.sandbox.telegram import FakeTelegramServer\n\ndef helper(): ...\n",
}


def _plant(root: Path, files: Mapping[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def test_self_test_a_clean_test_tree_reports_nothing(tmp_path: Path) -> None:
    assert check_tiers(_plant(tmp_path, CLEAN_TREE)) == []


def test_self_test_planted_violations_are_reported(tmp_path: Path) -> None:
    planted = {
        **CLEAN_TREE,
        # a pure test reaching a database, a process and the sandbox, and another test module
        "tests/unit/test_pure.py": CLEAN_TREE["tests/unit/test_pure.py"]
        + "import subprocess\n"
        + "from sqlalchemy import select\n"
        + "from tests.harness.stores import x\n"
        + "from tests.e2e.test_live import helper\n"
        + "from tests.conftest import START\n"
        + "\nasync def test_db(sqlite_url: str) -> None:\n"
        + "    from bot.sandbox import telegram\n"
        + "    from storage.db import Database\n"
        + "\n@pytest.mark.usefixtures('database_url')\ndef test_marked() -> None: ...\n",
        # a test module importing conftest the bare way and a sibling the relative way
        "tests/integration/test_db.py": CLEAN_TREE["tests/integration/test_db.py"]
        + "import conftest\nfrom . import test_other\n",
        "tests/integration/test_other.py": "",
        # a helper hiding in conftest, and a test module outside the tiers
        "tests/conftest.py": CLEAN_TREE["tests/conftest.py"]
        + "\ndef make_thing():\n    return 1\n\nclass Chat: ...\n",
        "tests/harness/test_stray.py": "",
    }
    assert check_tiers(_plant(tmp_path, planted)) == [
        "tests/conftest.py:11 defines make_thing, not a fixture (move it to tests/harness)",
        "tests/conftest.py:14 defines class Chat (move it to tests/harness)",
        "tests/harness/test_stray.py is a test module outside tests/{unit,integration,e2e,faults}",
        "tests/integration/test_db.py:7 imports conftest (share code through tests/harness)",
        "tests/integration/test_db.py:8 imports tests.integration.test_other"
        " (share code through tests/harness)",
        "tests/unit/test_pure.py:6 imports subprocess (not in the pure tier)",
        "tests/unit/test_pure.py:7 imports sqlalchemy (not in the pure tier)",
        "tests/unit/test_pure.py:8 imports tests.harness.stores (not in the pure tier)",
        "tests/unit/test_pure.py:9 imports tests.e2e.test_live (share code through tests/harness)",
        "tests/unit/test_pure.py:10 imports tests.conftest (share code through tests/harness)",
        "tests/unit/test_pure.py:12 uses the fixture sqlite_url (not in the pure tier)",
        "tests/unit/test_pure.py:13 imports bot.sandbox (not in the pure tier)",
        "tests/unit/test_pure.py:14 imports storage.db (not in the pure tier)",
        "tests/unit/test_pure.py:16 uses the fixture database_url (not in the pure tier)",
    ]
