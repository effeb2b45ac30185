"""The follow-up assets (assets/forms.py) materialise through Dagster, report their checks, and load in a code
location next to the ingest assets they depend on."""

from __future__ import annotations

import sys
from pathlib import Path

import dagster as dg

sys.path.insert(0, str(Path(__file__).parent))
from test_forms_support import household, insert_registry

from assets.forms import followup_assets, official_forms, registry_quality
from assets.resources import resources_for
from fangpin.home import DataHome
from warehouse.engine import connect


def test_followup_assets_materialise(tmp_path):
    home = DataHome.at(tmp_path / "home").ensure()
    with connect(home.warehouse_path) as con:
        insert_registry(con, household("M1") + household("BAD", household_size=7))
    config = {"ops": {name: {"config": {"as_of": "2026-10-09"}} for name in ("official_forms", "registry_quality")}}
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            followup_assets,
            resources=resources_for(home=str(home.root)),
            run_config=config,
            instance=instance,
        )
    assert result.success
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert checks["wall_table_masked"].passed
    assert not checks["no_registry_errors"].passed  # R02 on BAD
    assert checks["no_registry_errors"].severity == dg.AssetCheckSeverity.WARN
    meta = result.asset_materializations_for_node("registry_quality")[0].metadata
    assert meta["errors"].value == 1 and meta["roster_source"].value == "registry"
    assert (home.out / "forms" / "2026-10-09").is_dir()
    assert (home.out / "registry_checks" / "2026-10-09" / "registry_checks.parquet").is_file()


def test_followup_assets_load_next_to_the_ingest_assets():
    from assets.ingest import ingest_assets

    defs = dg.Definitions(assets=[*ingest_assets, official_forms, registry_quality], resources=resources_for())
    dg.Definitions.validate_loadable(defs)
    graph = defs.get_repository_def().asset_graph
    for key in ("official_forms", "registry_quality"):
        node = graph.get(dg.AssetKey(key))
        assert node.group_name == "followup"
        assert dg.AssetKey("registry") in node.parent_keys


def test_followup_assets_load_next_to_part_a_assets():
    """With the ``monitoring_state`` asset (part A) in the code location, the forms come after it."""
    from assets import followup
    from assets.ingest import ingest_assets

    defs = dg.Definitions(
        assets=[*ingest_assets, *followup.followup_assets, official_forms, registry_quality],
        resources=resources_for(),
    )
    dg.Definitions.validate_loadable(defs)
    graph = defs.get_repository_def().asset_graph
    assert dg.AssetKey("monitoring_state") in graph.get(dg.AssetKey("official_forms")).parent_keys
