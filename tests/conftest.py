"""Shared fixtures: a tiny synthetic city, screened once per test session through Dagster."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")

TINY_ROUND = "2026Q4"
PUSHED_ON = "2026-10-09"


@pytest.fixture(scope="session")
def tiny_home(tmp_path_factory) -> Path:
    """A freshly generated tiny city (landing + truth), not yet ingested."""
    from fangpin.synth import generate

    home = tmp_path_factory.mktemp("tiny_city")
    generate(home, size="tiny", seed=7, round_id=TINY_ROUND)
    return home


@pytest.fixture(scope="session")
def screened_tiny(tiny_home) -> Path:
    """The tiny city after one full round run by the CLI (in process, through Dagster)."""
    from fangpin.cli import main

    code = main(["screen", "--round", TINY_ROUND, "--home", str(tiny_home), "--pushed-on", PUSHED_ON])
    assert code == 0, "fangpin screen failed on the tiny city"
    return tiny_home
