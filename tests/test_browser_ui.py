"""A real browser on the Dagster UI: the round `fangpin screen` ran is in the screening_round job's run history with
its tags, partitions read as county × quarter, check warnings are readable, the asset graph renders, and a round
launched from the UI completes — with no newsletter pop-up on the way.

What `make ui` gives an analyst, end to end: a copy of the session's tiny city screened by `fangpin screen` (data and
Dagster instance), ``dagster dev`` on a free localhost port (webserver + daemon: the instance's default run
coordinator queues runs and the daemon starts them), Debian's headless Chromium driven by Playwright, with a fresh
profile (as a first visit). Screenshots go to ``test-artifacts/`` at the repository root (``dagster_cli_run.png``,
``dagster_partitions.png``, ``dagster_check_warnings.png``, ``dagster_asset_graph.png``, ``dagster_run_success.png``,
``dagster_runs.png``; on a failure also ``dagster_failure.png`` and the server log ``dagster_dev.log``).

Prerequisites come with ``make test`` (target ``browser-deps``: apt chromium, pip playwright). A missing browser is a
failure, never a skip: CI must prove the UI works.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = Path(os.environ.get("FANGPIN_CHROMIUM", "/usr/bin/chromium"))
# Flags this machine needs (no GPU, no sandbox as root, closed network: no background connections).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_TIMEOUT = 120  # s: dagster dev + code location loaded (cold imports on a fresh machine)
RUN_TIMEOUT = 180  # s: a tiny round takes ~20 s on 2 cores, most of it process start and imports
UI_TIMEOUT_MS = 30_000  # ms: one page or element to appear
GRAPH_NODES = ("registry", "medical_records", "disaster_records", "links", "suspects", "round_outputs")


# ------------------------------------------------------------------------------------------------ the server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DagsterDev:
    """``dagster dev`` in its own process group, output to a log file (a pipe could fill up and block it)."""

    def __init__(self, home: Path, log_path: Path):
        self.home = home
        self.log_path = log_path
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "FANGPIN_HOME": str(self.home),
            "DAGSTER_HOME": str(self.home / "dagster"),
            "DAGSTER_DISABLE_TELEMETRY": "1",
            "GX_ANALYTICS_ENABLED": "false",
            "PYTHONUNBUFFERED": "1",
        }
        cmd = [
            sys.executable,
            "-m",
            "dagster",
            "dev",
            "-w",
            str(REPO / "workspace.yaml"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
        ]
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            cmd,
            cwd=REPO,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    def log_tail(self, lines: int = 80) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:])

    def fail(self, message: str) -> None:
        pytest.fail(
            f"{message}\n--- dagster dev log (last lines; full log {self.log_path}) ---\n{self.log_tail()}",
            pytrace=False,
        )

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        req = urllib.request.Request(
            f"{self.base}/graphql",
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            body = json.load(resp)
        if body.get("errors"):
            raise AssertionError(f"GraphQL errors: {body['errors']}")
        return body["data"]

    def wait_ready(self) -> str:
        """Wait for the webserver and the code location; return the location's name."""
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        last = "not answering yet"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.fail(f"dagster dev exited with code {self.proc.returncode} before it served {self.base}")
            try:
                data = self.graphql(
                    "{ workspaceOrError { __typename ... on Workspace { locationEntries { name loadStatus"
                    " locationOrLoadError { __typename ... on PythonError { message } } } } } }"
                )
                entries = data["workspaceOrError"].get("locationEntries") or []
                for e in entries:
                    loc = e.get("locationOrLoadError") or {}
                    if loc.get("__typename") == "PythonError":
                        self.fail(f"code location {e['name']} failed to load: {loc.get('message')}")
                    if e.get("loadStatus") == "LOADED" and loc.get("__typename") == "RepositoryLocation":
                        return e["name"]
                last = f"locations: {[(e['name'], e.get('loadStatus')) for e in entries]}"
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
                last = repr(exc)
            time.sleep(0.5)
        self.fail(
            f"dagster dev did not serve a loaded code location at {self.base} within {SERVER_START_TIMEOUT} s ({last})"
        )

    def run_status(self, run_id: str) -> str:
        data = self.graphql(
            "query($id: ID!) { runOrError(runId: $id) { __typename ... on Run { status } } }", {"id": run_id}
        )
        return data["runOrError"].get("status") or data["runOrError"]["__typename"]

    def stop(self) -> float:
        """Ctrl-C as in a terminal (SIGINT to the group: dagster dev shuts its services down), then SIGKILL to the
        group for anything left (webserver, daemon, code servers, a run worker). Returns the seconds it took."""
        t0 = time.monotonic()
        if self.proc is not None:
            if self.proc.poll() is None:
                try:
                    os.killpg(self.proc.pid, signal.SIGINT)
                    self.proc.wait(timeout=20)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    pass
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        if getattr(self, "_log", None):
            self._log.close()
        return time.monotonic() - t0


# ------------------------------------------------------------------------------------------------ the test


def _playwright():
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError as exc:
        pytest.fail(
            f"the Python package playwright is missing ({exc}): run `make browser-deps` (extra `browser`)",
            pytrace=False,
        )
    return sync_playwright, expect


SHOTS = (
    "dagster_cli_run.png",
    "dagster_partitions.png",
    "dagster_check_warnings.png",
    "dagster_asset_graph.png",
    "dagster_run_success.png",
    "dagster_runs.png",
    "dagster_failure.png",
    "dagster_dev.log",
)


def test_the_ui_shows_the_cli_round_and_runs_one_of_its_own(screened_tiny, tmp_path, monkeypatch):
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run `make browser-deps` (as root: apt-get install chromium)", pytrace=False
        )
    sync_playwright, expect = _playwright()

    from assets.rounds import RoundConfig, partition_key
    from pipelines.jobs import CODE_LOCATION
    from tests.conftest import PUSHED_ON, TINY_ROUND

    # The session's tiny city after `fangpin screen --round 2026Q4`, with its Dagster instance (the CLI's run in it).
    home = tmp_path / "home"
    shutil.copytree(screened_tiny, home, ignore=shutil.ignore_patterns("spill"))
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    monkeypatch.setenv("FANGPIN_HOME", str(home))
    # The round a UI launch with empty config runs: the current quarter (RoundConfig's default); one county of it.
    round_id = RoundConfig().resolve()[0].round_id
    partition = str(partition_key(round_id, "450225"))  # 融水苗族自治县|<quarter>

    ARTIFACTS.mkdir(exist_ok=True)
    for stale in SHOTS:
        (ARTIFACTS / stale).unlink(missing_ok=True)

    server = DagsterDev(home, tmp_path / "dagster_dev.log")
    started = time.monotonic()
    server.start()
    page = None
    failed_at = "(no page yet)"
    try:
        location = server.wait_ready()
        assert location == CODE_LOCATION, f"code location {location!r}: the CLI files its runs under {CODE_LOCATION!r}"
        t_server = time.monotonic() - started
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                str(tmp_path / "chromium-profile"),  # a fresh profile: a first visit
                executable_path=str(CHROMIUM),
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": 1600, "height": 1000},
            )
            try:
                page = context.new_page()
                page.set_default_timeout(UI_TIMEOUT_MS)
                runs_page = f"{server.base}/locations/{location}/jobs/screening_round/runs"

                # 1. The job's run history holds the CLI's round, with its tags. No pop-up on the first visit (the
                #    newsletter modal would open one second after the page loads; dagster.yaml turns it off).
                page.goto(runs_page)
                for tag in (f"fangpin/round: {TINY_ROUND}", "fangpin/source: cli", f"fangpin/pushed-on: {PUSHED_ON}"):
                    expect(page.get_by_text(tag, exact=True).first).to_be_visible()
                expect(page.get_by_text("fangpin/county: 全部县", exact=True).first).to_be_visible()
                page.wait_for_timeout(2000)
                expect(page.get_by_text("Join the Dagster community")).to_have_count(0)
                page.screenshot(path=str(ARTIFACTS / "dagster_cli_run.png"))
                page.goto(f"{server.base}/runs")  # and the instance-wide Runs page
                expect(page.get_by_text(f"fangpin/round: {TINY_ROUND}", exact=True).first).to_be_visible()

                # 2. Partitions an analyst recognises: county names × quarters.
                page.goto(f"{server.base}/assets/round_outputs?view=partitions")
                for key in ("融水苗族自治县", TINY_ROUND):
                    expect(page.get_by_text(key, exact=True).first).to_be_visible()
                page.screenshot(path=str(ARTIFACTS / "dagster_partitions.png"))

                # 3. The ingest check's warnings are readable where the check's result is shown (not only JSON).
                page.goto(f"{server.base}/assets/disaster_records?view=checks")
                expect(page.get_by_text("校验提示", exact=True)).to_be_visible()
                expect(page.get_by_text("证件号码有效率").first).to_be_visible()
                page.screenshot(path=str(ARTIFACTS / "dagster_check_warnings.png"))

                # 4. The global asset lineage shows every group, collapsed; expand them (the graph's ⌥E shortcut).
                page.goto(f"{server.base}/asset-groups")
                graph = page.locator("svg foreignObject")
                for group in ("ingest", "linkage", "screening", "publish"):
                    expect(graph.get_by_text(group, exact=True).first).to_be_visible()
                if not graph.get_by_text("links", exact=True).is_visible():
                    page.keyboard.press("Alt+KeyE")
                for node in GRAPH_NODES:
                    expect(graph.get_by_text(node, exact=True).first).to_be_visible()
                page.wait_for_timeout(1000)  # let the zoom-to-fit settle before the picture
                page.screenshot(path=str(ARTIFACTS / "dagster_asset_graph.png"))

                # 5. Launch a round from the job's launchpad: one county's partition of the current quarter.
                page.goto(f"{server.base}/locations/{location}/jobs/screening_round/playground")
                _pick_partition(page, expect, partition)
                launch = page.get_by_role("button", name="Launch Run")
                expect(launch).to_be_enabled()
                launch.click()
                page.wait_for_url("**/runs/*")
                run_id = page.url.rstrip("/").split("/runs/")[1].split("?")[0]

                # 6. Wait for the run to end (status read through GraphQL, the UI must then show it too).
                deadline = time.monotonic() + RUN_TIMEOUT
                status = server.run_status(run_id)
                while status not in ("SUCCESS", "FAILURE", "CANCELED") and time.monotonic() < deadline:
                    time.sleep(1)
                    status = server.run_status(run_id)
                if status != "SUCCESS":
                    page.screenshot(path=str(ARTIFACTS / "dagster_failure.png"))
                    server.fail(
                        f"run {run_id} of screening_round ended as {status} (limit {RUN_TIMEOUT} s); "
                        f"screenshot {ARTIFACTS / 'dagster_failure.png'}"
                    )
                expect(page.get_by_text("RUN_SUCCESS").first).to_be_visible()
                expect(page.get_by_text("Success", exact=True).first).to_be_visible()
                page.wait_for_timeout(500)
                page.screenshot(path=str(ARTIFACTS / "dagster_run_success.png"))

                # 7. Both rounds, side by side in the job's history: the UI's (one county) and the CLI's.
                page.goto(runs_page)
                expect(page.get_by_text(f"partition: {partition}", exact=True).first).to_be_visible()
                expect(page.get_by_text(f"fangpin/round: {TINY_ROUND}", exact=True).first).to_be_visible()
                page.screenshot(path=str(ARTIFACTS / "dagster_runs.png"))
            except Exception:
                if page is not None:
                    failed_at = page.url
                    try:
                        page.screenshot(path=str(ARTIFACTS / "dagster_failure.png"))
                    except Exception:
                        pass
                raise
            finally:
                context.close()
    except Exception as exc:  # expect() or a Playwright timeout: add where the UI was and what the server said
        server.fail(f"{type(exc).__name__}: {exc}\nat {failed_at}; screenshot {ARTIFACTS / 'dagster_failure.png'}")
    finally:
        t_stop = server.stop()
        shutil.copyfile(server.log_path, ARTIFACTS / "dagster_dev.log")

    # 8. The UI's round published its outputs into the data home (SPEC §7).
    out = home / "out" / round_id
    assert (out / "suspects.parquet").is_file(), (
        f"no {out / 'suspects.parquet'}; out/ holds {sorted(p.name for p in out.parent.glob('*/*'))}"
    )
    assert (out / "links.parquet").is_file()
    elapsed = time.monotonic() - started
    print(
        f"browser test: server ready {t_server:.1f} s, stopped in {t_stop:.1f} s, total {elapsed:.1f} s; screenshots in {ARTIFACTS}"
    )


def _pick_partition(page, expect, partition: str, attempts: int = 3) -> None:
    """Choose ``partition`` in the launchpad's picker. The picker's list loads after the page: on a busy machine an
    Enter pressed before it arrived selects nothing (CI saw the default partition stay), so wait for the option and
    try again if the launchpad does not show it."""
    chosen = page.get_by_text(f"partition: {partition}", exact=True)
    for attempt in range(attempts):
        picker = page.get_by_placeholder("Partition")
        picker.click()
        picker.fill(partition)
        option = page.get_by_role("menuitem").filter(has_text=partition)
        try:
            expect(option.first).to_be_visible(timeout=15_000)
            option.first.click()
        except AssertionError:
            picker.press("Enter")
        try:
            expect(chosen).to_be_visible(timeout=10_000)
            return
        except AssertionError:
            if attempt == attempts - 1:
                raise
