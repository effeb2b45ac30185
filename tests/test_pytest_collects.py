"""`pytest` run directly collects every test file (issue 14 item 8: four files failed to import).

``make test`` runs ``python -m pytest``, which puts the working directory on ``sys.path`` and so hides a missing
``pythonpath`` in pyproject.toml: ``from tests.conftest import …`` then works there and fails for whoever types
``pytest``. This test collects the suite the way the ``pytest`` script does (``python -P``: the working directory is
not on ``sys.path``, no PYTHONPATH) and fails on any collection error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_pytest_run_directly_collects_every_test_file():
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-P", "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    errors = [line for line in done.stdout.splitlines() if line.startswith("ERROR ")]
    assert done.returncode == 0 and not errors, "\n".join(errors) or done.stdout[-2000:] + done.stderr[-2000:]
    assert Path(__file__).name in done.stdout  # the collection really ran over the tests folder
