"""The tables behind the official forms of the work plan (附件 1–3; SPEC §8): pure SQL over the warehouse.

``build_forms(wh, as_of)`` creates TEMP tables (the writers in ``fangpin.reports.forms`` turn them into workbooks):

- ``_form_roster``  one row per household on the monitoring roster (名册, 桌上有账): codes and names of county /
  township / village, head's name and registered ID, household size, 户类型, 监测对象类别, risk types (list),
  identification date, helper, measures (list), last visit, status, elimination date, source;
- ``_form_member``  one row per registry member of a roster household (名册 sheet 家庭成员; no health column);
- ``_form_wall``    the PUBLIC village wall table (一览表, 墙上有表): masked — see ``sql/40_wall.sql``;
- ``_form_archive`` the village archive checklist (村级档案清单): one row per household, one column per document
  with its state, and a hint of what the system knows; ``_form_archive_village`` the village's own documents.

Where the roster comes from (``roster_source``):
- ``monitoring_roster`` (a view or table built from the registry plus county feedback, part A of the
  "closing the loop" issue) when the warehouse has one — any of its optional columns may be missing;
- otherwise the registry itself: households with a 监测对象类别 are on the roster, status from 风险是否已消除,
  identification / elimination dates from 识别监测时间 / 消除监测时间 (YYYYMM → first day of the month); the registry
  knows no risk types, helpers, measures or visits, so those stay empty.
Household fields the roster lacks come from the registry head's row (户主, else the first member's row).
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from warehouse.runner import runner_for
from warehouse.steps import Sql

ROSTER_VIEW = "monitoring_roster"

#: The normalised roster (TEMP ``_roster_src``): column → kind. ``monitoring_roster`` must have household_id (status
#: missing = monitored); any other column it lacks is NULL (and filled from the registry where the registry knows it).
ROSTER_COLUMNS: dict[str, str] = {
    "household_id": "text",
    "county_code": "text",
    "township_code": "text",
    "village_code": "text",
    "head_name": "text",
    "household_size": "int",
    "category": "text",
    "risk_types": "list",
    "identified_on": "date",
    "helper_name": "text",
    "measures": "list",
    "last_visit": "date",
    "status": "status",
    "eliminated_on": "date",
    "source": "text",
}
TEMPS = (
    "_roster_src",
    "_form_reg_hh",
    "_form_roster",
    "_form_member",
    "_form_wall",
    "_form_archive",
    "_form_archive_village",
    "_form_params",
)


def has_roster_view(wh) -> bool:
    return runner_for(wh).exists(ROSTER_VIEW)


def roster_source(wh) -> str:
    """``'monitoring_roster'`` when the warehouse has that view/table, else ``'registry'`` (the fallback)."""
    return ROSTER_VIEW if has_roster_view(wh) else "registry"


def _expr(col: str, kind: str, dtype: pa.DataType | None) -> str:
    """One projected column of ``monitoring_roster`` (NULL when absent, list columns also from delimited text)."""
    if col == "source":  # a row without a source came from the roster itself
        inner = "NULL" if dtype is None else f"nullif(trim(CAST(\"{col}\" AS VARCHAR)), '')"
        return f"coalesce({inner}, 'roster') AS {col}"
    if dtype is None:
        return {
            "list": "CAST([] AS VARCHAR[])",
            "int": "CAST(NULL AS INTEGER)",
            "date": "CAST(NULL AS DATE)",
            "status": "'monitored'",
        }.get(kind, "CAST(NULL AS VARCHAR)") + f" AS {col}"
    q = f'"{col}"'
    if kind == "list":
        if pa.types.is_list(dtype) or pa.types.is_large_list(dtype):
            e = f"list_filter(list_transform(CAST({q} AS VARCHAR[]), lambda x: trim(x)), lambda x: x IS NOT NULL AND x <> '')"
        else:
            e = (
                f"list_filter(list_transform(regexp_split_to_array(coalesce(CAST({q} AS VARCHAR), ''), '[、,，;；/]+'), "
                f"lambda x: trim(x)), lambda x: x IS NOT NULL AND x <> '')"
            )
        return f"{e} AS {col}"
    if kind == "int":
        return f"TRY_CAST({q} AS INTEGER) AS {col}"
    if kind == "date":
        return f"TRY_CAST({q} AS DATE) AS {col}"
    if kind == "status":
        return (
            f"CASE WHEN lower(trim(CAST({q} AS VARCHAR))) IN ('eliminated', '已消除', '是', '风险已消除') "
            f"THEN 'eliminated' ELSE 'monitored' END AS {col}"
        )
    return f"nullif(trim(CAST({q} AS VARCHAR)), '') AS {col}"


def load_roster(wh) -> str:
    """Create TEMP ``_roster_src`` (the columns of ``ROSTER_COLUMNS``, one row per household); return the source."""
    wh = runner_for(wh)
    source = roster_source(wh)
    if source == ROSTER_VIEW:
        types = {f.name.lower(): f.type for f in wh.schema(ROSTER_VIEW)}
        if "household_id" not in types:
            raise ValueError(f"{ROSTER_VIEW} has no household_id column")
        select = ",\n       ".join(_expr(c, k, types.get(c)) for c, k in ROSTER_COLUMNS.items())
        wh.run(
            "forms/10_roster_from_view", columns=Sql(select), names=Sql(", ".join(ROSTER_COLUMNS)), roster=ROSTER_VIEW
        )
    else:
        wh.run("forms/10_roster_from_registry")
    return source


def build_forms(wh, as_of: dt.date) -> dict:
    """(Re)create the form TEMP tables for a snapshot date; returns counts and the roster source."""
    wh = runner_for(wh)
    wh.run("forms/00_params", as_of=as_of)
    source = load_roster(wh)
    for step in ("forms/20_roster", "forms/30_members", "forms/40_wall", "forms/50_archive"):
        wh.run(step)
    counts = {
        t: wh.count(t) for t in ("_form_roster", "_form_member", "_form_wall", "_form_archive", "_form_archive_village")
    }
    return {"roster_source": source, "counts": counts}


def drop_temps(wh) -> None:
    runner_for(wh).drop(*TEMPS)
