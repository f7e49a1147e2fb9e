"""Every import a Python file makes, found with `ast` without importing it: at module level, inside
functions, under `if TYPE_CHECKING:` and in `importlib.import_module("…")` / `__import__("…")`
calls with a literal name. The house plan (tests/unit/test_house.py) and the test-tier check
(tests/unit/test_test_tiers.py) both read the tree through it."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# Generated or data: skipped by every check.
SKIPPED = ("storage/migrations/versions",)


@dataclass(frozen=True)
class Import:
    path: str  # relative to the root, with slashes
    line: int
    source: str  # the importing module
    target: str  # the imported module (a submodule when `from package import submodule`)


def discover(root: Path, tops: Sequence[str]) -> dict[str, Path]:
    """Every module under the given top-level packages, by dotted name."""
    modules: dict[str, Path] = {}
    for top in tops:
        for path in sorted((root / top).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            if "__pycache__" in rel or rel.startswith(SKIPPED):
                continue
            parts = rel.removesuffix(".py").split("/")
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _resolve_relative(name: str | None, level: int, package: str) -> str:
    if level == 0:
        return name or ""
    parts = package.split(".") if package else []
    base = parts[: len(parts) - (level - 1)] if level > 1 else parts
    return ".".join([*base, name] if name else base)


def _literal_import_call(node: ast.Call, package: str) -> str | None:
    func = node.func
    called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    if called not in {"import_module", "__import__"} or not node.args:
        return None
    first = node.args[0]
    if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
        return None
    name = first.value
    if name.startswith(".") and called == "import_module":
        anchor = node.args[1] if len(node.args) > 1 else None
        if isinstance(anchor, ast.Constant) and isinstance(anchor.value, str):
            package = anchor.value
        level = len(name) - len(name.lstrip("."))
        return _resolve_relative(name.lstrip(".") or None, level, package)
    return name


def imports_of(module: str, path: Path, root: Path, modules: Mapping[str, Path]) -> Iterator[Import]:
    """Every import the file makes, wherever it stands (module level, functions, TYPE_CHECKING)."""
    rel = path.relative_to(root).as_posix()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(rel, node.lineno, module, alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve_relative(node.module, node.level, package)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                yield Import(rel, node.lineno, module, submodule if submodule in modules else base)
        elif isinstance(node, ast.Call) and (target := _literal_import_call(node, package)):
            yield Import(rel, node.lineno, module, target)


def known_module(name: str, modules: Mapping[str, Path]) -> str | None:
    """The module file an import name lands in: itself, or the nearest package above it."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None
