"""Consistency rules on the registry itself (the checks public checkers run on national-system exports,
../shared/domain-notes.md §2 and §4), as SQL: one rule per file ``sql/R*.sql`` (next to ``sql/00_prepare.sql``, so
the packaging rule ``sql/*.sql`` ships them).

Each rule file starts with a header of ``-- key: value`` lines — ``code``, ``severity`` (错误 | 提醒), ``level``
(户 | 人), ``title``, ``description`` (Chinese, for the county staff), ``basis`` (where the rule comes from, for
developers), ``basis_zh`` (the same in Chinese words for the county staff, no developer references) and, optionally,
``needs: roster`` — followed by ONE ``SELECT`` returning
``household_id, id_number, name, source_file, source_row, detail`` (one row per finding; household-level rules point
at the head's row). The SQL reads the TEMP tables made by ``sql/00_prepare.sql``:

- ``_rc_person``    registry rows + ``id18`` (usable 18-digit ID), ``id_birth``, ``id_sex``, ``eff_birth``, ``eff_sex``,
                    ``age`` (full years on as_of), ``c_code``/``t_code``;
- ``_rc_household`` per 户编号: head's fields, ``members``, ``heads``, ``n_rows``, ``n_able``, ``n_capacity``,
                    ``n_no_labour``, ``has_ill``, ``has_disabled``, ``differing_fields``, ``identified_on``, ``eliminated_on``;
- ``_rc_roster``    household_id, risk_types, measures from ``monitoring_roster`` (empty without it);
- ``_rc_params``    as_of and the thresholds of ``DEFAULT_PARAMS``; ``_rc_line`` county_code → monitoring line.

Rules marked ``needs: roster`` (risk types and measures are not registry columns) run only when the warehouse has
``monitoring_roster``; otherwise they are reported as not run. A county without a configured monitoring line for
the year is reported (``notes``) and the two income-vs-line rules do not run there; nothing is silently defaulted.

``run_checks(wh, as_of, home=None)`` → :class:`CheckResult` (findings, rule catalogue with counts, per-village
summary). Set-based SQL only; adding a rule = adding a file.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import polars as pl

from fangpin.settings import ConfigError, rules_for
from warehouse import steps
from warehouse.runner import runner_for
from warehouse.steps import Sql

RULES_DIR = Path(__file__).parent / "sql"
SEVERITIES = ("错误", "提醒")
LEVELS = ("户", "人")
TEMPS = ("_rc_params", "_rc_line", "_rc_person", "_rc_head", "_rc_household", "_rc_roster", "_rc_found")

#: thresholds of the rules (domain-notes §2 / §4); override per call with ``run_checks(..., params=...)``
DEFAULT_PARAMS = {
    "child_age": 16,  # under 16 → 无劳动力
    "working_age_max": 59,  # 16–59 and 健康 → not 弱劳动力或半劳动力
    "min_months_before_elimination": 6,  # 2_11_002
    "identification_income_max": 20000.0,  # 1111_18
    "able_share_max": 0.25,  # 缺劳动力 contradicted above 1/4 普通/技能劳动力
}

FINDING_COLUMNS = (
    "code",
    "severity",
    "level",
    "title",
    "county_code",
    "township_code",
    "village_code",
    "county",
    "township",
    "village",
    "household_id",
    "id_number",
    "name",
    "source_file",
    "source_row",
    "detail",
)

_HEADER = re.compile(r"^--\s*(\w+)\s*:\s*(.*?)\s*$")


@dataclass(frozen=True)
class Rule:
    code: str
    severity: str
    level: str
    title: str
    description: str
    basis: str
    basis_zh: str
    needs: str
    sql: str
    file: str


def parse_rule(path: Path) -> Rule:
    meta: dict[str, str] = {}
    body: list[str] = []
    in_header = True
    text, _ = steps.template(f"registry_checks/{path.stem}")
    for line in text.splitlines():
        m = _HEADER.match(line) if in_header else None
        if m:
            meta[m.group(1).lower()] = m.group(2)
            continue
        in_header = False
        body.append(line)
    missing = [k for k in ("code", "severity", "level", "title", "description") if not meta.get(k)]
    if missing:
        raise ValueError(f"{path.name}: header lacks {', '.join(missing)}")
    if meta["severity"] not in SEVERITIES:
        raise ValueError(f"{path.name}: severity {meta['severity']!r} is not one of {SEVERITIES}")
    if meta["level"] not in LEVELS:
        raise ValueError(f"{path.name}: level {meta['level']!r} is not one of {LEVELS}")
    sql = "\n".join(body).strip().rstrip(";").strip()
    if not sql:
        raise ValueError(f"{path.name}: no SELECT after the header")
    return Rule(
        code=meta["code"],
        severity=meta["severity"],
        level=meta["level"],
        title=meta["title"],
        description=meta["description"],
        basis=meta.get("basis", ""),
        basis_zh=meta.get("basis_zh", ""),
        needs=meta.get("needs", "registry"),
        sql=sql,
        file=path.name,
    )


@lru_cache(maxsize=1)
def rules() -> tuple[Rule, ...]:
    """All rules, in code order; codes must be unique."""
    out = tuple(sorted((parse_rule(p) for p in RULES_DIR.glob("R*.sql")), key=lambda r: r.code))
    codes = [r.code for r in out]
    dupes = {c for c in codes if codes.count(c) > 1}
    if dupes:
        raise ValueError(f"duplicate rule codes: {sorted(dupes)}")
    return out


def catalogue() -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                k: getattr(r, k)
                for k in ("code", "severity", "level", "title", "description", "basis", "basis_zh", "needs")
            }
            for r in rules()
        ]
    )


@dataclass
class CheckResult:
    as_of: dt.date
    findings: pl.DataFrame  # FINDING_COLUMNS + as_of
    rules: pl.DataFrame  # catalogue + ran (bool), not_run_reason, findings, households
    villages: pl.DataFrame  # per village: households, persons, errors, reminders, households_flagged, n_<code>…
    roster_source: str
    notes: list[str] = field(default_factory=list)


def _lines(wh, as_of: dt.date, home: Path | None) -> tuple[pl.DataFrame, list[str]]:
    codes = [r[0] for r in wh.rows("registry_checks/run.counties")]
    rows, notes = [], []
    for code in codes:
        try:
            line = rules_for(code, as_of.year, home)["monitoring_line"] if re.fullmatch(r"\d{6}", code) else None
        except ConfigError:
            line = None
        if line is None:
            notes.append(f"县别代码{code}：{as_of.year}年监测线未配置，R19、R20未对该县执行")
        else:
            rows.append({"county_code": code, "monitoring_line": float(line)})
    return pl.DataFrame(rows, schema={"county_code": pl.String, "monitoring_line": pl.Float64}), notes


def _roster(wh) -> str:
    from warehouse.forms import ROSTER_VIEW, load_roster, roster_source

    if roster_source(wh) == ROSTER_VIEW:
        load_roster(wh)
        wh.run("registry_checks/run.roster")
        return ROSTER_VIEW
    wh.run("registry_checks/run.no_roster")
    return "registry"


def run_checks(
    wh, as_of: dt.date, home: Path | None = None, params: dict | None = None, only: list[str] | None = None
) -> CheckResult:
    """Run every rule (or the codes in ``only``) on the warehouse's registry as of a date."""
    wh = runner_for(wh)
    prm = {**DEFAULT_PARAMS, **(params or {})}
    wh.run(
        "registry_checks/run.params",
        as_of=as_of,
        child_age=int(prm["child_age"]),
        working_age_max=int(prm["working_age_max"]),
        min_months_before_elimination=int(prm["min_months_before_elimination"]),
        identification_income_max=float(prm["identification_income_max"]),
        able_share_max=float(prm["able_share_max"]),
    )
    wh.run("registry_checks/00_prepare")
    lines, notes = _lines(wh, as_of, home)
    wh.put("_rc_line", lines)
    source = _roster(wh)
    wh.run("registry_checks/run.found_table")
    status = []
    for rule in rules():
        if only is not None and rule.code not in only:
            status.append({"code": rule.code, "ran": False, "not_run_reason": "本次未选择"})
            continue
        if rule.needs == "roster" and source != "monitoring_roster":
            status.append(
                {
                    "code": rule.code,
                    "ran": False,
                    "not_run_reason": "需要帮扶台账（风险类型、帮扶措施），本次没有帮扶台账数据",
                }
            )
            continue
        wh.run("registry_checks/run.found", code=rule.code, rule=Sql(rule.sql))
        status.append({"code": rule.code, "ran": True, "not_run_reason": None})

    cat = catalogue()
    wh.put("_rc_cat", cat)
    try:
        findings = wh.frame("registry_checks/run.findings", as_of=as_of)
        villages = wh.frame("registry_checks/run.villages")
    finally:
        wh.drop("_rc_cat")

    status_df = pl.DataFrame(status, schema={"code": pl.String, "ran": pl.Boolean, "not_run_reason": pl.String})
    per_rule = findings.group_by("code").agg(findings=pl.len(), households=pl.col("household_id").n_unique())
    rules_df = (
        cat.join(status_df, on="code", how="left")
        .join(per_rule, on="code", how="left")
        .with_columns(pl.col("findings").fill_null(0), pl.col("households").fill_null(0))
        .sort("code")
    )
    villages = _village_summary(villages, findings)
    return CheckResult(
        as_of=as_of, findings=findings, rules=rules_df, villages=villages, roster_source=source, notes=notes
    )


def _village_summary(villages: pl.DataFrame, findings: pl.DataFrame) -> pl.DataFrame:
    keys = ["county_code", "village_code"]
    if findings.height:
        sev = findings.group_by(keys).agg(
            errors=(pl.col("severity") == "错误").sum(),
            reminders=(pl.col("severity") == "提醒").sum(),
            households_flagged=pl.col("household_id").n_unique(),
        )
        wide = (
            findings.group_by(keys + ["code"])
            .agg(n=pl.len())
            .pivot(on="code", index=keys, values="n", sort_columns=True)
        )
        wide = wide.rename({c: f"n_{c}" for c in wide.columns if c not in keys})
        out = villages.join(sev, on=keys, how="left", nulls_equal=True).join(
            wide, on=keys, how="left", nulls_equal=True
        )
    else:
        out = villages.with_columns(errors=pl.lit(0), reminders=pl.lit(0), households_flagged=pl.lit(0))
    for r in rules():
        if f"n_{r.code}" not in out.columns:
            out = out.with_columns(pl.lit(0).alias(f"n_{r.code}"))
    counts = ["errors", "reminders", "households_flagged"] + [f"n_{r.code}" for r in rules()]
    return out.with_columns([pl.col(c).fill_null(0).cast(pl.Int64) for c in counts]).select(
        [c for c in villages.columns] + counts
    )


def drop_temps(wh) -> None:
    runner_for(wh).drop(*TEMPS, "_roster_src")
