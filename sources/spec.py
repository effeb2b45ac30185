"""Feed specifications from ``fangpin/config/aliases.yaml``: header aliases, required columns, types, value synonyms.

Header matching (:func:`header_key`): NFKC (full-width → half-width, （元）→ (元)), no blanks, no ``*``/``:`` marks,
lower case. A header matches an alias exactly on that key; failing that, on the key without bracketed parts
("直接经济损失(元)" ~ "直接经济损失"), as long as that loose key points to a single field of the feed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from fangpin import settings
from fangpin.settings import ConfigError

TYPES = ("text", "id", "name", "code", "date", "amount", "int", "month", "bool", "yesno", "sex")

_BRACKETS = re.compile(r"\([^)]*\)|\[[^\]]*\]|【[^】]*】|〔[^〕]*〕|<[^>]*>|《[^》]*》")
_MARKS = "*:#※△▲★"
#: Aliases shown first when a clerk is told which column is missing (the everyday names).
_DISPLAY_FIRST = frozenset({"姓名", "证件号码", "个人自付", "结算日期"})


def header_key(text: object) -> str:
    """Normalised header text: NFKC, no blanks, no required/colon marks, lower case."""
    if text is None:
        return ""
    s = unicodedata.normalize("NFKC", str(text))
    s = "".join(s.split())
    s = s.strip(_MARKS)
    return s.lower()


def loose_key(key: str) -> str:
    """A header key without its bracketed parts (units, notes): '直接经济损失(元)' → '直接经济损失'."""
    return _BRACKETS.sub("", key)


@dataclass(frozen=True)
class FeedSpec:
    name: str  # spec name: registry, registry_village, medical, ...
    folder: str  # landing folder it reads
    table: str  # registry_person | village | dept_record
    label: str  # Chinese name for the clerk
    fields: dict[str, tuple[str, ...]]
    required: tuple[tuple[str, ...], ...]  # each entry: any one of these fields
    event_date: str | None
    event_date_optional: bool
    event_key: tuple[str, ...]
    head_only: bool
    values: dict[str, dict[str, tuple[str, ...]]]
    types: dict[str, str]
    exact: dict[str, str] = field(repr=False, default_factory=dict)  # header key → field
    loose: dict[str, str] = field(repr=False, default_factory=dict)  # loose key → field (unambiguous only)
    priority: dict[tuple[str, str], int] = field(repr=False, default_factory=dict)  # (field, key) → alias rank

    def type_of(self, f: str) -> str:
        return self.types.get(f, "text")

    def label_of(self, f: str) -> str:
        aliases = self.fields.get(f)
        return aliases[0] if aliases else f

    def match(self, header: object) -> tuple[str | None, int]:
        """(canonical field, alias rank) for one header cell, or (None, 0)."""
        k = header_key(header)
        if not k:
            return None, 0
        f = self.exact.get(k)
        if f is not None:
            return f, self.priority.get((f, k), 0)
        lk = loose_key(k)
        f = self.loose.get(lk)
        if f is not None:
            return f, self.priority.get((f, lk), 0) + 1000  # a loose match ranks after every exact alias
        return None, 0

    def missing_required(self, present: set[str]) -> list[tuple[str, ...]]:
        return [group for group in self.required if not any(f in present for f in group)]

    def required_label(self, group: tuple[str, ...]) -> str:
        """'姓名或证件号码', '个人自付（或合规自付、个人负担）' — a few aliases so a clerk recognises the column."""
        parts = []
        for f in group:
            aliases = sorted(self.fields.get(f, (f,))[:3], key=lambda a: a not in _DISPLAY_FIRST)
            parts.append(
                aliases[0] + (f"（或{'、'.join(aliases[1:])}）" if len(group) == 1 and len(aliases) > 1 else "")
            )
        return "或".join(parts)


@dataclass(frozen=True)
class AliasConfig:
    feeds: dict[str, FeedSpec]
    total_markers: tuple[str, ...]
    note_prefixes: tuple[str, ...]
    null_tokens: tuple[str, ...]
    path: str

    def specs_for_folder(self, folder: str) -> list[FeedSpec]:
        return [s for s in self.feeds.values() if s.folder == folder]


def _as_tuple(x: Any) -> tuple[str, ...]:
    if x is None:
        return ()
    if isinstance(x, (list, tuple)):
        return tuple(str(v) for v in x)
    return (str(x),)


def _build_spec(name: str, raw: dict[str, Any], types: dict[str, str], path: str) -> FeedSpec:
    fields_raw = raw.get("fields") or {}
    if not isinstance(fields_raw, dict) or not fields_raw:
        raise ConfigError(f"{path}: feeds.{name}.fields must map canonical fields to lists of header aliases")
    fields = {str(f): _as_tuple(a) for f, a in fields_raw.items()}
    exact: dict[str, str] = {}
    priority: dict[tuple[str, str], int] = {}
    loose_candidates: dict[str, set[str]] = {}
    loose_rank: dict[tuple[str, str], int] = {}
    for f, aliases in fields.items():
        if not aliases:
            raise ConfigError(f"{path}: feeds.{name}.fields.{f} has no alias")
        for rank, alias in enumerate(aliases):
            k = header_key(alias)
            other = exact.get(k)
            if other is not None and other != f:
                raise ConfigError(f"{path}: feeds.{name}: header alias '{alias}' is listed for both {other} and {f}")
            exact[k] = f
            priority.setdefault((f, k), rank)
            lk = loose_key(k)
            if lk:
                loose_candidates.setdefault(lk, set()).add(f)
                loose_rank.setdefault((f, lk), rank)
    loose = {lk: next(iter(fs)) for lk, fs in loose_candidates.items() if len(fs) == 1}
    for (f, lk), rank in loose_rank.items():
        if loose.get(lk) == f:
            priority.setdefault((f, lk), rank)
    required: list[tuple[str, ...]] = []
    for entry in raw.get("required") or []:
        group = _as_tuple(entry)
        for f in group:
            if f not in fields:
                raise ConfigError(f"{path}: feeds.{name}.required names '{f}', which has no aliases under fields")
        required.append(group)
    event_date = raw.get("event_date")
    if event_date is not None and event_date not in fields:
        raise ConfigError(f"{path}: feeds.{name}.event_date '{event_date}' has no aliases under fields")
    values: dict[str, dict[str, tuple[str, ...]]] = {}
    for f, mapping in (raw.get("values") or {}).items():
        values[str(f)] = {str(canon): _as_tuple(syn) for canon, syn in (mapping or {}).items()}
    for f, t in types.items():
        if t not in TYPES:
            raise ConfigError(f"{path}: types.{f} = '{t}' is not one of {', '.join(TYPES)}")
    return FeedSpec(
        name=name,
        folder=str(raw.get("folder") or name),
        table=str(raw.get("table") or ("registry_person" if name == "registry" else "dept_record")),
        label=str(raw.get("label") or name),
        fields=fields,
        required=tuple(required),
        event_date=event_date,
        event_date_optional=bool(raw.get("event_date_optional", False)),
        event_key=_as_tuple(raw.get("event_key")),
        head_only=bool(raw.get("head_only", False)),
        values=values,
        types=dict(types),
        exact=exact,
        loose=loose,
        priority=priority,
    )


@lru_cache(maxsize=16)
def _parse(path: str, mtime: float) -> AliasConfig:
    data = settings._load(path, mtime)
    feeds_raw = data.get("feeds") or {}
    if not isinstance(feeds_raw, dict) or not feeds_raw:
        raise ConfigError(f"{path}: 'feeds' must map feed names to their header aliases")
    types = {str(k): str(v) for k, v in (data.get("types") or {}).items()}
    feeds = {
        str(n): _build_spec(str(n), raw or {}, types, path)
        for n, raw in feeds_raw.items()
        if not str(n).startswith("_")
    }
    return AliasConfig(
        feeds=feeds,
        total_markers=_as_tuple(data.get("total_markers")) or ("合计", "小计", "总计"),
        note_prefixes=_as_tuple(data.get("note_prefixes")),
        null_tokens=tuple(t.lower() for t in _as_tuple(data.get("null_tokens"))),
        path=path,
    )


def load_config(home: Path | None = None) -> AliasConfig:
    """The alias configuration in force (``<home>/config/aliases.yaml`` overrides the packaged file)."""
    path = settings.config_path("aliases", home)
    if not path.exists():
        raise ConfigError(f"configuration file {path} is missing")
    return _parse(str(path), path.stat().st_mtime)
