"""Risk rules: who is suspected to be at risk, why, and how urgently (SPEC §6). Pure SQL over the warehouse.

``screen(con, round_id, kind, reference_date, pushed_on, home=None, region="4502", counties=None)`` reads
``registry_person``, ``village``, ``dept_record`` and ``link`` and (re)writes the round's rows of ``suspect``,
``suspect_evidence``, ``relocation_followup`` and, for priority rounds, ``priority_target`` / ``priority_household``
— all of them, or only those of ``counties`` (a county rerun, see "County subsets" below) — and the round's
``review_impact``. The SQL lives in ``warehouse/rules/sql/`` (named steps over TEMP tables, run through the step
runner: 00 macros, 05 new files, 10 households, 20 evidence, 30 screen, 35/36 the counterfactual screening of the
records left for review, 40 priority areas, 50 relocation, 60 round selection; then 65/70 delete-then-insert the round
in one transaction); this module only prepares the parameters (thresholds per county from ``rules.yaml``, deadlines
in Chinese working days) and runs the steps. No Dagster needed: tests call ``screen`` on a hand-built DuckDB file.
Everything is set-based SQL (SPEC §9): a 350k-household / 1.5M-record city screens in ≈ 10 s on 2 cores.

How SPEC §6 is read (interpretation choices)
-------------------------------------------
Window and evidence
- Evidence = a department record whose ``link.match_method`` is ``id_exact``, ``id_repaired`` or ``fuzzy`` (a link a
  county confirmed is ``fuzzy`` too, warehouse.review); ``review`` and ``unmatched`` never count as confirmed evidence
  (a review record may put a household on the list as 同名待确认, below). ``link`` is joined to ``dept_record`` on
  (source, source_file, source_row).
- Window: event date (``event_date``, else the feed's own date) in [reference_date − window months, reference_date).
  Property-search hits are a state, not an event: they annotate whatever their date.
- The same event twice: the loader keeps one row per ``event_key``; here rows are also de-duplicated per
  household by content (a hash of person, date, institution/type, amount, status), whatever file or event_key it
  came with, so overlapping extracts or a re-sent file never count twice. The older copy wins (it decides "new" in incremental
  rounds). Two genuinely different settlements with identical person, date, institution and amounts count once.
Income (§6.1)
- Household size = distinct members in the registry (by ID, else raw ID, else name + birth date + relation); the
  registry's 家庭人口数 column is not used. Household fields come from the head's row (else the first member's).
- Base per-capita income = the registry's 人均纯收入; a missing value counts as 0 (the household then falls below the
  line when it has a signal: the village check decides).
- Rigid spending = medical out-of-pocket of all members in the window (every linked record, not only the ones that
  crossed a threshold) + disaster direct losses in the window + lost wages. Out-of-pocket missing but total and
  payments present → total − fund − critical-illness − medical-aid.
- Lost wages = previous monthly income × ``lost_wage_months``, once per member with a qualifying job-loss event
  (the largest previous monthly income of that member's events).
Signals → risk types (§6.2)
- "monitored" for the medical thresholds = 脱贫户 or any household with a 监测对象类别 (also risk-eliminated ones);
  other households get the 100 % / 10000 thresholds. The annual test is per person (sum of that person's
  out-of-pocket in the window); a "stay" is any record whose visit type does not say 门诊 (missing = a stay).
- Disaster: per record — house 倒塌/严重损坏, or that record's direct loss ≥ threshold → 因自然灾害; a collapsed or
  severely damaged house also → 因安全住房.
- Employment: 失业登记 / 返乡 / 务工中断 (matched by 失业/返乡/中断) of a member whose registry 劳动技能 is not
  丧失劳动力/无劳动力 (a member we cannot place in the registry counts as able; 就业 is never a signal).
- Civil affairs: 农村低保 / 农村特困 newly granted (status 新增, or no status and the registry does not show that aid
  yet) or any 临时救助 (unless 续保/停发), only for households not under active monitoring → 其他.
  低保边缘 and 城市 aid are not signals. Status 续保 or 停发 is never a signal.
- 缺劳动力 is added to a household already flagged when every registry member is 丧失劳动力/无劳动力 and the
  adjusted income is below the line. With these signals employment and 缺劳动力 exclude each other, so at most 5
  types arise; the cap (``max_risk_types``, ordered by ``risk_type_order``) still applies to any configured set.
Suspect category (§6.3), for a household with at least one signal (缺劳动力 alone is never a signal):
- monitored and not eliminated → 监测户新增风险 (whatever the income; goes to the department task lists);
- otherwise adjusted < line → 脱贫户: 脱贫不稳定户, anyone else: 边缘易致贫户;
- otherwise rigid spending ≥ ``severe_hardship_share`` × (base × size) → 突发严重困难户;
- otherwise not a suspect. A risk-eliminated household that qualifies is a suspect again (``reflagged_eliminated``).
- Property hit → ``property_hit`` = true and priority × ``property_priority_penalty``; never dropped.
Priority score (0–100, higher = visit first)
    score = 100 × ( w_shortfall × clamp((line − adjusted) / line, 0, 1)
                  + w_burden    × min(1, rigid / max(base × size, line))
                  + w_breadth   × min(1, (number of risk types − 1) / 4)
                  + w_housing   × [因安全住房] ) × (property_priority_penalty if property hit else 1)
    weights from rules.yaml (0.45 / 0.30 / 0.10 / 0.15 by default), rounded to 0.1.
Kinds (§7)
- ``full``: every household. ``priority``: suspects living in (registry village, or resettlement community of a
  relocated household) a target village of §6.4. ``incremental``: suspects with at least one flag-supporting
  evidence row from a file loaded (``ingested_file.ingested_at``) after ``since``; ``since`` defaults to the
  ``finished_at`` of the last *published* round other than this one (``warehouse.rounds.last_finished``); no such
  round → every file is new. Thresholds still see the whole window (a new bill can push the year's total over).
Priority areas (§6.4), computed and stored for priority rounds only: target villages = resettlement
  communities, former deeply poor villages, villages with ≥ N 脱贫户 whose monitored/脱贫户 ratio is below
  ``priority_low_share_factor`` × the county median (villages with 脱贫户 only; "monitored" = any 监测对象类别),
  villages with a disaster record in the last ``priority_disaster_months`` (placed by the record's link, else by
  an unambiguous village/township/county name). Ranked households = suspects, then households with adjusted income
  < ``priority_weak_income_factor`` × line or with department records below the thresholds; rank per county.
Relocation (§6.5)
- Registry village is a resettlement community → the household lives there; its hukou place (hukou not moved) is
  derived from the head's ID address code when it is a Liuzhou county (``hukou_source`` says so), else unknown.
  Otherwise the registry village is the hukou village and the resettlement site is found by name in the village
  table (resettlement communities first, same county first) or by a county name inside the site text.
- ``double_routed`` = relocated and hukou not moved out: the county workbooks of both places list it (publish).
- 横向比较: within each community, the lowest ``relocation_bottom_share`` (rounded up) or below weak factor × line.
Configuration
- ``rules_for(region, year of the reference date)``; a county entry (6-digit code) needs only the values that
  differ from its city's (county > city > defaults). A missing monitoring line, or any other threshold the rules
  need, is a ``ConfigError`` naming ``regions.<code>.<year>.<key>`` — checked before anything is read or written.
Records left for review (issue 12; warehouse/rules/counterfactual.py, sql/35_counterfactual.sql, sql/36_impact.sql)
- Every candidate household of every ``review`` record (``link_candidate``) is screened again with the record attached
  to the candidate person, by steps 20 and 30 themselves in a second session (all scenarios at once). A screening
  result = (suspect category, risk types when flagged); income or priority alone is not a result.
- A scenario is *material* when the result changes and the candidate is plausible: posterior (link_candidate.score)
  ≥ ``review_min_candidate_posterior`` (rules.yaml, 0.1) and ≥ ``review_min_candidate_ratio`` (0.5) of the record's
  best candidate's, and evidence beyond the name that linkage would accept for a
  link (birth date, village or township). Every scenario is stored in ``review_impact`` with its change in words.
- A household that only a material record would flag is listed 同名待确认 (``pending_namesake``): it takes its most
  urgent scenario's screening (category, risk types, evidence with the record marked （同名待确认）, so also its place
  in priority areas and the resettlement comparison); ``pending_records`` lists every record that would flag it and
  ``pending_check`` says what to check at the visit, naming the other candidates of its own county only. A household
  flagged anyway gets ``pending_records`` / ``pending_check`` for the records that would change its result.
- Each record is judged alone against the household's confirmed evidence (two ambiguous records that only together
  would flag a household are not combined).
Deadlines
- verify_by = ``add_working_days(pushed_on, verify_working_days)`` (Chinese working days); outside the holiday
  calendar's years the weekends-only fallback is used and ``verify_by_note`` says so.
County subsets (a rerun of one county's partition, docs/DECISIONS.md "Rounds and partitions")
- ``counties`` = current county codes (``fangpin.domain.divisions.counties()``); a historic code (柳江县 450221)
  belongs to its successor. ``None`` — or all ten — is the whole round, including households whose county code is
  unknown. The rules still read the whole city (county medians, resettlement communities whose households are
  registered elsewhere, the same answers as a full round); only the write is narrowed. A county's rows: ``suspect``
  and its evidence by the household's registry county (plus any household the new rows contain, so a household
  that changed county is never listed twice); ``priority_target`` by the village's county; ``priority_household``
  by the target village's county (``target_county_code``); ``relocation_followup`` by the resettlement
  community's county (``live_county_code``). Other counties' rows are left exactly as they were.
Errors
- A missing threshold is a ``ConfigError`` (above). A failing SQL step raises ``RuleStepError`` naming the step
  file (``warehouse/rules/sql/30_screen.sql``), so a run failure says which rule broke.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from fangpin.domain import divisions
from fangpin.domain.rounds import check_kind
from fangpin.domain.workdays import add_working_days, fallback_note
from fangpin.settings import ConfigError, config_path, load, rules_for
from warehouse.rounds import last_finished
from warehouse.rules.counterfactual import COUNTERFACTUAL, EVIDENCE_METHODS, screen_review_records
from warehouse.runner import Runner, runner_for

SQL_DIR = Path(__file__).parent / "sql"
#: the round's steps (``rules/<step>`` through the step runner); the counterfactual screening of the records left
#: for review runs after 30_screen (warehouse.rules.counterfactual)
STEPS = (
    "00_macros",
    "10_households",
    "20_evidence.linked",
    "20_evidence.signals",
    "30_screen",
    COUNTERFACTUAL,
    "40_priority",
    "50_relocation",
    "60_round",
)

#: official risk types our rules can produce (domain-notes §2)
RISK_TYPES = ("因病", "因自然灾害", "因安全住房", "因务工就业不稳", "其他", "缺劳动力")
CATEGORIES = ("脱贫不稳定户", "边缘易致贫户", "突发严重困难户", "监测户新增风险")

_REQUIRED = (
    "monitoring_line",
    "rural_disposable_income_last_year",
    "evidence_window_months",
    "medical_share_monitored",
    "medical_share_other",
    "medical_single_stay_monitored",
    "medical_single_stay_other",
    "disaster_loss_threshold",
    "lost_wage_months",
    "severe_hardship_share",
    "max_risk_types",
    "verify_working_days",
)
_OPTIONAL_DEFAULTS = {
    "priority_weak_income_factor": 1.2,
    "priority_min_tuopin_households": 30,
    "priority_disaster_months": 3,
    "priority_low_share_factor": 0.5,
    "relocation_bottom_share": 0.10,
    "property_priority_penalty": 0.5,
    "priority_weight_shortfall": 0.45,
    "priority_weight_burden": 0.30,
    "priority_weight_breadth": 0.10,
    "priority_weight_housing": 0.15,
    "risk_type_order": list(RISK_TYPES),
    "review_min_candidate_posterior": 0.1,
    "review_min_candidate_ratio": 0.5,
}


@dataclass
class ScreenStats:
    round_id: str
    kind: str
    reference_date: dt.date
    window_start: dt.date
    pushed_on: dt.date
    verify_by: dt.date
    calendar_fallback: bool
    since: dt.datetime | None
    households: int = 0
    households_with_evidence: int = 0
    suspects: int = 0
    evidence_rows: int = 0
    by_category: dict[str, int] = field(default_factory=dict)
    by_risk_type: dict[str, int] = field(default_factory=dict)
    by_county: dict[str, int] = field(default_factory=dict)
    reflagged_eliminated: int = 0
    property_hits: int = 0
    priority_targets: int = 0
    priority_households: int = 0
    relocation_followups: int = 0
    review_records: int = 0  # records linkage left for review (with a registry candidate)
    review_material: int = 0  # ... of which attaching them to a candidate would change its screening result
    pending_namesake: int = 0  # households of the round on the list only because of such a record (同名待确认)
    counties: list[str] | None = None  # the county subset written (None = the whole round)
    notes: list[str] = field(default_factory=list)


class RuleStepError(RuntimeError):
    """One SQL step of the rules failed; ``step`` is its file (e.g. ``30_screen.sql``), ``path`` the repo path."""

    def __init__(self, step: str, cause: BaseException):
        step = step.split(".")[0] + ".sql"  # a section (20_evidence.linked) names its file
        self.step = step
        self.path = f"warehouse/rules/sql/{step}"
        super().__init__(f"risk rule step {self.path} failed (风险规则步骤 {step} 执行失败): {cause}")


def county_scope(counties: Iterable[str] | None) -> list[str] | None:
    """Current county codes → the codes a registry may carry for them (historic codes included), sorted.

    ``None``, an empty selection or all current counties → ``None`` (the whole round). An unknown code is a
    ``ValueError`` that lists the valid ones."""
    if counties is None:
        return None
    wanted = sorted({str(c).strip() for c in counties if str(c).strip()})
    if not wanted:
        return None
    current = divisions.counties()
    bad = [c for c in wanted if c not in current]
    if bad:
        valid = ", ".join(f"{k} {v}" for k, v in sorted(current.items()))
        raise ValueError(f"unknown county code(s) {', '.join(bad)}; valid: {valid}")
    if set(wanted) == set(current):
        return None
    historic = [old for old, new in divisions.HISTORIC_COUNTY_CODES.items() if new in wanted]
    return sorted(set(wanted) | set(historic))


def ensure_tables(con) -> None:
    runner_for(con).run("rules/tables")


def _months_before(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.year * 12 + (d.month - 1) - int(months), 12)
    day = min(
        d.day,
        [31, 29 if (y % 4 == 0 and y % 100 != 0) or y % 400 == 0 else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m],
    )
    return dt.date(y, m + 1, day)


def thresholds(region: str, year: int, home: Path | None = None) -> dict:
    """rules_for + a check that every value the rules need is there (the error names the missing key)."""
    cfg = rules_for(region, year, home)
    path = config_path("rules", home)
    if len(str(region)) == 6 and cfg.get("region") == str(region):
        # a county entry only needs the values that differ from its city's: county > city > defaults
        try:
            city = rules_for(str(region)[:4], year, home)
        except ConfigError:
            city = None
        if city is not None:
            regions = load("rules", home).get("regions") or {}
            years = regions.get(str(region)) or regions.get(int(region)) or {}
            own = years.get(year) or years.get(str(year)) or {}
            cfg = {**city, **{k: v for k, v in own.items() if v is not None}, "region": str(region), "year": year}
    for key in _REQUIRED:
        if cfg.get(key) is None:
            raise ConfigError(
                f"{path}: regions.{cfg.get('region', region)}.{year}.{key} is not set (nor defaults.{key}); "
                f"add it to the rules configuration"
            )
    for key, value in _OPTIONAL_DEFAULTS.items():
        cfg.setdefault(key, value)
    return cfg


def _rules_frame(con, region: str, year: int, reference_date: dt.date, pushed_on: dt.date, home: Path | None):
    """One row of thresholds per county present in the registry (county entry, else the region's)."""
    region_cfg = thresholds(region, year, home)  # fails first, naming the missing key
    counties = [r[0] for r in runner_for(con).rows("rules/stats.registry_counties")]
    rows, notes, fallback_any = [], [], False
    verify_cache: dict[int, tuple[dt.date, bool]] = {}
    for key in sorted(set(counties) | {""}):
        cfg = region_cfg
        if key and key.startswith(str(region)[:4]) and key != str(region):
            cfg = thresholds(key, year, home) if len(key) == 6 else region_cfg
        n = int(cfg["verify_working_days"])
        if n not in verify_cache:
            verify_cache[n] = add_working_days(pushed_on, n)
        verify_by, fb = verify_cache[n]
        fallback_any = fallback_any or fb
        rows.append(
            {
                "county_key": key,
                "monitoring_line": float(cfg["monitoring_line"]),
                "rural_income": float(cfg["rural_disposable_income_last_year"]),
                "med_share_mon": float(cfg["medical_share_monitored"]),
                "med_share_other": float(cfg["medical_share_other"]),
                "med_stay_mon": float(cfg["medical_single_stay_monitored"]),
                "med_stay_other": float(cfg["medical_single_stay_other"]),
                "disaster_loss_threshold": float(cfg["disaster_loss_threshold"]),
                "lost_wage_months": float(cfg["lost_wage_months"]),
                "severe_share": float(cfg["severe_hardship_share"]),
                "max_risk_types": int(cfg["max_risk_types"]),
                "weak_factor": float(cfg["priority_weak_income_factor"]),
                "min_tuopin": int(cfg["priority_min_tuopin_households"]),
                "ratio_factor": float(cfg["priority_low_share_factor"]),
                "reloc_bottom_share": float(cfg["relocation_bottom_share"]),
                "property_penalty": float(cfg["property_priority_penalty"]),
                "w_shortfall": float(cfg["priority_weight_shortfall"]),
                "w_burden": float(cfg["priority_weight_burden"]),
                "w_breadth": float(cfg["priority_weight_breadth"]),
                "w_housing": float(cfg["priority_weight_housing"]),
                "window_months": int(cfg["evidence_window_months"]),
                "window_start": _months_before(reference_date, int(cfg["evidence_window_months"])),
                "verify_by": verify_by,
                "verify_note": fallback_note(pushed_on, verify_by) if fb else None,
            }
        )
    if fallback_any:
        notes.append(fallback_note(pushed_on, max(v for v, _ in verify_cache.values())))
    frame = pl.DataFrame(
        rows, schema_overrides={"window_start": pl.Date, "verify_by": pl.Date, "verify_note": pl.String}
    )
    return region_cfg, frame, fallback_any, notes


def _county_frame() -> pl.DataFrame:
    rows = []
    current = divisions.counties()
    for code, name in current.items():
        rows.append(
            {
                "county_code": code,
                "current_code": code,
                "county_name": name,
                "short": divisions.short_name(name),
                "is_current": True,
            }
        )
    for old, new in divisions.HISTORIC_COUNTY_CODES.items():
        rows.append(
            {
                "county_code": old,
                "current_code": new,
                "county_name": current.get(new, ""),
                "short": divisions.short_name(current.get(new, "")),
                "is_current": False,
            }
        )
    return pl.DataFrame(rows)


def _since_last_round(con, round_id: str) -> dt.datetime | None:
    found = last_finished(con, round_id)
    return found[1] if found else None


def screen(
    con,
    round_id: str,
    kind: str,
    reference_date: dt.date,
    pushed_on: dt.date,
    home: Path | None = None,
    region: str = "4502",
    since: dt.datetime | None = None,
    counties: Iterable[str] | None = None,
) -> ScreenStats:
    """Run the risk rules for one round and (re)write its rows — all of them, or only those of ``counties``.
    See the module docstring for the rules."""
    check_kind(kind)
    scope = county_scope(counties)
    if isinstance(reference_date, dt.datetime):
        reference_date = reference_date.date()
    if isinstance(pushed_on, dt.datetime):
        pushed_on = pushed_on.date()
    year = reference_date.year
    region_cfg, rules_df, fallback, notes = _rules_frame(con, str(region), year, reference_date, pushed_on, home)
    region_row = rules_df.filter(pl.col("county_key") == "").row(0, named=True)

    if kind == "incremental" and since is None:
        since = _since_last_round(con, round_id)
    if kind == "incremental":
        notes.append(
            f"增量筛查：只看 {since:%Y-%m-%d %H:%M} 之后入库的文件"
            if since
            else "增量筛查：此前没有已发布的轮次，全部文件视为新文件"
        )

    order = [str(x) for x in region_cfg["risk_type_order"]]
    params = pl.DataFrame(
        {
            "round_id": [round_id],
            "kind": [kind],
            "reference_date": [reference_date],
            "pushed_on": [pushed_on],
            "region_key": [""],
            "disaster_months": [int(region_cfg["priority_disaster_months"])],
            "disaster_start": [_months_before(reference_date, int(region_cfg["priority_disaster_months"]))],
            "risk_type_order": [order],
            "all_counties": [scope is None],
            "scope": [scope or []],
        },
        schema_overrides={
            "reference_date": pl.Date,
            "pushed_on": pl.Date,
            "disaster_start": pl.Date,
            "risk_type_order": pl.List(pl.String),
            "scope": pl.List(pl.String),
        },
    )
    counties = _county_frame()

    ensure_tables(con)
    wh = runner_for(con)
    try:
        # 1. read-only work in TEMP tables (no lock on the round's tables yet)
        for name, frame in (("_p", params), ("_r", rules_df), ("_county", counties)):
            wh.put(name, frame)
        if kind == "incremental" and since is not None:
            _run(wh, "05_newfiles.since", since=since)
        else:
            _run(wh, "05_newfiles.all" if kind == "incremental" else "05_newfiles.none")
        for step in STEPS:
            if step == COUNTERFACTUAL:
                try:
                    screen_review_records(
                        wh,
                        float(region_cfg["review_min_candidate_posterior"]),
                        float(region_cfg["review_min_candidate_ratio"]),
                    )
                except Exception as exc:
                    raise RuleStepError("35_counterfactual", exc) from exc
            elif step == "40_priority" and kind != "priority":
                # target villages only matter to priority rounds (SPEC §6.4); the round selection needs _phh
                _run(wh, "41_no_priority")
            elif step.startswith("20_evidence.linked"):
                _run(wh, step, links="link", evidence_methods=EVIDENCE_METHODS)
            else:
                _run(wh, step)
        # 2. the round's rows (or the county subset's), replaced atomically
        with wh.transaction():
            _run(wh, "65_write")
            if kind == "priority":
                _run(wh, "70_priority_insert")
        stats = _stats(wh, round_id, kind, reference_date, region_row, pushed_on, fallback, since, notes)
        stats.counties = [c for c in scope if c in divisions.counties()] if scope is not None else None
    finally:
        wh.drop(*TEMPS)
    return stats


#: the round's working relations (TEMP tables of its session), dropped at the end
TEMPS = (
    "_p",
    "_r",
    "_county",
    "_newfiles",
    "_person",
    "_hh",
    "_reloc",
    "_linked",
    "_ev_labour",
    "_sig",
    "_med_person",
    "_job_person",
    "_agg",
    "_scr",
    "_cf_pair",
    "_cf_scr",
    "_cf_sig",
    "_cf_med",
    "_cf_impact",
    "_cf_pending",
    "_vill",
    "_recent_disaster",
    "_ptarget",
    "_phh",
    "_reloc_followup",
    "_reloc_followup_w",
    "_rec_types",
    "_rec_text",
    "_round_hh",
    "_evid",
)


def _run(wh: Runner, step: str, **params) -> None:
    try:
        wh.run(f"rules/{step}", **params)
    except Exception as exc:  # duckdb.Error and friends: name the rule file that broke
        raise RuleStepError(step, exc) from exc


def _stats(wh: Runner, round_id, kind, reference_date, region_row, pushed_on, fallback, since, notes) -> ScreenStats:
    st = ScreenStats(
        round_id=round_id,
        kind=kind,
        reference_date=reference_date,
        window_start=region_row["window_start"],
        pushed_on=pushed_on,
        verify_by=region_row["verify_by"],
        calendar_fallback=fallback,
        since=since,
        notes=notes,
    )
    counts = wh.frame("rules/stats.counts", round_id=round_id).row(0, named=True)
    for name, value in counts.items():
        setattr(st, name, value)
    st.by_category = dict(wh.rows("rules/stats.by_category", round_id=round_id))
    st.by_risk_type = dict(wh.rows("rules/stats.by_risk_type", round_id=round_id))
    st.by_county = dict(wh.rows("rules/stats.by_county", round_id=round_id))
    return st
