"""The work plan's calendar and the folder sensors: evaluating the schedules at dates in each quarter yields the right
round id and kind (over the quarter × all counties, one run); the monthly approval schedule yields the previous
month; a settled department drop launches one incremental round; the instance settings live under the data home."""

from __future__ import annotations

import datetime as dt
import json
import os

import dagster as dg
import pytest

from pipelines.partitions import COUNTY_CODES, county_key, keys_in_tags, quarter_of
from pipelines.schedules import (
    approval_month_for,
    approval_run_request,
    build_monthly_approval_schedule,
    quarterly_screening,
    round_for,
    schedules_for,
)


@pytest.mark.parametrize(
    "day, round_id, kind",
    [
        (dt.date(2026, 1, 10), "2026Q1", "priority"),
        (dt.date(2026, 4, 10), "2026Q2", "full"),
        (dt.date(2026, 7, 10), "2026Q3", "priority"),
        (dt.date(2026, 10, 10), "2026Q4", "full"),
        (dt.date(2025, 2, 17), "2025Q1", "priority"),
        (dt.date(2025, 12, 31), "2025Q4", "full"),
    ],
)
def test_quarterly_schedule_launches_the_right_round(day, round_id, kind):
    assert round_for(day) == (round_id, kind)
    ctx = dg.build_schedule_context(scheduled_execution_time=dt.datetime(day.year, day.month, day.day, 7, 0))
    req = quarterly_screening(ctx)
    for op in ("suspects", "round_outputs"):
        cfg = req.run_config["ops"][op]["config"]
        assert cfg["kind"] == kind and cfg["pushed_on"] == day.isoformat() and cfg["round_id"] == ""
    assert req.run_key == f"round-{round_id}"
    assert req.tags["fangpin/round"] == round_id and req.tags["fangpin/kind"] == kind
    assert req.tags["fangpin/pushed-on"] == day.isoformat() and req.tags["fangpin/county"] == "全部县"
    # one run over the round's quarter × every county (a single-run backfill's partition range)
    assert quarter_of(day) == round_id
    assert sorted(keys_in_tags(req.tags)) == sorted(f"{county_key(c)}|{round_id}" for c in COUNTY_CODES)
    assert req.partition_key is None


def test_quarterly_schedule_fires_on_the_tenth_of_each_quarter_in_beijing_time():
    assert quarterly_screening.cron_schedule == "0 7 10 1,4,7,10 *"
    assert quarterly_screening.execution_timezone == "Asia/Shanghai"
    assert quarterly_screening.job_name == "screening_round"


def test_the_schedules_run_by_default_in_a_deployed_instance():
    """A new deployment screens every quarter (and prepares the monthly approval) without anyone switching the
    schedules on in the UI first."""
    asset = _approval_asset()
    for sched in schedules_for([asset]):
        assert sched.default_status == dg.DefaultScheduleStatus.RUNNING, sched.name


def test_a_quarter_the_code_location_does_not_know_is_skipped_with_the_reason():
    """A code location loaded long ago (its quarter list ends at next year's fourth quarter) says what to do in the
    tick history instead of launching a run that would fail."""
    ctx = dg.build_schedule_context(scheduled_execution_time=dt.datetime(2099, 1, 10, 7, 0))
    result = quarterly_screening.evaluate_tick(ctx)
    assert not result.run_requests and "2099Q1" in result.skip_message and "Reload" in result.skip_message


@pytest.mark.parametrize(
    "day, month",
    [
        (dt.date(2027, 1, 1), "2026-12"),
        (dt.date(2026, 3, 1), "2026-02"),
        (dt.date(2026, 10, 1), "2026-09"),
        (dt.date(2026, 10, 31), "2026-09"),
        (dt.date(2028, 3, 1), "2028-02"),
    ],
)
def test_approval_month_is_the_previous_month(day, month):
    assert approval_month_for(day) == month


def _approval_asset(partitions_def=None):
    @dg.asset(name="approval_batch", partitions_def=partitions_def)
    def approval_batch() -> None:
        return None

    return approval_batch


def test_monthly_approval_schedule_yields_the_previous_month():
    asset = _approval_asset()
    sched = next(s for s in schedules_for([asset]) if s.name == "monthly_approval")
    assert sched.cron_schedule == "0 8 1 * *" and sched.execution_timezone == "Asia/Shanghai"
    ctx = dg.build_schedule_context(scheduled_execution_time=dt.datetime(2027, 1, 1, 8, 0))
    req = sched.evaluate_tick(ctx).run_requests[0]
    assert req.tags["fangpin/approval_month"] == "2026-12" and req.run_key == "approval-2026-12"
    assert req.partition_key is None
    # the code location loads with it, and the job runs the asset
    defs = dg.Definitions(assets=[asset], schedules=[sched])
    dg.Definitions.validate_loadable(defs)
    assert defs.resolve_job_def("monthly_approval").asset_layer.executable_asset_keys == {dg.AssetKey("approval_batch")}


def test_monthly_approval_uses_the_month_partition_when_the_asset_has_one():
    monthly = dg.MonthlyPartitionsDefinition(start_date="2025-01-01", timezone="Asia/Shanghai")
    req = approval_run_request(dt.date(2026, 11, 1), monthly)
    assert req.partition_key == "2026-10-01" and req.tags["fangpin/approval_month"] == "2026-10"
    by_county = dg.MultiPartitionsDefinition(
        {"month": monthly, "county": dg.StaticPartitionsDefinition(list(COUNTY_CODES))}
    )
    req = approval_run_request(dt.date(2026, 11, 1), by_county)
    start, end = req.tags["dagster/asset_partition_range_start"], req.tags["dagster/asset_partition_range_end"]
    assert {start, end} == {f"{COUNTY_CODES[0]}|2026-10-01", f"{COUNTY_CODES[-1]}|2026-10-01"}
    sched = build_monthly_approval_schedule(
        dg.define_asset_job("monthly_approval", selection="approval_batch"), monthly
    )
    dg.Definitions.validate_loadable(dg.Definitions(assets=[_approval_asset(monthly)], schedules=[sched]))


def test_no_monthly_approval_without_the_asset():
    from pipelines.definitions import all_assets, defs

    names = {s.name for s in schedules_for(all_assets)}
    has_batch = any(k.to_user_string() == "approval_batch" for a in all_assets for k in a.keys)
    assert names == ({"quarterly_screening", "monthly_approval"} if has_batch else {"quarterly_screening"})
    repo = defs.get_repository_def()
    assert {s.name for s in repo.schedule_defs} == names
    assert repo.get_job("screening_round").partitions_def is not None


# ------------------------------------------------------------------------------------------ folder sensors


def test_a_settled_department_drop_launches_one_incremental_round(tmp_path, monkeypatch):
    from pipelines.sensors import folder_sensors

    monkeypatch.setenv("FANGPIN_HOME", str(tmp_path))
    folder = tmp_path / "landing" / "medical"
    folder.mkdir(parents=True)
    for name in ("医保2026年10月.csv", "医保2026年11月.xlsx"):
        (folder / name).write_bytes(b"x")
    sensor = next(s for s in folder_sensors if s.name == "landing_medical")
    assert sensor.job_name == "screening_round"
    with dg.instance_for_test() as instance:
        first = sensor.evaluate_tick(dg.build_sensor_context(instance=instance))
        assert first.run_requests == []  # first sight: the files may still be written
        second = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=first.cursor))
        third = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=second.cursor))
    (req,) = second.run_requests
    assert third.run_requests == []  # already launched
    today = dt.datetime.now(dt.UTC).astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai")).date()
    round_id = f"{today:%Y%m%d}-medical"
    for op in ("suspects", "systemic_risk", "round_outputs"):
        assert req.run_config["ops"][op]["config"] == {
            "round_id": round_id,
            "kind": "incremental",
            "pushed_on": today.isoformat(),
        }
    assert {k.to_user_string() for k in req.asset_selection} == {
        "medical_records",
        "links",
        "suspects",
        "systemic_risk",
        "round_outputs",
    }
    assert sorted(keys_in_tags(req.tags)) == sorted(f"{county_key(c)}|{quarter_of(today)}" for c in COUNTY_CODES)
    assert req.tags["fangpin/round"] == round_id and "医保2026年11月.xlsx" in req.tags["fangpin/files"]
    assert req.tags["fangpin/kind"] == "incremental" and req.tags["fangpin/pushed-on"] == today.isoformat()
    assert set(json.loads(second.cursor)) == {"医保2026年10月.csv", "医保2026年11月.xlsx"}


def test_a_registry_drop_only_ingests(tmp_path, monkeypatch):
    from pipelines.sensors import folder_sensors

    monkeypatch.setenv("FANGPIN_HOME", str(tmp_path))
    folder = tmp_path / "landing" / "registry"
    folder.mkdir(parents=True)
    (folder / "防止返贫监测对象信息.csv").write_bytes(b"x")
    sensor = next(s for s in folder_sensors if s.name == "landing_registry")
    with dg.instance_for_test() as instance:
        first = sensor.evaluate_tick(dg.build_sensor_context(instance=instance))
        second = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=first.cursor))
    (req,) = second.run_requests
    assert sensor.job_name == "ingest" and [k.to_user_string() for k in req.asset_selection] == ["registry"]


# ------------------------------------------------------------------------------------------ instance settings


def test_instance_settings_live_under_the_data_home(tmp_path, monkeypatch):
    from fangpin.cli import _prepare_dagster
    from fangpin.home import DataHome
    from pipelines.instance import ensure_instance

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("FANGPIN_HOME", str(tmp_path / "elsewhere"))
    home = DataHome.at(tmp_path / "home")
    _prepare_dagster(home)
    cfg = home.dagster_home / "dagster.yaml"
    assert os.environ["DAGSTER_HOME"] == str(home.dagster_home) and cfg.exists()
    instance = dg.DagsterInstance.from_config(str(home.dagster_home))
    pools = instance.get_concurrency_config().pool_config
    assert pools.default_pool_limit == 1 and pools.pool_granularity.value == "run"
    assert instance.run_retries_enabled and instance.run_retries_max_retries == 1
    assert not instance.run_retries_retry_on_asset_or_op_failure
    assert not instance.nux_enabled  # the UI's first-visit newsletter pop-up is off
    # an analyst's edits are kept
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("max_retries: 1", "max_retries: 3"), encoding="utf-8")
    assert ensure_instance(home.root) == cfg and "max_retries: 3" in cfg.read_text(encoding="utf-8")


def test_every_asset_that_writes_the_warehouse_is_in_the_warehouse_pool():
    from pipelines.definitions import defs

    repo = defs.get_repository_def()
    writers = [n for n in repo.asset_graph.asset_nodes if n.is_materializable and {"duckdb", "parquet"} & set(n.kinds)]
    assert {"registry", "medical_records", "links", "suspects", "round_outputs"} <= {
        n.key.to_user_string() for n in writers
    }
    for node in writers:
        assert node.pools == {"warehouse"}, node.key


def test_the_sensors_run_request_runs(screened_tiny, tmp_path):
    """What the daemon would launch for a settled medical drop, executed in process on a copy of the tiny city: the
    ad-hoc incremental round over the quarter × all counties, in one run."""
    from pipelines.definitions import defs
    from pipelines.schedules import incremental_round_request
    from tests.conftest import copy_home

    home = copy_home(screened_tiny, tmp_path / "home")
    when = dt.datetime(2026, 11, 29, 9, 30)
    req = incremental_round_request("medical", [("医保2026年11月.xlsx", 10, 1.0)], when, dg.AssetKey("medical_records"))
    job = defs.resolve_job_def("screening_round")
    with dg.instance_for_test() as instance:
        home_config = {"config": {"home": str(home)}}
        run_config = {**req.run_config, "resources": {"fangpin": home_config, "warehouse": home_config}}
        result = job.execute_in_process(
            run_config=run_config, tags=req.tags, asset_selection=req.asset_selection, instance=instance
        )
        assert result.success
        assert len(instance.get_materialized_partitions(dg.AssetKey("round_outputs"))) == len(COUNTY_CODES)
    out = home / "out" / "20261129-medical"
    assert (out / "suspects.parquet").exists() and (out / "links.parquet").exists()
    from warehouse.engine import connect

    with connect(home / "warehouse" / "fangpin.duckdb", read_only=True) as con:
        assert con.sql("SELECT kind, status FROM round WHERE round_id = '20261129-medical'").fetchall() == [
            ("incremental", "published")
        ]
