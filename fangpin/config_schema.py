"""What each configuration file may contain: types and ranges, checked when the file is loaded (fangpin.settings).

A small hand-written schema rather than pydantic models: the error a bureau analyst sees is one line that names the
file, the key path (``regions.4502.2026.monitoring_line``) and what is expected, in words ("大于 0 的数（元）"), and
the configuration is mostly maps keyed by data (region codes, years, feeds, departments), which models express
poorly. The schema only says what a known key must look like: keys it does not know are allowed, so a helper may add
a key to a file before adding it here.

Registering a new file: ``SCHEMAS["deadlines"] = Struct({...})`` (the key is the file name without ``.yaml``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Invalid(Exception):
    """The first place a document breaks its schema: key path, what is expected there, and what was found."""

    path: str
    expected: str
    got: Any

    def line(self) -> str:
        where = self.path or "（文件顶层）"
        gap = " " if self.expected[:1].isascii() else ""
        return f"{where} 应为{gap}{self.expected}，现为 {_show(self.got)}"


def _show(value: Any) -> str:
    if value is None:
        return "空值"
    if isinstance(value, dict):
        return "一个映射（key: value）"
    if isinstance(value, list):
        return "一个列表"
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:37] + "…"


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


class Node:
    """One schema node: ``check(value, path)`` raises :class:`Invalid`; ``expected`` says in words what fits."""

    expected = "?"

    def check(self, value: Any, path: str) -> None:
        raise NotImplementedError


@dataclass
class Num(Node):
    """A number (int or float, never a bool, a string or NaN) within optional bounds."""

    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None
    unit: str = ""
    integer: bool = False
    nullable: bool = False

    @property
    def expected(self) -> str:
        parts = []
        if self.gt is not None:
            parts.append(f"大于 {_n(self.gt)}")
        if self.ge is not None:
            parts.append(f"不小于 {_n(self.ge)}")
        if self.lt is not None:
            parts.append(f"小于 {_n(self.lt)}")
        if self.le is not None:
            parts.append(f"不大于 {_n(self.le)}")
        what = "整数" if self.integer else "数"
        text = ("、".join(parts) + " 的" if parts else "") + what
        if self.unit:
            text += f"（{self.unit}）"
        if self.nullable:
            text += "或留空（null）"
        return text

    def check(self, value: Any, path: str) -> None:
        if value is None and self.nullable:
            return
        if isinstance(value, str):
            raise Invalid(path, self.expected + "，只写阿拉伯数字，不加逗号、单位或汉字", value)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value) or math.isinf(value):
            raise Invalid(path, self.expected, value)
        if self.integer and not float(value).is_integer():
            raise Invalid(path, self.expected, value)
        if (
            (self.gt is not None and not value > self.gt)
            or (self.ge is not None and not value >= self.ge)
            or (self.lt is not None and not value < self.lt)
            or (self.le is not None and not value <= self.le)
        ):
            raise Invalid(path, self.expected, value)


def _n(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def Int(ge: float | None = 1, **kw) -> Num:
    return Num(ge=ge, integer=True, **kw)


def Share(**kw) -> Num:
    """A share of a whole: (0, 1]."""
    return Num(gt=0, le=1, **kw)


def Prob(**kw) -> Num:
    """A probability of the linkage model: (0, 1) — 0 and 1 would make a log-odds weight infinite."""
    return Num(gt=0, lt=1, **kw)


YUAN = "元"
MONTHS = "月"


@dataclass
class Str(Node):
    pattern: str | None = None
    describe: str = "文字"
    nullable: bool = False

    @property
    def expected(self) -> str:
        return self.describe + ("或留空（null）" if self.nullable else "")

    def check(self, value: Any, path: str) -> None:
        if value is None and self.nullable:
            return
        if not isinstance(value, str) or not value.strip():
            raise Invalid(path, self.expected, value)
        if self.pattern and not re.fullmatch(self.pattern, value):
            raise Invalid(path, self.expected, value)


@dataclass
class Regex(Node):
    expected = "一个正则表达式（文字）"

    def check(self, value: Any, path: str) -> None:
        if not isinstance(value, str):
            raise Invalid(path, self.expected, value)
        try:
            re.compile(value)
        except re.error as exc:
            raise Invalid(path, f"合法的正则表达式（{exc}）", value) from None


@dataclass
class OneOf(Node):
    choices: tuple

    @property
    def expected(self) -> str:
        return "以下之一：" + "、".join(str(c) for c in self.choices)

    def check(self, value: Any, path: str) -> None:
        if value not in self.choices:
            raise Invalid(path, self.expected, value)


@dataclass
class Bool(Node):
    expected = "true 或 false"

    def check(self, value: Any, path: str) -> None:
        if not isinstance(value, bool):
            raise Invalid(path, self.expected, value)


@dataclass
class Any_(Node):
    expected = "任意值"

    def check(self, value: Any, path: str) -> None:
        return None


@dataclass
class ListOf(Node):
    item: Node
    min_items: int = 0
    max_items: int | None = None

    @property
    def expected(self) -> str:
        n = f"至少 {self.min_items} 项的" if self.min_items else ""
        if self.max_items is not None:
            n = f"{self.min_items}–{self.max_items} 项的" if self.min_items else f"至多 {self.max_items} 项的"
        return f"{n}列表（每项为{self.item.expected}）"

    def check(self, value: Any, path: str) -> None:
        if not isinstance(value, list) or len(value) < self.min_items:
            raise Invalid(path, self.expected, value)
        if self.max_items is not None and len(value) > self.max_items:
            raise Invalid(path, self.expected, value)
        for i, v in enumerate(value):
            self.item.check(v, f"{path}[{i}]")


@dataclass
class Either(Node):
    """The first option whose outer type fits decides (so its error is the one reported)."""

    options: tuple[Node, ...]

    @property
    def expected(self) -> str:
        return "，或".join(o.expected for o in self.options)

    def check(self, value: Any, path: str) -> None:
        for opt in self.options:
            if _outer_fits(opt, value):
                opt.check(value, path)
                return
        raise Invalid(path, self.expected, value)


def _outer_fits(node: Node, value: Any) -> bool:
    if isinstance(node, _Mapping):
        return isinstance(value, dict)
    if isinstance(node, ListOf):
        return isinstance(value, list)
    if isinstance(node, Str):
        return isinstance(value, str) or (value is None and node.nullable)
    if isinstance(node, Num):
        return (isinstance(value, (int, float)) and not isinstance(value, bool)) or (value is None and node.nullable)
    if isinstance(node, Bool):
        return isinstance(value, bool)
    return True


class _Mapping(Node):
    expected = "一个映射（key: value）"
    nullable = False

    def _present(self, value: Any, path: str) -> bool:
        """False for an allowed null; raises unless ``value`` is a mapping."""
        if value is None and self.nullable:
            return False
        if not isinstance(value, dict):
            raise Invalid(path, self.expected, value)
        return True


@dataclass
class MapOf(_Mapping):
    """A mapping whose keys are data (region codes, years, feed names) and whose values share one schema."""

    value: Node
    key: Callable[[Any], bool] | None = None
    key_expected: str = ""
    nullable: bool = False

    def check(self, value: Any, path: str) -> None:
        if not self._present(value, path):
            return
        for k, v in value.items():
            if self.key is not None and not self.key(k):
                raise Invalid(_join(path, k), f"一个键为{self.key_expected}的条目（此键不符）", k)
            self.value.check(v, _join(path, k))


@dataclass
class Struct(_Mapping):
    """A mapping with known keys (others allowed). ``required`` keys must be present; ``rules`` check across keys and
    return an :class:`Invalid` or None."""

    fields: dict[str, Node]
    required: tuple[str, ...] = ()
    rules: tuple[Callable[[dict, str], Invalid | None], ...] = ()
    nullable: bool = False

    def check(self, value: Any, path: str) -> None:
        if not self._present(value, path):
            return
        for k in self.required:
            if k not in value:
                raise Invalid(_join(path, k), f"必填项（{self.fields[k].expected}）", None)
        for k, node in self.fields.items():
            if k in value:
                node.check(value[k], _join(path, k))
        for rule in self.rules:
            problem = rule(value, path)
            if problem is not None:
                raise problem


@dataclass
class Schema:
    """A whole file: its top-level structure (plus any cross-key rules)."""

    root: Struct
    notes: list[str] = field(default_factory=list)

    def check(self, data: Any) -> None:
        self.root.check(data, "")


# ------------------------------------------------------------------------------------------------ the files

NAMES = ListOf(Str())
SHARE = Share()
WEIGHT = Num(ge=0, le=1)


def _code_key(k: Any) -> bool:
    return re.fullmatch(r"\d{2}|\d{4}|\d{6}", str(k)) is not None


def _year_key(k: Any) -> bool:
    return re.fullmatch(r"\d{4}", str(k)) is not None and 2000 <= int(str(k)) <= 2100


#: thresholds a region/year entry may set, and ``defaults`` may set for all of them (warehouse/rules, SPEC §6)
RULE_FIELDS: dict[str, Node] = {
    "monitoring_line": Num(gt=0, unit=YUAN),
    "rural_disposable_income_last_year": Num(gt=0, unit=YUAN),
    "evidence_window_months": Int(unit=MONTHS),
    "medical_share_monitored": Share(),
    # "OOP above 100 % of the income" is the usual form for non-monitored households; a bureau may go higher
    "medical_share_other": Num(gt=0, le=5),
    "medical_single_stay_monitored": Num(gt=0, unit=YUAN),
    "medical_single_stay_other": Num(gt=0, unit=YUAN),
    "disaster_loss_threshold": Num(gt=0, unit=YUAN),
    "lost_wage_months": Int(unit=MONTHS),
    "severe_hardship_share": Share(),
    "max_risk_types": Int(le=5),
    "verify_working_days": Int(unit="工作日"),
    "priority_weak_income_factor": Num(gt=0, le=10),
    "priority_min_tuopin_households": Int(ge=0, unit="户"),
    "priority_disaster_months": Int(unit=MONTHS),
    "relocation_bottom_share": Share(),
    "property_priority_penalty": Share(),
    "priority_low_share_factor": Share(),
    "priority_weight_shortfall": WEIGHT,
    "priority_weight_burden": WEIGHT,
    "priority_weight_breadth": WEIGHT,
    "priority_weight_housing": WEIGHT,
    "risk_type_order": ListOf(Str(), min_items=1),
    "review_min_candidate_posterior": Share(),
    "review_min_candidate_ratio": Share(),
}

RULES = Schema(
    Struct(
        {
            "version": Int(),
            "defaults": Struct(RULE_FIELDS),
            "regions": MapOf(
                MapOf(Struct(RULE_FIELDS), key=_year_key, key_expected="年份（如 2026）"),
                key=_code_key,
                key_expected="2 位省代码、4 位市代码或 6 位县代码（如 45、4502、450225）",
            ),
            "deadlines": Struct(
                {
                    "decision_days": Int(unit="天"),
                    "helper_working_days": Int(unit="工作日"),
                    "measures_working_days": Int(unit="工作日"),
                    "visits_per_quarter": Int(unit="次"),
                    "county_approval_months": Int(unit=MONTHS),
                    "elimination_min_months": Int(unit=MONTHS),
                    "elimination_stable_income_months": Int(unit=MONTHS),
                }
            ),
            "risk_types": Any_(),
        },
        required=("regions",),
    )
)


def _known_departments(doc: dict, path: str) -> Invalid | None:
    known = set((doc.get("departments") or {}).keys())
    for risk, depts in (doc.get("risk_types") or {}).items():
        for i, d in enumerate(depts or []):
            if d not in known:
                return Invalid(_join(_join(path, "risk_types"), f"{risk}[{i}]"), "departments 下已定义的部门键", d)
    return None


ROUTING = Schema(
    Struct(
        {
            "version": Int(),
            "departments": MapOf(Struct({"name": Str(), "feeds": ListOf(Str())}, required=("name",))),
            "risk_types": MapOf(ListOf(Str(), min_items=0)),
            "task_list_categories": ListOf(Str(), min_items=1),
        },
        required=("departments", "risk_types"),
        rules=(_known_departments,),
    )
)


def _review_below_accept(doc: dict, path: str) -> Invalid | None:
    d = doc.get("decide") or {}
    acc, rev = d.get("accept"), d.get("review")
    if isinstance(acc, (int, float)) and isinstance(rev, (int, float)) and rev > acc:
        return Invalid(_join(path, "decide.review"), f"不大于 decide.accept（{acc}）的数", rev)
    return None


NAME_LEVEL = OneOf(("exact", "homophone", "near"))

LINKAGE = Schema(
    Struct(
        {
            "prior_in_registry": Prob(),
            "household_prior_in_registry": Prob(),
            "decide": Struct(
                {"accept": Share(), "review": Share(), "namesake_ratio": Share(), "min_name_level": NAME_LEVEL}
            ),
            "repair": Struct(
                {
                    "name_levels": ListOf(NAME_LEVEL, min_items=1),
                    "score_birth_confirmed": Share(),
                    "score_locality_confirmed": Share(),
                    "score_15": Share(),
                }
            ),
            "blocking": Struct(
                {
                    "rules": ListOf(
                        Struct(
                            {
                                "name": Str(),
                                "keys": ListOf(Str(), min_items=1),  # which columns: warehouse.linkage.blocking
                                "fallback": Bool(),
                                "records": OneOf(("no_locality",)),
                                "max_block": Int(),
                            },
                            required=("name", "keys"),
                        ),
                        min_items=1,
                    )
                }
            ),
            "name": Struct(
                {
                    "m_exact": Prob(),
                    "m_folded": Prob(),
                    "folded_share": Prob(),
                    "m_homophone": Prob(),
                    "m_near": Prob(),
                    "u_near_given_surname": Prob(),
                    "m_differ": Prob(),
                    "near_char_sim": Share(),
                    "near_letter_sim": Share(),
                    "min_u": Prob(),
                }
            ),
            "birth": Struct({"m_exact": Prob(), "m_near": Prob(), "u_near": Prob(), "m_differ": Prob()}),
            "sex": Struct({"m_agree": Prob(), "m_differ": Prob()}),
            "locality": MapOf(MapOf(Prob())),
            "id_area": Struct({"m_agree": Prob(), "m_differ": Prob(), "u_agree": Prob()}),
            "id_conflict": Struct({"weight": Num()}),
            "relation": Struct({"m_head": Prob(), "u_head": Prob()}),
            "estimate": Struct(
                {
                    "enabled": Bool(),
                    "max_labels": Int(),
                    "pseudo_count": Num(ge=0),
                    "in_out_pseudo_count": Num(ge=0),
                    "activity": Bool(),
                    "activity_pseudo_records": Num(ge=0),
                    "max_bits": MapOf(Num(ge=0)),
                }
            ),
            "outside": Struct({"places": ListOf(Str())}),
            "others": Struct(
                {
                    "m_claim": Prob(),
                    "u_claim": Prob(),
                    "m_same": Prob(),
                    "u_same": Prob(),
                    "max_claim_records": Int(),
                }
            ),
        },
        rules=(_review_below_accept,),
    )
)

MOSTLY = Struct({"mostly": Share(), "blocking": Bool()})
RANGE_LEVELS = {"warn_mostly": Share(), "gross_mostly": Share()}
BOUND = Num(nullable=True)
COLUMNS = ListOf(Either((Str(), ListOf(Str(), min_items=1))))
DATE_WINDOW = {
    "future_tolerance_days": Int(ge=0, unit="天"),
    "future_mostly": Share(),
    "future_blocking": Bool(),
    "max_age_years": Int(nullable=True, unit="年"),
    "old_mostly": Share(),
    "old_blocking": Bool(),
}
ID_VALID = Struct({"statuses": ListOf(Str(), min_items=1), "min": Share(), "blocking": Bool()})
DUPLICATE_RATE = Struct({"warn_max_share": Num(ge=0, le=1), "block_max_share": Num(ge=0, le=1)})

QUALITY = Schema(
    Struct(
        {
            "version": Int(),
            "defaults": Struct(
                {
                    "min_rows_for_share_blocking": Int(ge=0, unit="行"),
                    "not_null": MOSTLY,
                    "value_set": MOSTLY,
                    "range": Struct(RANGE_LEVELS),
                    "id_valid_rate": ID_VALID,
                    "duplicate_rate": DUPLICATE_RATE,
                    "date_window": Struct(DATE_WINDOW),
                }
            ),
            "labels": MapOf(Str()),
            "id_status_labels": MapOf(Str()),
            "feeds": MapOf(
                Struct(
                    {
                        "table": Str(),
                        "schema": COLUMNS,
                        "not_null": COLUMNS,
                        "value_sets": MapOf(
                            Either(
                                (
                                    ListOf(Any_()),
                                    Struct(
                                        {"values": ListOf(Any_()), "mostly": Share(), "blocking": Bool()},
                                        required=("values",),
                                    ),
                                )
                            )
                        ),
                        "patterns": MapOf(
                            Struct(
                                {"regex": Regex(), "mostly": Share(), "blocking": Bool(), "describe": Str()},
                                required=("regex",),
                            )
                        ),
                        "ranges": MapOf(
                            Either(
                                (
                                    ListOf(BOUND, min_items=2, max_items=2),
                                    Struct({"min": BOUND, "max": BOUND, **RANGE_LEVELS}),
                                )
                            )
                        ),
                        "pairs": ListOf(
                            Struct(
                                {"name": Str(), "a": Str(), "b": Str(), "mostly": Share(), "blocking": Bool()},
                                required=("name", "a", "b"),
                            )
                        ),
                        "id_valid_rate": ID_VALID,
                        "duplicate_key": Str(),
                        "duplicate_rate": DUPLICATE_RATE,
                        "date_window": MapOf(Struct(DATE_WINDOW, nullable=True)),
                    },
                    required=("table",),
                )
            ),
        },
        required=("feeds",),
    )
)

ALIASES = Schema(
    Struct(
        {
            "version": Int(),
            "total_markers": NAMES,
            "note_prefixes": NAMES,
            "null_tokens": NAMES,
            "types": MapOf(Str()),
            "feeds": MapOf(
                Struct(
                    {
                        "folder": Str(),
                        "table": Str(),
                        "label": Str(),
                        "required": COLUMNS,
                        "event_date": Str(),
                        "event_date_optional": Bool(),
                        "event_key": NAMES,
                        "head_only": Bool(),
                        "fields": MapOf(ListOf(Str(), min_items=1)),
                        "values": MapOf(MapOf(ListOf(Any_()))),
                    },
                    required=("fields",),
                )
            ),
        },
        required=("feeds",),
    )
)

#: file name (without .yaml) → its schema. A file with no entry is only checked to be a YAML mapping.
#: the signals of the systemic-risk watch (each has its SQL step in warehouse/systemic/sql/20_units.sql)
SYSTEMIC_SIGNALS = (
    "medical_claims",
    "medical_oop",
    "disaster_houses",
    "disaster_loss",
    "job_loss",
    "new_aid",
    "below_line",
)

SYSTEMIC = Schema(
    Struct(
        {
            "version": Int(),
            "quarters": Struct(
                {
                    "history": Int(unit="季度"),
                    "min_history": Int(unit="季度"),
                    "coverage_grace_days": Int(ge=0, unit="天"),
                }
            ),
            "model": Struct(
                {
                    "test": OneOf(("negative_binomial", "poisson")),
                    "dispersion": Either((Str(pattern="auto", describe="auto"), Num(ge=0))),
                    "max_dispersion": Num(ge=0),
                    "prior_events": Num(ge=0, unit="起（人或户）"),
                    "min_expected": Num(gt=0),
                    "amount_cap_quantile": Share(),
                    "fdr": Prob(),
                    "min_ratio": Num(ge=1),
                    "county_test": Bool(),
                }
            ),
            "levels": ListOf(OneOf(("village", "township")), min_items=1),
            "signals": MapOf(
                Struct(
                    {
                        "name": Str(),
                        "feed": OneOf(("medical", "disaster", "employment", "civil_affairs", "all")),
                        "unit": OneOf(("person", "household")),
                        "kind": OneOf(("count", "amount")),
                        "min_count": Int(unit="人或户"),
                        "min_out_of_pocket": Num(ge=0, unit=YUAN),
                        "house_damage_pattern": Regex(),
                        "event_pattern": Regex(),
                        "aid_type_pattern": Regex(),
                        "aid_type_exclude": Regex(),
                        "status_exclude": Regex(),
                    },
                    required=("name", "feed", "unit", "kind", "min_count"),
                ),
                key=lambda k: k in SYSTEMIC_SIGNALS,
                key_expected="已知信号（" + "、".join(SYSTEMIC_SIGNALS) + "）",
            ),
            "survey": Struct({"near_line_margin": Num(ge=0, le=1), "include_monitored": Bool()}),
        },
        required=("model", "signals"),
    )
)

SCHEMAS: dict[str, Schema] = {
    "rules": RULES,
    "routing": ROUTING,
    "linkage": LINKAGE,
    "quality": QUALITY,
    "aliases": ALIASES,
    "systemic": SYSTEMIC,
}


def validate(name: str, data: Any) -> None:
    """Raise :class:`Invalid` at the first place ``data`` (the parsed file ``name``.yaml) breaks its schema."""
    schema = SCHEMAS.get(name)
    if schema is not None:
        schema.check(data)
