"""Configuration files: what a bureau changes by year or region lives here, not in code.

Packaged defaults sit in ``fangpin/config/*.yaml``. A data home may override any of them by placing a file
of the same name in ``<home>/config/`` (whole-file override: what you see in that file is what applies).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

PACKAGED = Path(__file__).parent / "config"


class ConfigError(RuntimeError):
    """A configuration value is missing or malformed. The message names the file and key, and the fix."""


@lru_cache(maxsize=64)
def _load(path: str, mtime: float) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping")
    return data


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


def rules_for(region: str, year: int, home: Path | None = None) -> dict[str, Any]:
    """Thresholds for a region (city code like '4502' or county code like '450225') and a year.

    Lookup order: the county's own entry, then its city's, each merged over the file's ``defaults``.
    A missing monitoring line is an error that names the missing key: never a silent default (SPEC §6).
    """
    cfg = load("rules", home)
    path = config_path("rules", home)
    regions = cfg.get("regions") or {}
    defaults = dict(cfg.get("defaults") or {})
    candidates = [str(region)]
    if len(str(region)) == 6:
        candidates.append(str(region)[:4])
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
    raise ConfigError(
        f"{path}: no monitoring line for region {region} in {year} "
        f"(looked for regions.{'/'.join(candidates)}.{year}.monitoring_line); "
        f"add the year's values for this region to the rules configuration"
    )
