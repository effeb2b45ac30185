"""The Dagster code location loads, and shows what an analyst expects to find in the UI."""

from __future__ import annotations

from pathlib import Path

import dagster as dg


def test_definitions_load():
    from pipelines.definitions import defs

    dg.Definitions.validate_loadable(defs)
    repo = defs.get_repository_def()
    keys = {k.to_user_string() for k in repo.asset_graph.get_all_asset_keys()}
    assert {
        "registry",
        "medical_records",
        "disaster_records",
        "civil_affairs_records",
        "employment_records",
        "links",
        "suspects",
        "round_outputs",
    } <= keys
    assert {"screening_round", "ingest"} <= {j.name for j in repo.get_all_jobs()}
    assert {f"landing_{f}" for f in ("registry", "medical", "disaster", "civil_affairs", "employment")} <= {
        s.name for s in repo.sensor_defs
    }


def test_folder_sensor_waits_until_a_file_settles(tmp_path):
    from pipelines.sensors import settled_files

    folder = tmp_path / "medical"
    folder.mkdir()
    f = folder / "医保2026年9月.csv"
    f.write_text("姓名,证件号码\n", encoding="utf-8")
    (folder / "partial.csv.tmp").write_text("x", encoding="utf-8")
    ready, cursor = settled_files(folder, {})
    assert ready == []  # first sight: might still be written
    ready, cursor = settled_files(folder, cursor)
    assert [r[0] for r in ready] == ["医保2026年9月.csv"]
    ready, cursor = settled_files(folder, cursor)
    assert ready == []  # already requested
    with f.open("a", encoding="utf-8") as fh:
        fh.write("张三,450225199001011234\n")
    ready, cursor = settled_files(folder, cursor)
    assert ready == []  # changed: wait for it to settle again
    ready, cursor = settled_files(folder, cursor)
    assert [r[0] for r in ready] == ["医保2026年9月.csv"]


def test_the_ui_files_cli_runs_under_this_code_location():
    """The job page in the UI lists runs tagged with its repository label; the CLI tags its runs with the label of
    the code location workspace.yaml (make ui) serves."""
    import yaml

    from pipelines.jobs import CODE_LOCATION, repository_tags

    workspace = yaml.safe_load((Path(__file__).resolve().parents[1] / "workspace.yaml").read_text(encoding="utf-8"))
    (entry,) = workspace["load_from"]
    assert entry["python_module"]["location_name"] == CODE_LOCATION
    assert repository_tags() == {".dagster/repository": f"__repository__@{CODE_LOCATION}"}


def test_what_runs_by_itself_in_a_deployed_instance():
    """Schedules on (the quarterly screening must not wait for someone to switch it on); folder sensors off (an
    incremental round publishes county lists: an analyst's decision)."""
    from pipelines.definitions import defs

    repo = defs.get_repository_def()
    assert "quarterly_screening" in {s.name for s in repo.schedule_defs}
    assert {s.default_status for s in repo.schedule_defs} == {dg.DefaultScheduleStatus.RUNNING}
    assert {s.default_status for s in repo.sensor_defs} == {dg.DefaultSensorStatus.STOPPED}


def test_round_partitions_read_as_county_and_quarter():
    from pipelines.definitions import defs

    keys = defs.resolve_job_def("screening_round").partitions_def.get_partition_keys()
    assert "融水苗族自治县|2026Q4" in keys and "城中区|2025Q1" in keys
    assert len(keys) == 10 * len({k.split("|")[1] for k in keys})
