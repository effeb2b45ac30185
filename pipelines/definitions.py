"""The code location: assets by group, jobs, schedules and sensors, and the resources of this deployment:
``resources_for()`` reads ``FANGPIN_ENGINE`` (``duckdb`` by default, or ``spark``) and ``FANGPIN_HOME`` when the code
location loads (assets/resources.py).

``defs`` is built once, at import, for the code location (UI, daemon, run workers). The command line runs its jobs in
process and asks :func:`definitions_for` at run time instead: a process that imported ``defs`` with one
``FANGPIN_ENGINE`` must not run a later command on that engine when the variable has changed since (the whole-round
parity test ran "Spark" rounds on DuckDB that way)."""

from __future__ import annotations

import functools

import dagster as dg

from assets.followup import followup_assets
from assets.forms import official_forms, registry_quality
from assets.ingest import ingest_assets
from assets.resources import engine_name, resources_for
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


def build_definitions(engine: str | None = None) -> dg.Definitions:
    """The code location's definitions with the warehouse resource of ``engine`` (None: ``$FANGPIN_ENGINE``)."""
    return dg.Definitions(
        assets=all_assets,
        jobs=jobs_for(all_assets),
        schedules=schedules_for(all_assets),
        sensors=folder_sensors,
        resources=resources_for(engine=engine),
    )


#: the engine ``defs`` was built for (``$FANGPIN_ENGINE`` when this module was imported)
ENGINE = engine_name()
defs = build_definitions(ENGINE)


@functools.cache
def definitions_for(engine: str) -> dg.Definitions:
    """The definitions on ``engine`` ("duckdb" or "spark"), built once per engine and process (the command line)."""
    return defs if engine == ENGINE else build_definitions(engine)
