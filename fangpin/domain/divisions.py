"""The divisions the pipeline serves — its counties and townships — and name matching helpers.

By default they are Liuzhou's real divisions (reference/liuzhou_townships.csv, 2023 统计用区划代码). A data home
serving other or more divisions — another prefecture, or a province of several — puts a table of the same columns
(county_code, county_name, township_code, township_name) in ``<home>/config/divisions.csv``: it replaces the packaged
table for every process whose ``FANGPIN_HOME`` is that home (the command line and the Dagster resources set it).
The prefecture (地级市) of a county is the first four digits of its code.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

REFERENCE = Path(__file__).resolve().parent.parent / "reference" / "liuzhou_townships.csv"
#: a data home's own divisions table (see the module docstring)
HOME_TABLE = Path("config") / "divisions.csv"
COLUMNS = ("county_code", "county_name", "township_code", "township_name")
#: the packaged reference's prefecture; a home's table may name others (:func:`city_codes`)
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


class DivisionsError(RuntimeError):
    """A home's divisions table is unreadable or malformed; the message names the file, the row and the fix."""


def table_path(home: str | os.PathLike | None = None) -> Path:
    """The divisions table in force for ``home`` (default ``$FANGPIN_HOME``): its ``config/divisions.csv`` when that
    file exists, else the packaged reference."""
    home = home or os.environ.get("FANGPIN_HOME")
    if home:
        own = Path(home).expanduser() / HOME_TABLE
        if own.is_file():
            return own.resolve()
    return REFERENCE


def townships() -> tuple[Township, ...]:
    """Every township of the divisions in force (:func:`table_path`)."""
    path = table_path()
    return _read(str(path), path.stat().st_mtime)


def check(home: str | os.PathLike | None = None) -> Path:
    """Read the divisions table in force for ``home`` (DivisionsError when it is malformed); returns its path."""
    path = table_path(home)
    _read(str(path), path.stat().st_mtime)
    return path


def reference_townships() -> tuple[Township, ...]:
    """Liuzhou's real townships (the packaged reference), whatever the home: what the synthetic city is made of."""
    return _read(str(REFERENCE), REFERENCE.stat().st_mtime)


@lru_cache(maxsize=8)
def _read(path: str, mtime: float) -> tuple[Township, ...]:
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
            if missing:
                raise DivisionsError(f"区划表 {path}: 缺少列 {', '.join(missing)}（需要 {', '.join(COLUMNS)}）")
            rows = [tuple((r[c] or "").strip() for c in COLUMNS) for r in reader]
    except UnicodeDecodeError:
        raise DivisionsError(f"区划表 {path}: 文件不是 UTF-8 编码，请以 UTF-8 保存") from None
    out = []
    town_line: dict[str, int] = {}
    county_first: dict[str, tuple[str, int]] = {}
    for line, (county, county_name, town, town_name) in enumerate(rows, start=2):
        if not (re.fullmatch(r"\d{6}", county) and re.fullmatch(r"\d{9}", town) and town.startswith(county)):
            raise DivisionsError(
                f"区划表 {path} 第 {line} 行: 县级代码须为 6 位数字、乡镇代码须为以县级代码开头的 9 位数字"
                f"（{county!r}, {town!r}）"
            )
        if not (county_name and town_name):
            raise DivisionsError(f"区划表 {path} 第 {line} 行: 县名和乡镇名不能为空")
        if town in town_line:
            raise DivisionsError(f"区划表 {path} 第 {line} 行: 乡镇代码 {town} 与第 {town_line[town]} 行重复")
        name, first = county_first.setdefault(county, (county_name, line))
        if name != county_name:
            raise DivisionsError(
                f"区划表 {path} 第 {line} 行: 县级代码 {county} 的县名“{county_name}”与第 {first} 行的“{name}”不一致"
            )
        town_line[town] = line
        out.append(Township(county, county_name, town, town_name))
    if not out:
        raise DivisionsError(f"区划表 {path}: 没有任何乡镇")
    return tuple(out)


def counties() -> dict[str, str]:
    """county code → name, current codes only."""
    return _counties(townships())


@lru_cache(maxsize=8)
def _counties(towns: tuple[Township, ...]) -> dict[str, str]:
    return {t.county_code: t.county_name for t in towns}


def county_name(code: str | None, fallback: str | None = None) -> str:
    """A county's name as people read it: from the divisions in force, else ``fallback`` (the name the data carried),
    else 县别代码<code> / 县别不详."""
    served = counties()
    if code and code in served:
        return served[code]
    return fallback or (f"县别代码{code}" if code else "县别不详")


def county_label(code: str | None, fallback: str | None = None) -> str:
    """How a county is named where a name must stand for one county — the file and folder names published for it,
    its Dagster partition key: its name, or ``<name>_<code>`` when the name is also another county's (a province may
    have several 城区). Decided from the divisions alone, so a full round and a one-county rerun name a county's
    files alike and one county's list never replaces another's."""
    name = county_name(code, fallback)
    others = [c for c, n in counties().items() if n == name and c != code]
    return f"{name}_{code or '县别不详'}" if others else name


def county_in_file_name(file_name: str) -> str | None:
    """The county a file name names, when it names exactly one: by its 6-digit code (``…_城区_140302.xlsx``), else
    by a name — full or short — that no other county shares (疑似风险户清单_融水苗族自治县.xlsx)."""
    served = counties()
    codes = {c for c in re.findall(r"(?<!\d)(\d{6})(?!\d)", file_name) if c in served}
    if len(codes) == 1:
        return codes.pop()
    found = set()
    for code, name in served.items():
        short = short_name(name)
        if name in file_name or (len(short) >= 2 and short in file_name):
            found.add(code)
    return found.pop() if len(found) == 1 else None


def city_codes() -> tuple[str, ...]:
    """The prefectures (4-digit codes) of the divisions in force: ('4502',) for Liuzhou, several for a province."""
    return tuple(sorted({code[:4] for code in counties()}))


def one_prefecture() -> bool:
    """Whether the divisions in force are one prefecture's (a city's home) rather than several (a province's)."""
    return len(city_codes()) == 1


def whole_area() -> tuple[str, str]:
    """The row that totals every county served, as (label, code): 全市合计 and the prefecture's code (450200) for
    one prefecture; 合计 and the province's code (450000) for several — not 全省合计, for the reasons of
    :func:`area_word`."""
    first = city_codes()[0]
    return ("全市合计", first + "00") if one_prefecture() else ("合计", first[:2] + "0000")


def area_word() -> str:
    """How texts for people name the area served: 本市 for one prefecture, 本地区 for several. Not 本省: the
    prefectures served need not be all of the province (a pilot of a few cities), and Guangxi is a region (区), so a
    Nanning ID in a home serving Liuzhou and Wuzhou would read 广西南宁市（非本省）."""
    return "本市" if one_prefecture() else "本地区"


def city_name(code: str) -> str:
    """The name of a prefecture of Guangxi by its 4-digit code (the code itself when unknown)."""
    return GUANGXI_CITY_NAMES.get(code[:4], code[:4])


def valid_address_codes() -> set[str]:
    """Every 6-digit code a resident's ID may legitimately start with (current and historic)."""
    own = {c + suffix for c in city_codes() for suffix in ("00", "01")}
    return set(counties()) | set(HISTORIC_COUNTY_CODES) | own


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


#: Province-level divisions by the first two digits of an address (ID-number) code (GB/T 2260).
PROVINCE_NAMES = {
    "11": "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "内蒙古自治区", "21": "辽宁省", "22": "吉林省",
    "23": "黑龙江省", "31": "上海市", "32": "江苏省", "33": "浙江省", "34": "安徽省", "35": "福建省", "36": "江西省",
    "37": "山东省", "41": "河南省", "42": "湖北省", "43": "湖南省", "44": "广东省", "45": "广西壮族自治区",
    "46": "海南省", "50": "重庆市", "51": "四川省", "52": "贵州省", "53": "云南省", "54": "西藏自治区", "61": "陕西省",
    "62": "甘肃省", "63": "青海省", "64": "宁夏回族自治区", "65": "新疆维吾尔自治区", "71": "台湾省",
    "81": "香港特别行政区", "82": "澳门特别行政区",
}  # fmt: skip
#: Guangxi's prefecture-level cities by the first four digits.
GUANGXI_CITY_NAMES = {
    "4501": "南宁市", "4502": "柳州市", "4503": "桂林市", "4504": "梧州市", "4505": "北海市", "4506": "防城港市",
    "4507": "钦州市", "4508": "贵港市", "4509": "玉林市", "4510": "百色市", "4511": "贺州市", "4512": "河池市",
    "4513": "来宾市", "4514": "崇左市",
}  # fmt: skip


def region_names() -> dict[str, str]:
    """Address-code prefixes → the place an ID number was issued in, as a person reads it: a province (2 digits),
    a Guangxi city (4 digits, 广西南宁市), a county served (6 digits, 柳州市融水苗族自治县; historic
    codes under their current name)."""
    out = dict(PROVINCE_NAMES)
    out |= {code: "广西" + name for code, name in GUANGXI_CITY_NAMES.items()}
    county_names = counties()
    out |= {code: city_name(code) + name for code, name in county_names.items()}
    out |= {
        old: city_name(new) + county_names[new] for old, new in HISTORIC_COUNTY_CODES.items() if new in county_names
    }
    return out
