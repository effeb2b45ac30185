"""Configuration files: what a bureau changes by year or region lives here, not in code.

Packaged defaults sit in ``fangpin/config/*.yaml``. A data home may override any of them by placing a file
of the same name in ``<home>/config/`` (whole-file override: what you see in that file is what applies).

Every file is checked against its schema (``fangpin.config_schema.SCHEMAS``) when it is read, whoever reads it: a
wrong value is a :class:`ConfigError` of one line naming the file, the key and what is expected, never a round that
runs on it. :func:`check_all` checks every file in force at once (what the command line does before a run).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from fangpin import config_schema

PACKAGED = Path(__file__).parent / "config"


class ConfigError(RuntimeError):
    """A configuration value is missing or malformed. The message names the file and key, and the fix."""


@lru_cache(maxsize=64)
def _load(path: str, mtime: float) -> dict[str, Any]:
    """The parsed, schema-checked file (cached per path and modification time; errors are not cached)."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except yaml.YAMLError as exc:
        raise ConfigError(f"配置错误 {path}: {_yaml_problem(exc)}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"配置错误 {path}: 文件不是 UTF-8 编码，请以 UTF-8 保存") from None
    data = {} if data is None else data
    try:
        if not isinstance(data, dict):
            raise config_schema.Invalid("", "一个映射（key: value）", data)
        config_schema.validate(Path(path).stem, data)
    except config_schema.Invalid as bad:
        raise ConfigError(f"配置错误 {path}: {bad.line()}") from None
    return data


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """PyYAML's error as one line: where (1-based line and column) and what."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    where = f"第 {mark.line + 1} 行第 {mark.column + 1} 列" if mark is not None else ""
    what = f"{context}, {problem}" if context else problem
    return f"{where} YAML 语法错误（{what}），请检查这一行及上一行的缩进、冒号和引号".strip()


def config_path(name: str, home: Path | None = None) -> Path:
    if home is not None:
        override = Path(home) / "config" / f"{name}.yaml"
        if override.exists():
            return override
    return PACKAGED / f"{name}.yaml"


def load(name: str, home: Path | None = None) -> dict[str, Any]:
    path = config_path(name, home)
    if not path.exists():
        raise ConfigError(f"configuration file {path} is missing")
    return _load(str(path), path.stat().st_mtime)


def check_all(home: Path | None = None) -> list[Path]:
    """Load every configuration file in force for ``home`` (packaged, or its override) — each checked against its
    schema — and return their paths. Raises the first :class:`ConfigError`."""
    names = {p.stem for p in PACKAGED.glob("*.yaml")}
    if home is not None and (Path(home) / "config").is_dir():
        names |= {p.stem for p in (Path(home) / "config").glob("*.yaml")}
    paths = []
    for name in sorted(names):
        load(name, home)
        paths.append(config_path(name, home))
    return paths


def rules_for(region: str, year: int, home: Path | None = None) -> dict[str, Any]:
    """Thresholds for a region (city code like '4502' or county code like '450225') and a year.

    Lookup order: the county's own entry, then its city's, then its province's (2-digit code: one line for a
    province's prefectures), each merged over the file's ``defaults``.
    A missing monitoring line is an error that names the missing key: never a silent default (SPEC §6).
    """
    cfg = load("rules", home)
    path = config_path("rules", home)
    regions = cfg.get("regions") or {}
    defaults = dict(cfg.get("defaults") or {})
    candidates = [str(region)]
    if len(str(region)) == 6:
        candidates.append(str(region)[:4])
    if len(str(region)) >= 4:
        candidates.append(str(region)[:2])
    for code in candidates:
        years = regions.get(code)
        if years is None and code.isdigit():
            years = regions.get(int(code))
        if not years:
            continue
        entry = years.get(year) or years.get(str(year))
        if entry is None:
            continue
        merged = {**defaults, **entry}
        if merged.get("monitoring_line") is None:
            raise ConfigError(
                f"{path}: regions.{code}.{year}.monitoring_line is not set; add the year's monitoring line"
            )
        merged["region"] = code
        merged["year"] = year
        return merged
    wanted = next((c for c in candidates if len(c) == 4), candidates[0])  # the city's entry, as a bureau keeps it
    raise ConfigError(
        f"{path}: no monitoring line for region {region} in {year} "
        f"(looked for {', '.join(f'regions.{c}.{year}' for c in candidates)}); "
        f"add regions.{wanted}.{year}.monitoring_line and the year's other values for this region"
    )
