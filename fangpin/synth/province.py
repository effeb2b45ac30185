"""The configuration a synthetic province needs in its data home, written by the generator beside its files.

A province generated in parts is several prefectures (``population.relocate``); the pipeline learns them from the
home's ``config/divisions.csv``. Two configuration files follow from it, as a province's bureau would set them:
``rules.yaml`` with the monitoring line for the whole province (region ``45``) instead of for 柳州 alone, and
``linkage.yaml`` with the location-free blocking rule scoped by prefecture (its pairs would otherwise grow with the
square of the registry; see the rule's comment in the packaged file). Both are the packaged files with that one
change. The files written are listed in ``config/SYNTHETIC_PROVINCE.txt``; generating a single city into the home
later removes them again, and a configuration file the generator did not write is never replaced.
"""

from __future__ import annotations

import csv
from pathlib import Path

from fangpin.domain import divisions
from fangpin.settings import PACKAGED
from fangpin.synth import population as P

MARKER = "SYNTHETIC_PROVINCE.txt"
HEADER = "# Written by `fangpin generate` for a synthetic province (fangpin/synth/province.py): the packaged file, {}\n"
#: (packaged text, the province's text) of each rewritten line
RULES_REGION = ('\n  "4502":\n', '\n  "45":\n')
LINKAGE_RULE = (
    "- {name: birth_date_surname, keys: [birth_date, surname_py]}",
    "- {name: birth_date_surname, keys: [prefecture_code, birth_date, surname_py]}",
)


def _rewritten(name: str, change: tuple[str, str], why: str) -> str:
    text = (PACKAGED / name).read_text(encoding="utf-8")
    if text.count(change[0]) != 1:
        raise RuntimeError(f"fangpin/config/{name} no longer holds {change[0].strip()!r} once: update {__name__}")
    return HEADER.format(why) + text.replace(change[0], change[1])


def _written(config: Path) -> list[str]:
    marker = config / MARKER
    return marker.read_text(encoding="utf-8").split() if marker.is_file() else []


def write_config(root: Path, n_parts: int) -> list[Path]:
    """Write the province's divisions, rules and linkage configuration into ``<root>/config``; returns the paths.
    Refuses (ValueError) to replace a file of that name the generator did not write."""
    config = root / "config"
    config.mkdir(parents=True, exist_ok=True)
    ours = set(_written(config))
    files = {
        divisions.HOME_TABLE.name: None,
        "rules.yaml": _rewritten("rules.yaml", RULES_REGION, "with the 柳州 line (4502) as the province's (45)"),
        "linkage.yaml": _rewritten("linkage.yaml", LINKAGE_RULE, "with birth_date_surname scoped by prefecture"),
    }
    foreign = [n for n in files if (config / n).exists() and n not in ours]
    if foreign:
        raise ValueError(
            f"{config} already holds {', '.join(foreign)} not written by the generator; a synthetic province needs "
            f"its own (see fangpin/synth/province.py): move them away first"
        )
    (config / MARKER).write_text("\n".join(files) + "\n", encoding="utf-8")
    with open(config / divisions.HOME_TABLE.name, "w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(divisions.COLUMNS)
        out.writerows((t.county_code, t.county_name, t.code, t.name) for t in P.province_townships(n_parts))
    for name, text in files.items():
        if text is not None:
            (config / name).write_text(text, encoding="utf-8")
    return [config / n for n in files]


def clear_config(root: Path) -> list[Path]:
    """Remove what :func:`write_config` wrote into ``<root>/config`` (nothing when it wrote nothing)."""
    config = root / "config"
    removed = [config / n for n in _written(config) if (config / n).exists()]
    for path in removed:
        path.unlink()
    (config / MARKER).unlink(missing_ok=True)
    return removed
