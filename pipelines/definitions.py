"""The code location: assets by group, jobs, schedules and sensors, and the resources of this deployment:
``resources_for()`` reads ``FANGPIN_ENGINE`` (``duckdb`` by default, or ``spark``) and ``FANGPIN_HOME`` when the code
location loads (assets/resources.py)."""

from __future__ import annotations

import dagster as dg

from assets.followup import followup_assets
from assets.forms import official_forms, registry_quality
from assets.ingest import ingest_assets
from assets.resources import resources_for
from assets.screening import links, round_outputs, suspects
from assets.systemic import systemic_risk
from fangpin.home import apply_umask
from pipelines.jobs import jobs_for
from pipelines.schedules import schedules_for
from pipelines.sensors import folder_sensors

# the code location's processes (code server, run workers, sensor ticks) create the warehouse, outputs and receipts
apply_umask()

all_assets = [
    *ingest_assets,
    links,
    suspects,
    systemic_risk,
    round_outputs,
    *followup_assets,
    official_forms,
    registry_quality,
]

defs = dg.Definitions(
    assets=all_assets,
    jobs=jobs_for(all_assets),
    schedules=schedules_for(all_assets),
    sensors=folder_sensors,
    resources=resources_for(),
)
