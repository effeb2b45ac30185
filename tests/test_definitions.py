"""The Dagster code location loads, and shows what an analyst expects to find in the UI."""

from __future__ import annotations

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
