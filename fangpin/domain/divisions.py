"""Liuzhou's real divisions (reference/liuzhou_townships.csv, 2023 统计用区划代码) and name matching helpers."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

REFERENCE = Path(__file__).resolve().parent.parent / "reference" / "liuzhou_townships.csv"
CITY_CODE = "4502"
CITY_NAME = "柳州市"
PROVINCE_NAME = "广西壮族自治区"

#: Address codes no longer current but still printed in older ID numbers (GB/T 2260 history).
#: 柳江县 (450221) became 柳江区 (450206) in 2016; 柳州市郊区 (450211) was merged into the city districts in 2002.
HISTORIC_COUNTY_CODES = {"450221": "450206", "450211": "450205"}


@dataclass(frozen=True)
class Township:
    county_code: str
    county_name: str
    code: str
    name: str


@lru_cache(maxsize=1)
def townships() -> tuple[Township, ...]:
    with open(REFERENCE, encoding="utf-8") as fh:
        return tuple(
            Township(r["county_code"], r["county_name"], r["township_code"], r["township_name"])
            for r in csv.DictReader(fh)
        )


@lru_cache(maxsize=1)
def counties() -> dict[str, str]:
    """county code → name, current codes only."""
    return {t.county_code: t.county_name for t in townships()}


def valid_address_codes() -> set[str]:
    """Every 6-digit code a Liuzhou resident's ID may legitimately start with (current and historic)."""
    return set(counties()) | set(HISTORIC_COUNTY_CODES) | {"450201", "450200"}


def current_county_code(address6: str) -> str | None:
    if address6 in counties():
        return address6
    return HISTORIC_COUNTY_CODES.get(address6)


_SUFFIXES = (
    "苗族自治县",
    "侗族自治县",
    "瑶族自治县",
    "自治县",
    "街道",
    "村民委员会",
    "村委会",
    "居委会",
    "社区",
    "县",
    "区",
    "镇",
    "乡",
    "村",
)
_ETHNIC_TOWNSHIP = re.compile(r"(仫佬族|苗族|瑶族|侗族|壮族)(乡|镇)$")


def short_name(name: str | None) -> str:
    """A division name without its administrative suffix, for tolerant comparison.

    '融水苗族自治县' → '融水', '同练瑶族乡' → '同练', '某某村委会' → '某某', '某某村' → '某某'.
    """
    if not name:
        return ""
    n = "".join(str(name).split())
    n = _ETHNIC_TOWNSHIP.sub("", n)
    for suf in _SUFFIXES:
        if n.endswith(suf) and len(n) > len(suf) + 1:
            return n[: -len(suf)]
    return n
