"""Who receives what (issue 14 item 8): each risk type of a monitored household reaches the departments SPEC §7 names
(routing.yaml), and relocated households below 1.2 × the line are followed up in their resettlement community
(SPEC §6.5)."""

from __future__ import annotations

import openpyxl
import pytest
from test_reports import _sheet_rows
from test_rules_support import PUSHED, REF, City, D

from assets.publishing import publish_round
from warehouse.engine import connect
from warehouse.rules import screen

#: SPEC §7: 因病→医保/卫健, 因学→教育, 因残→残联, 因自然灾害→应急管理, 因安全住房→住建, 因安全饮水→水利,
#: 因务工就业不稳→人社, 缺劳动力/兜底→民政 (display names as in the packaged routing.yaml)
SPEC_ROUTES = {
    "因病": {"医保局", "卫健委"},
    "因学": {"教育局"},
    "因残": {"残联"},
    "因自然灾害": {"应急管理局"},
    "因安全住房": {"住建局"},
    "因安全饮水": {"水利局"},
    "因务工就业不稳": {"人社局"},
    "缺劳动力": {"民政局"},
    "兜底": {"民政局"},
}
DEPARTMENTS = set().union(*SPEC_ROUTES.values())


@pytest.fixture(scope="module")
def task_lists(tmp_path_factory) -> dict[str, dict[str, str]]:
    """One monitored household per risk type. The rules produce some of these types from department data (因病,
    因自然灾害, 因务工就业不稳, 缺劳动力) and none of the others yet (no education, disability or water feed), so each
    household gets a medical signal and its suspect row is then given exactly one type: what is tested here is the
    routing of a type to its departments, whatever produced it. Returns {department: {household: 本部门相关风险}}."""
    tmp = tmp_path_factory.mktemp("routing")
    city = City()
    for i in range(len(SPEC_ROUTES)):
        m = city.household(
            f"R{i}",
            village_code="450225101201",
            income=12000,
            monitoring_category="边缘易致贫户",
            risk_eliminated="否",
        )
        city.medical(m[0], D(2026, 5, 5), 9000.0)
    with connect(tmp / "w.duckdb") as con:
        city.flush(con)
        screen(con, "2026Q4", "full", REF, PUSHED, home=tmp)
        got = dict(con.sql("SELECT household_id, suspect_category FROM suspect").fetchall())
        assert got == {f"R{i}": "监测户新增风险" for i in range(len(SPEC_ROUTES))}
        for i, rtype in enumerate(SPEC_ROUTES):
            con.execute("UPDATE suspect SET risk_types = [?] WHERE household_id = ?", [rtype, f"R{i}"])
        publish_round(con, tmp, "2026Q4")
    out = tmp / "out" / "2026Q4"
    lists = {}
    for path in out.glob("行业部门任务清单_*.xlsx"):
        rows = _sheet_rows(openpyxl.load_workbook(path)["行业部门任务清单"])
        lists[path.stem.removeprefix("行业部门任务清单_")] = {r["户编号"]: r["本部门相关风险"] for r in rows}
    return lists


@pytest.mark.parametrize("rtype", list(SPEC_ROUTES))
def test_each_risk_type_reaches_exactly_its_departments(task_lists, rtype):
    hid = f"R{list(SPEC_ROUTES).index(rtype)}"
    assert DEPARTMENTS <= set(task_lists), f"missing task lists: {DEPARTMENTS - set(task_lists)}"
    receivers = {dept for dept, rows in task_lists.items() if hid in rows}
    assert receivers == SPEC_ROUTES[rtype]
    assert all(task_lists[d][hid] == rtype for d in receivers)


# ------------------------------------------------------------------------------------- relocation follow-up (§6.5)

#: 9000 line (rules.yaml, 4502/2026) × 1.2 = 10,800. Twenty relocated households in one community: the bottom 10 %
#: are the first two; four are below 10,800 (one a cent below it); 10,800 itself is not below it.
INCOMES = [10000, 10500, 10700, 10799.99, 10800, 10800.01] + [11000 + 500 * i for i in range(14)]


def test_relocated_households_below_1_2_times_the_line_are_followed_up(tmp_path):
    city = City()
    site = city.village("450226100301", "古宜安置小区", site=True)
    for i, income in enumerate(INCOMES):
        city.household(f"RL{i:02d}", village_code=site, income=income, relocated="是", hukou_moved="是")
    with connect(tmp_path / "w.duckdb") as con:
        city.flush(con)
        screen(con, "2026Q4", "full", REF, PUSHED)
        rows = {h: reason for h, reason in con.sql("SELECT household_id, reason FROM relocation_followup").fetchall()}
    assert set(rows) == {"RL00", "RL01", "RL02", "RL03"}, rows
    assert all("低于监测线的1.2倍" in rows[h] for h in rows), rows
    assert "最低的" in rows["RL00"] and "最低的" not in rows["RL02"], rows
