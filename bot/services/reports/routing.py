"""Which body takes a report: bodies and routing rules as data (bot/data/bodies.yaml, routing.yaml).

The YAML files are the seed; the lead stores the expanded rules in the database so that they stay
editable, and calls `route_report` with rules loaded from there. That is why routing works on plain
`RoutingRule` sequences and keeps no global state.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.core.config import REFERENCE_DATA_DIR

DATA_DIR = REFERENCE_DATA_DIR
BODIES_PATH = DATA_DIR / "bodies.yaml"
ROUTING_PATH = DATA_DIR / "routing.yaml"
MUNICIPALITIES_PATH = DATA_DIR / "municipalities.csv"
SECTORS_PATH = DATA_DIR / "sectors.yaml"

TRIAGE_BODY_ID = "tsur"
OTHER_SECTOR_ID = "other"
BODY_KINDS = frozenset({"tsur", "regional", "municipal", "organisation"})

# Sector defaults apply to any municipality; overrides are more specific and, within their
# specificity, win by priority. Rules may set their own priority to break ties deliberately.
DEFAULT_RULE_PRIORITY = 0
OVERRIDE_RULE_PRIORITY = 10
ANY_MUNICIPALITY = "*"
MUNICIPALITY_PLACEHOLDER = "{municipality}"


class RoutingConfigError(ValueError):
    """bodies.yaml or routing.yaml is inconsistent (unknown ids, bad shapes, duplicates)."""


@dataclass(frozen=True)
class BodySpec:
    """A body (орган / организация) that can take reports."""

    id: str
    name_ru: str
    name_en: str
    kind: str
    municipality_id: str | None


@dataclass(frozen=True)
class RoutingRule:
    """Reports of `sector_id` in `municipality_id` (None = any municipality) go to `body_id`."""

    sector_id: str
    municipality_id: str | None
    body_id: str
    priority: int


def _read_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _require_str(entry: Mapping[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise RoutingConfigError(f"{where}: '{key}' must be a non-empty string")
    return value.strip()


def load_bodies(path: Path | None = None) -> list[BodySpec]:
    """Read the bodies from bodies.yaml, checking ids are unique and municipal bodies name a municipality."""
    source = path or BODIES_PATH
    data = _read_yaml(source)
    entries = data.get("bodies") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise RoutingConfigError(f"{source}: expected a top-level 'bodies' list")
    bodies: list[BodySpec] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        where = f"{source.name}: body #{index + 1}"
        if not isinstance(entry, dict):
            raise RoutingConfigError(f"{where}: expected a mapping")
        body_id = _require_str(entry, "id", where)
        if body_id in seen:
            raise RoutingConfigError(f"{where}: duplicate body id {body_id!r}")
        seen.add(body_id)
        kind = _require_str(entry, "kind", where)
        if kind not in BODY_KINDS:
            raise RoutingConfigError(f"{where}: unknown kind {kind!r}")
        municipality_id = entry.get("municipality_id")
        if kind == "municipal" and not isinstance(municipality_id, str):
            raise RoutingConfigError(f"{where}: a municipal body needs municipality_id")
        bodies.append(
            BodySpec(
                id=body_id,
                name_ru=_require_str(entry, "name_ru", where),
                name_en=_require_str(entry, "name_en", where),
                kind=kind,
                municipality_id=municipality_id if isinstance(municipality_id, str) else None,
            )
        )
    if TRIAGE_BODY_ID not in seen:
        raise RoutingConfigError(f"{source}: the triage body {TRIAGE_BODY_ID!r} is missing")
    return bodies


def _default_municipality_ids() -> list[str]:
    # Read the ids straight from the CSV rather than through bot.geo, so routing does not depend on
    # the geo module (and its stemmer) just to validate ids.
    with MUNICIPALITIES_PATH.open(encoding="utf-8", newline="") as handle:
        return [row["id"] for row in csv.DictReader(handle)]


def _default_sector_ids() -> list[str]:
    data = _read_yaml(SECTORS_PATH)
    return [str(entry["id"]) for entry in data["sectors"]]


def _municipality_targets(value: Any, known: Sequence[str], where: str) -> list[str | None]:
    if value is None:
        return [None]
    if value == ANY_MUNICIPALITY:
        return list(known)
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise RoutingConfigError(f"{where}: municipality must be '*', an id or a list of ids")
    known_set = set(known)
    unknown = [name for name in names if name not in known_set]
    if unknown:
        raise RoutingConfigError(f"{where}: unknown municipality ids {unknown}")
    return list(names)


def load_routing_rules(
    path: Path | None = None,
    municipalities: Sequence[str] | None = None,
    bodies: Iterable[BodySpec | str] | None = None,
    sectors: Sequence[str] | None = None,
) -> list[RoutingRule]:
    """Read routing.yaml and expand its templates into concrete rules.

    `municipalities`, `bodies` (specs or plain ids) and `sectors` default to the shipped data files.
    Every body id, sector
    id and municipality id is validated; two rules for the same (sector, municipality, priority)
    pointing at different bodies are an error, because the winner would be arbitrary.
    """
    source = path or ROUTING_PATH
    municipality_ids = list(municipalities) if municipalities is not None else _default_municipality_ids()
    body_ids = {
        body if isinstance(body, str) else body.id
        for body in (bodies if bodies is not None else load_bodies())
    }
    sector_ids = set(sectors) if sectors is not None else set(_default_sector_ids())
    data = _read_yaml(source)
    if not isinstance(data, dict):
        raise RoutingConfigError(f"{source}: expected a mapping with 'defaults' and 'rules'")

    rules: list[RoutingRule] = []

    def add(sector_id: str, municipality_id: str | None, body_id: str, priority: int, where: str) -> None:
        if sector_id not in sector_ids:
            raise RoutingConfigError(f"{where}: unknown sector {sector_id!r}")
        if body_id not in body_ids:
            raise RoutingConfigError(f"{where}: unknown body {body_id!r}")
        rules.append(RoutingRule(sector_id, municipality_id, body_id, priority))

    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise RoutingConfigError(f"{source}: 'defaults' must map sector ids to body ids")
    for sector_id, body_id in defaults.items():
        if MUNICIPALITY_PLACEHOLDER in str(body_id):
            raise RoutingConfigError(f"{source}: default for {sector_id!r} cannot use a template")
        add(str(sector_id), None, str(body_id), DEFAULT_RULE_PRIORITY, f"{source.name}: defaults")

    entries = data.get("rules") or []
    if not isinstance(entries, list):
        raise RoutingConfigError(f"{source}: 'rules' must be a list")
    for index, entry in enumerate(entries):
        where = f"{source.name}: rule #{index + 1}"
        if not isinstance(entry, dict):
            raise RoutingConfigError(f"{where}: expected a mapping")
        sector_id = _require_str(entry, "sector", where)
        template = _require_str(entry, "body", where)
        priority = entry.get("priority", OVERRIDE_RULE_PRIORITY)
        if not isinstance(priority, int) or isinstance(priority, bool):
            raise RoutingConfigError(f"{where}: priority must be an integer")
        for municipality_id in _municipality_targets(entry.get("municipality"), municipality_ids, where):
            if MUNICIPALITY_PLACEHOLDER in template and municipality_id is None:
                raise RoutingConfigError(f"{where}: a body template needs a municipality")
            body_id = template.replace(MUNICIPALITY_PLACEHOLDER, municipality_id or "")
            add(sector_id, municipality_id, body_id, priority, where)

    _check_conflicts(rules, source)
    return rules


def _check_conflicts(rules: Sequence[RoutingRule], source: Path) -> None:
    chosen: dict[tuple[str, str | None, int], str] = {}
    for rule in rules:
        key = (rule.sector_id, rule.municipality_id, rule.priority)
        previous = chosen.setdefault(key, rule.body_id)
        if previous != rule.body_id:
            raise RoutingConfigError(
                f"{source.name}: {rule.sector_id}/{rule.municipality_id or 'any'} at priority "
                f"{rule.priority} goes to both {previous!r} and {rule.body_id!r}"
            )


class RoutingTable:
    """An index over routing rules: one dictionary lookup per route instead of a scan."""

    def __init__(self, rules: Iterable[RoutingRule]) -> None:
        """Index `rules`; on equal specificity and priority the rule listed first wins (stable)."""
        best: dict[tuple[str, str | None], RoutingRule] = {}
        for rule in rules:
            key = (rule.sector_id, rule.municipality_id)
            current = best.get(key)
            if current is None or rule.priority > current.priority:
                best[key] = rule
        self._best = {key: rule.body_id for key, rule in best.items()}

    def route(self, sector_id: str | None, municipality_id: str | None) -> str:
        """The body for a report; the ЦУР triage queue when nothing specific applies."""
        if not sector_id or sector_id == OTHER_SECTOR_ID:
            return TRIAGE_BODY_ID
        if municipality_id is not None:
            exact = self._best.get((sector_id, municipality_id))
            if exact is not None:
                return exact
        return self._best.get((sector_id, None), TRIAGE_BODY_ID)


def _higher(current: RoutingRule | None, candidate: RoutingRule) -> RoutingRule:
    # Strictly higher priority replaces: on a tie the rule listed first stays, as in RoutingTable.
    return candidate if current is None or candidate.priority > current.priority else current


def route_report(sector_id: str | None, municipality_id: str | None, rules: Sequence[RoutingRule]) -> str:
    """Pick the body for a report of `sector_id` in `municipality_id`.

    The most specific rule wins (an exact municipality over any municipality), then the higher
    priority. No sector, sector "other", or no matching rule routes to the ЦУР triage queue. For many
    routes over the same rules build a `RoutingTable` once instead.
    """
    if not sector_id or sector_id == OTHER_SECTOR_ID:
        return TRIAGE_BODY_ID
    exact: RoutingRule | None = None
    general: RoutingRule | None = None
    for rule in rules:
        if rule.sector_id != sector_id:
            continue
        if rule.municipality_id is None:
            general = _higher(general, rule)
        elif municipality_id is not None and rule.municipality_id == municipality_id:
            exact = _higher(exact, rule)
    chosen = exact or general
    return chosen.body_id if chosen is not None else TRIAGE_BODY_ID
