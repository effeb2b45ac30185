"""Rounds as partitions (quarter × county): a county rerun leaves the other counties' outputs untouched, a backfill
over several quarters is one run, and a failing run names the rule or file that broke (issue: screening rounds in
Dagster). Works on copies of the session's screened tiny city (tests/conftest.py)."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re

import dagster as dg
import polars as pl
import pytest
import yaml

from tests.conftest import PUSHED_ON, TINY_ROUND, copy_home

RERUN = "450225"  # 融水苗族自治县


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _county_of(path) -> str:
    from assets.rounds import resolve_county

    return resolve_county(path.stem.split("_", 1)[1])


# ------------------------------------------------------------------------------------------ partition keys → rounds


def test_partition_keys_become_rounds_with_their_counties():
    from assets.rounds import COUNTY_CODES, RoundConfig, partition_key, scopes_for

    # keys an analyst reads as they are: the county's name and the round
    assert str(partition_key("2026Q4", "450225")) == "融水苗族自治县|2026Q4"
    assert str(partition_key("20261129-medical", "450226")) == "三江侗族自治县|2026Q4"
    all_q4 = [str(partition_key("2026Q4", c)) for c in COUNTY_CODES]
    (full,) = scopes_for(all_q4, RoundConfig(pushed_on="2026-10-09"))
    assert (full.round_id, full.kind, full.counties, full.pushed_on) == ("2026Q4", "full", None, dt.date(2026, 10, 9))
    q3, q4 = scopes_for(["融水苗族自治县|2026Q3", "三江侗族自治县|2026Q3", *all_q4], RoundConfig())
    assert (q3.round_id, q3.kind, q3.counties) == ("2026Q3", "priority", ("450225", "450226"))
    assert (q4.round_id, q4.counties) == ("2026Q4", None)
    # an ad-hoc round id replaces the quarterly one, within its quarter
    (adhoc,) = scopes_for(["融水苗族自治县|2026Q4"], RoundConfig(round_id="20261129-medical"))
    assert (adhoc.round_id, adhoc.kind, adhoc.counties) == ("20261129-medical", "incremental", ("450225",))
    with pytest.raises(dg.Failure, match="2026Q3"):
        scopes_for(["融水苗族自治县|2026Q3"], RoundConfig(round_id="20261129-medical"))
    with pytest.raises(dg.Failure, match="请选择分区"):
        scopes_for(None, RoundConfig())
    with pytest.raises(dg.Failure, match="pushed_on"):
        scopes_for(all_q4, RoundConfig(pushed_on="2026-13-01"))


def test_cli_rounds_map_to_one_run_over_the_quarter():
    from pipelines.partitions import COUNTY_CODES, backfill_tags, county_key, keys_in_tags, round_partition_tags

    keys = keys_in_tags(round_partition_tags("2026Q4"))
    assert sorted(keys) == sorted(f"{county_key(c)}|2026Q4" for c in COUNTY_CODES)
    assert keys_in_tags(round_partition_tags("2026Q4", "450225")) == ["融水苗族自治县|2026Q4"]
    two = keys_in_tags(backfill_tags("2026Q3", "2026Q4"))
    assert len(two) == 20 and {k.split("|")[1] for k in two} == {"2026Q3", "2026Q4"}


# ------------------------------------------------------------------------------------------ full round


def test_a_full_round_from_the_cli_is_one_run_of_screening_round_over_every_county(screened_tiny):
    """What the UI's run history shows for `fangpin screen --round 2026Q4`: a run of the job screening_round (not
    an ad-hoc asset job), filed under the code location, tagged with the round, over the quarter × all counties."""
    from pipelines.jobs import repository_tags
    from pipelines.partitions import COUNTY_CODES, county_key, keys_in_tags

    instance = dg.DagsterInstance.from_config(str(screened_tiny / "dagster"))
    runs = instance.get_runs(filters=dg.RunsFilter(job_name="screening_round", tags={"fangpin/round": TINY_ROUND}))
    assert runs and {r.tags.get("fangpin/source") for r in runs} == {"cli"}
    assert not instance.get_runs(filters=dg.RunsFilter(job_name="__ephemeral_asset_job__"))
    for run in runs:  # every `fangpin screen --round 2026Q4` of the session: one run, the quarter × all counties
        assert run.status == dg.DagsterRunStatus.SUCCESS
        assert sorted(keys_in_tags(run.tags)) == sorted(f"{county_key(c)}|2026Q4" for c in COUNTY_CODES)
        assert {k: run.tags[k] for k in ("fangpin/kind", "fangpin/county", "fangpin/pushed-on")} == {
            "fangpin/kind": "full",
            "fangpin/county": "全部县",
            "fangpin/pushed-on": PUSHED_ON,
        }
        assert repository_tags().items() <= run.tags.items()  # listed under the job in the UI
    assert len(instance.get_materialized_partitions(dg.AssetKey("round_outputs"))) == len(COUNTY_CODES)


# ------------------------------------------------------------------------------------------ county rerun


def test_rerunning_one_county_leaves_the_other_counties_untouched(screened_tiny, tmp_path, capsys):
    from fangpin.cli import main

    home = copy_home(screened_tiny, tmp_path / "home")
    out = home / "out" / TINY_ROUND
    books = sorted(out.glob("疑似风险户清单_*.xlsx"))
    others = [p for p in books if _county_of(p) != RERUN]
    assert len(others) >= 2 and len(others) < len(books)
    before = {p.name: (_sha(p), p.stat().st_mtime_ns) for p in others}
    target = next(p for p in books if _county_of(p) == RERUN)
    target_before = _sha(target)
    sus_before = pl.read_parquet(out / "suspects.parquet")
    links_before = (_sha(out / "links.parquet"), (out / "links.parquet").stat().st_mtime_ns)

    # a different push date: the rerun county's rows must change, nobody else's
    assert (
        main(["screen", "--round", TINY_ROUND, "--home", str(home), "--county", "融水", "--pushed-on", "2026-10-12"])
        == 0
    )

    assert {p.name: (_sha(p), p.stat().st_mtime_ns) for p in others} == before
    assert _sha(target) != target_before
    sus_after = pl.read_parquet(out / "suspects.parquet")
    key = ["household_id"]
    assert (
        sus_after.filter(pl.col("county_code") != RERUN)
        .sort(key)
        .equals(sus_before.filter(pl.col("county_code") != RERUN).sort(key))
    )
    mine = sus_after.filter(pl.col("county_code") == RERUN)
    assert mine.height > 0 and set(mine["pushed_on"]) == {dt.date(2026, 10, 12)}
    assert set(mine["verify_by"]) == {dt.date(2026, 10, 19)}
    assert sorted(sus_after["household_id"]) == sorted(sus_before["household_id"])  # same screening, no duplicates
    # round-wide department files are left to full rounds
    assert (_sha(out / "links.parquet"), (out / "links.parquet").stat().st_mtime_ns) == links_before

    # what the analyst saw (stdout is not a terminal here): a plain line per step as it started and ended, then a
    # summary in Chinese without the linkage's codes
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("2026Q4 轮集中全面排查开始：融水苗族自治县（单县重跑），推送日期 2026-10-12")
    steps = [line for line in lines if re.match(r"^\[\d+/\d+\] ", line)]
    assert "[1/11] 入库 · 户籍（防止返贫监测对象信息） …" in steps and len(steps) == 22
    assert re.search(r"^\[9/11\] 筛查 · 疑似风险户：疑似风险户 \d+ 户（[\d.]+ 秒）$", "\n".join(steps), re.M)
    assert any(line.startswith("[10/11] 研判 · 规模性、系统性风险：预警区域 ") for line in steps)
    assert any(line.startswith("[11/11] 发布 · 清单与汇总：写出 ") for line in steps)
    summary = "\n".join(lines[lines.index(steps[-1]) + 1 :])
    assert "融水苗族自治县重跑" in summary and "证件号码一致" in summary and "模糊匹配" in summary
    assert not re.search(r"id_exact|id_repaired|fuzzy|unmatched|review|\x1b|\r", summary)

    # the run was that one partition, and the warehouse agrees with the files
    instance = dg.DagsterInstance.from_config(str(home / "dagster"))
    assert set(instance.get_materialized_partitions(dg.AssetKey("round_outputs"))) == {"融水苗族自治县|2026Q4"}
    (run,) = instance.get_runs(filters=dg.RunsFilter(job_name="screening_round"))
    assert run.tags["dagster/partition"] == "融水苗族自治县|2026Q4"
    assert {k: v for k, v in run.tags.items() if k.startswith("fangpin/")} == {
        "fangpin/round": "2026Q4",
        "fangpin/kind": "full",
        "fangpin/county": "融水苗族自治县",
        "fangpin/pushed-on": "2026-10-12",
        "fangpin/source": "cli",
        "fangpin/engine": "duckdb",
    }
    from warehouse.engine import connect

    with connect(home / "warehouse" / "fangpin.duckdb", read_only=True) as con:
        pushed = dict(
            con.sql(
                "SELECT county_code, max(pushed_on) FROM suspect WHERE round_id = ? GROUP BY 1", params=[TINY_ROUND]
            ).fetchall()
        )
    assert pushed.pop(RERUN) == dt.date(2026, 10, 12)
    assert set(pushed.values()) == {dt.date.fromisoformat(PUSHED_ON)}


# ------------------------------------------------------------------------------------------ backfill


def test_backfill_over_two_quarters_is_one_run(screened_tiny, tmp_path):
    from assets.resources import resources_for
    from assets.screening import round_outputs, suspects
    from assets.systemic import systemic_risk
    from pipelines.partitions import backfill_tags
    from pipelines.schedules import round_run_config

    home = copy_home(screened_tiny, tmp_path / "home")
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [suspects, systemic_risk, round_outputs],
            resources=resources_for(home=str(home)),
            instance=instance,
            tags=backfill_tags("2026Q3", "2026Q4"),
            run_config=round_run_config(pushed_on="2026-10-09"),
        )
        assert result.success
        runs = instance.get_runs()
        assert len(runs) == 1
        for key in ("suspects", "systemic_risk", "round_outputs"):
            parts = instance.get_materialized_partitions(dg.AssetKey(key))
            assert len(parts) == 20 and {p.split("|")[1] for p in parts} == {"2026Q3", "2026Q4"}
        checks = {
            (e.asset_check_evaluation_data.check_name, e.asset_check_evaluation_data.passed)
            for e in result.all_events
            if e.event_type_value == "ASSET_CHECK_EVALUATION"
        }
        assert checks == {
            ("evidence_on_every_suspect", True),
            ("flagged_share", True),
            ("county_lists_published", True),
        }
    q3 = home / "out" / "2026Q3"
    assert (q3 / "suspects.parquet").exists() and (q3 / "priority_targets.parquet").exists()  # Q3: priority round
    assert list(q3.glob("重点区域排查_*.xlsx")) and (q3 / "links.parquet").exists()
    assert set(pl.read_parquet(q3 / "suspects.parquet")["kind"]) <= {"priority"}
    from warehouse.engine import connect

    with connect(home / "warehouse" / "fangpin.duckdb", read_only=True) as con:
        rounds = dict(con.sql("SELECT round_id, kind || '/' || status FROM round").fetchall())
    assert rounds["2026Q3"] == "priority/published" and rounds["2026Q4"] == "full/published"


# ------------------------------------------------------------------------------------------ failures name the cause


def test_a_missing_threshold_fails_the_run_naming_the_config_key(screened_tiny, tmp_path):
    from assets.resources import resources_for
    from assets.screening import suspects
    from fangpin.cli import _failure_messages
    from fangpin.settings import PACKAGED

    home = copy_home(screened_tiny, tmp_path / "home")
    rules = yaml.safe_load((PACKAGED / "rules.yaml").read_text(encoding="utf-8"))
    del rules["defaults"]["lost_wage_months"]
    (home / "config").mkdir(exist_ok=True)
    (home / "config" / "rules.yaml").write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [suspects],
            resources=resources_for(home=str(home)),
            instance=instance,
            partition_key="融水苗族自治县|2026Q4",
            raise_on_error=False,
        )
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure).step_failure_data.user_failure_data
    assert failure.metadata["rule"].value == "regions.4502.2026.lost_wage_months"
    assert failure.metadata["file"].value.endswith(os.path.join("config", "rules.yaml"))
    assert "规则配置" in failure.description and "lost_wage_months" in failure.description
    (msg,) = _failure_messages(result)
    assert msg.startswith("筛查 · 疑似风险户：规则配置不完整") and "规则 regions.4502.2026.lost_wage_months" in msg
    assert "rules configuration" not in msg  # the English half stays in the run log


def test_a_failing_rule_step_is_named(tmp_path, monkeypatch):
    from tests.test_rules_support import PUSHED, REF, City
    from warehouse import rules, steps
    from warehouse.engine import connect

    real = steps.render
    monkeypatch.setattr(
        steps,
        "render",
        lambda name, *a, **k: "SELECT * FROM no_such_table" if name == "rules/30_screen" else real(name, *a, **k),
    )
    city = City()
    city.household("H1")
    with connect(tmp_path / "w.duckdb") as con:
        city.flush(con)
        with pytest.raises(rules.RuleStepError) as err:
            rules.screen(con, "2026Q4", "full", REF, PUSHED)
    assert err.value.path == "warehouse/rules/sql/30_screen.sql" and "30_screen.sql" in str(err.value)


def test_a_run_without_partitions_says_to_choose_them(screened_tiny, tmp_path):
    from assets.resources import resources_for
    from assets.screening import suspects

    home = copy_home(screened_tiny, tmp_path / "home")
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [suspects], resources=resources_for(home=str(home)), instance=instance, raise_on_error=False
        )
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure).step_failure_data.user_failure_data
    assert "请选择分区" in failure.description and "fangpin screen --round" in failure.description
