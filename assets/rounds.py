"""Round parameters shared by the screening and publishing assets: the partitions (quarter × county) and the run
config, and how a run's partition keys and config become the rounds it screens.

Partitions (docs/DECISIONS.md, "Rounds and partitions"): ``round_partitions`` = quarter × county, with keys an analyst
reads as they are: ``融水苗族自治县|2026Q4`` is 融水 in round 2026Q4 (Dagster joins the dimensions in the order of their
names: county, then quarter). The quarter keys are the quarterly round ids, ``2025Q1`` up to the fourth quarter of
next year (a static list computed when the code location loads: Dagster's time-window partitions can only format
dates, and ``2026-10-01`` is not what a bureau calls a round). The county keys are the official names of the 10
county-level units of 柳州市. A run over several partitions is ONE run (``BackfillPolicy.single_run``): the asset gets
all keys and screens each quarter once, for all its counties together.

Every run of the screening assets names its partitions: Dagster cannot run partitioned assets without a partition
(a launchpad launch confirmed without one fails with a message saying to choose a partition). The run config adds
what partitions cannot say: the kind, the push date and an ad-hoc round id of the partition's quarter.

No ``from __future__ import annotations`` here: Dagster inspects the config annotations at runtime.
"""

import datetime as dt
import warnings
from dataclasses import dataclass

import dagster as dg
from pydantic import Field

from fangpin.domain import divisions
from fangpin.domain.rounds import KIND_NAMES, KINDS, RoundInfo, parse_round

# BackfillPolicy.single_run() is "beta" in Dagster 1.13 (it works: tests/test_rounds_partitions.py); the warning is
# for us, not for the analyst reading the command line's output.
warnings.filterwarnings("ignore", category=dg.BetaWarning, message=r".*backfill_policy.*")

FIRST_QUARTER = "2025Q1"
TIMEZONE = "Asia/Shanghai"
COUNTY_CODES = tuple(sorted(divisions.counties()))


def quarter_keys(today: dt.date | None = None) -> list[str]:
    """The quarter partition keys: FIRST_QUARTER up to the fourth quarter of next year (a round can be prepared
    ahead, and a long-running code location still knows the coming quarters)."""
    today = today or dt.date.today()
    first = parse_round(FIRST_QUARTER)
    return [
        f"{y}Q{q}"
        for y in range(first.year, today.year + 2)
        for q in range(1, 5)
        if (y, q) >= (first.year, first.quarter)
    ]


def county_key(code: str) -> str:
    """A county code → its partition key, the official name ('450225' → '融水苗族自治县'; a name several counties
    share gets the code: '城区_140302', see ``divisions.county_label``)."""
    return divisions.county_label(code)


def county_code(key: str) -> str:
    """A county partition key (name) → its code."""
    return _CODE_BY_KEY[key]


_CODE_BY_KEY = {county_key(code): code for code in COUNTY_CODES}

quarter_partitions = dg.StaticPartitionsDefinition(quarter_keys())
county_partitions = dg.StaticPartitionsDefinition([county_key(c) for c in COUNTY_CODES])
round_partitions = dg.MultiPartitionsDefinition({"quarter": quarter_partitions, "county": county_partitions})


def quarter_key(round_id: str) -> str:
    """'2026Q4' (or an ad-hoc id such as '20261115-medical') → '2026Q4', the quarter partition it falls in."""
    info = parse_round(round_id)
    return f"{info.year}Q{info.quarter}"


def quarter_round_id(key: str) -> str:
    """A quarter partition key is the id of that quarter's scheduled round ('2026Q4' → '2026Q4')."""
    return quarter_key(key)


def partition_key(round_id: str, county: str) -> dg.MultiPartitionKey:
    """The partition of one county (code) in the quarter of a round: ('2026Q4', '450225') → '融水苗族自治县|2026Q4'."""
    return dg.MultiPartitionKey({"quarter": quarter_key(round_id), "county": county_key(county)})


def has_quarter(key: str) -> bool:
    """Whether a quarter key is a partition (quarters before FIRST_QUARTER or after next year's fourth are not)."""
    return key in quarter_partitions.get_partition_keys()


def resolve_county(value: str) -> str:
    """A county code or name (全称 or short: 融水苗族自治县 / 融水) → its current 6-digit code; ValueError otherwise."""
    v = (value or "").strip()
    current = divisions.counties()
    if v in current:
        return v
    if v in divisions.HISTORIC_COUNTY_CODES:
        return divisions.HISTORIC_COUNTY_CODES[v]
    labels = {divisions.county_label(c): c for c in current}  # 城区_140302, as partition keys name it
    if v in labels:
        return labels[v]
    named = sorted(code for code, name in current.items() if v and (v == name or v == divisions.short_name(name)))
    if len(named) == 1:
        return named[0]
    if named:
        options = "、".join(f"{c}（{divisions.city_name(c)}{current[c]}）" for c in named)
        raise ValueError(f"有 {len(named)} 个县区名为 {value!r}：请写县区代码（{options}）")
    valid = "、".join(divisions.short_name(n) for _, n in sorted(current.items()))
    raise ValueError(f"没有名为 {value!r} 的县区：请写县区代码或名称（{valid}）")


class RoundConfig(dg.Config):
    """Round settings beyond the partitions (quarter × county). Empty values take sensible defaults, so a launch
    with partitions needs no config. ``round_id`` may name an ad-hoc round of the partition's quarter (e.g.
    ``20261115-medical``), which then replaces the quarterly id. ``resolve()`` without partitions: the current
    quarter."""

    round_id: str = Field(
        default="", description="轮次编号：留空 = 分区的季度（如 2026Q4）；或本季度内的临时轮次，如 20261115-medical"
    )
    kind: str = Field(
        default="",
        description="排查类型：full（集中全面排查）、priority（重点区域排查）、incremental（增量排查）；"
        "留空 = 第二、四季度 full，第一、三季度 priority，临时轮次 incremental",
    )
    pushed_on: str = Field(
        default="", description="清单推送日期（如 2026-10-09），核实期限按工作日从这天算起；留空 = 今天"
    )

    def resolve(self, today: dt.date | None = None) -> tuple[RoundInfo, str, dt.date]:
        today = today or dt.date.today()
        round_id = self.round_id or f"{today.year}Q{(today.month - 1) // 3 + 1}"
        return _resolve(round_id, self.kind, self.pushed_on, today)


def _resolve(round_id: str, kind: str, pushed_on: str, today: dt.date) -> tuple[RoundInfo, str, dt.date]:
    try:
        info = parse_round(round_id)
    except ValueError:
        raise dg.Failure(
            description=f"轮次编号 round_id={round_id!r} 无效：应为 2026Q4 这样的季度编号，或 20261115-medical 这样的临时轮次编号",
            metadata={"config": "round_id"},
        ) from None
    kind = kind or info.default_kind
    if kind not in KINDS:
        raise dg.Failure(
            description=f"排查类型 kind={kind!r} 无效：应为 " + "、".join(f"{k}（{KIND_NAMES[k]}）" for k in KINDS),
            metadata={"config": "kind"},
        )
    try:
        pushed = dt.date.fromisoformat(pushed_on) if pushed_on else today
    except ValueError:
        raise dg.Failure(
            description=f"推送日期 pushed_on={pushed_on!r} 无效：应为 2026-10-09 这样的日期",
            metadata={"config": "pushed_on"},
        ) from None
    return info, kind, pushed


@dataclass(frozen=True)
class RoundScope:
    """One round to screen and publish in a run: for ``counties`` (current codes), or all (``None``)."""

    info: RoundInfo
    kind: str
    pushed_on: dt.date
    counties: tuple[str, ...] | None
    partition_keys: tuple[str, ...] = ()  # the run's partition keys of this round (empty: unpartitioned run)

    @property
    def round_id(self) -> str:
        return self.info.round_id

    @property
    def county_list(self) -> list[str] | None:
        return list(self.counties) if self.counties is not None else None

    def describe(self) -> str:
        where = "全部县" if self.counties is None else "、".join(divisions.counties().get(c, c) for c in self.counties)
        return f"{self.round_id}（{KIND_NAMES.get(self.kind, self.kind)}，{where}）"


def _counties_or_all(codes) -> tuple[str, ...] | None:
    chosen = tuple(sorted(set(codes)))
    return None if not chosen or set(chosen) == set(COUNTY_CODES) else chosen


def scopes_for(partition_keys: list[str] | None, config: RoundConfig, today: dt.date | None = None) -> list[RoundScope]:
    """The rounds a run screens: one per quarter of its partition keys, each for all its counties at once.
    No partitions, or a config that contradicts them, is a ``dg.Failure`` that says what to change."""
    today = today or dt.date.today()
    if not partition_keys:
        raise dg.Failure(
            description="请选择分区（县 × 季度）再运行：一个季度的全部县为一轮（一次运行），单个县为该县重跑；"
            "例如 融水苗族自治县|2026Q4。命令行：fangpin screen --round 2026Q4 [--county 融水]",
            metadata={"config": "partition"},
        )
    by_quarter: dict[str, list[str]] = {}
    keys_by_quarter: dict[str, list[str]] = {}
    for key in partition_keys:
        dims = round_partitions.get_partition_key_from_str(str(key)).keys_by_dimension
        by_quarter.setdefault(dims["quarter"], []).append(county_code(dims["county"]))
        keys_by_quarter.setdefault(dims["quarter"], []).append(str(key))
    if config.round_id and len(by_quarter) > 1:
        raise dg.Failure(
            description=f"轮次编号 round_id={config.round_id} 只能用于一个季度，本次运行含 {len(by_quarter)} 个季度："
            "请每个季度单独运行",
            metadata={"config": "round_id", "quarters": sorted(by_quarter)},
        )
    scopes = []
    for q in sorted(by_quarter):  # '2025Q4' < '2026Q1': the keys sort as time does
        round_id = config.round_id or quarter_round_id(q)
        info, kind, pushed = _resolve(round_id, config.kind, config.pushed_on, today)
        if quarter_key(info.round_id) != q:
            raise dg.Failure(
                description=f"轮次 {round_id} 的基准日 {info.reference_date} 不在分区的季度 {q} 内：请选择该季度的分区，"
                "或改用该季度的轮次编号",
                metadata={"config": "round_id", "quarter": q},
            )
        scopes.append(
            RoundScope(info, kind, pushed, _counties_or_all(by_quarter[q]), tuple(sorted(keys_by_quarter[q])))
        )
    return scopes


def run_partition_keys(context) -> list[str] | None:
    """The run's partition keys (one key, a range, or none)."""
    if context.has_partition_key or context.has_partition_key_range:
        return [str(k) for k in context.partition_keys]
    return None
