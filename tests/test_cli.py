"""The command line as a bureau analyst meets it: Chinese help; every bad argument caught before anything runs (one
Chinese line naming the option, exit code 2, no Dagster run recorded, no traceback); output piped into `head` ends
cleanly; progress lines from the run's event stream, on a terminal and off it."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from fangpin.cli import build_parser, main

REPO = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u4e00-\u9fff]")


def _fangpin(*args: str, **kwargs) -> subprocess.CompletedProcess:
    """The installed command's entry point (``fangpin.cli:console``) in a fresh process."""
    return subprocess.run(
        [sys.executable, "-c", "import sys; from fangpin.cli import console; sys.exit(console())", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        **kwargs,
    )


@pytest.mark.parametrize("cmd", [[], ["generate"], ["screen"], ["ingest"], ["followup"], ["status"]])
def test_help_everywhere_in_chinese(cmd, capsys):
    with pytest.raises(SystemExit) as exc:
        main(cmd + ["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("用法：") and "显示本帮助后退出" in out
    assert "--home" in out or cmd == []
    assert "show this help" not in out and "usage:" not in out


def test_parser_lists_the_commands():
    text = build_parser().format_help()
    for cmd in ("generate", "screen", "ingest", "followup", "status"):
        assert cmd in text


def _runs(home: Path) -> int:
    import dagster as dg

    return len(dg.DagsterInstance.from_config(str(home / "dagster")).get_runs())


@pytest.mark.parametrize(
    "argv, option",
    [
        (["screen", "--round", "2026Q4", "--pushed-on", "2026-13-01"], "--pushed-on"),
        (["screen", "--round", "2026Q4", "--pushed-on", "today"], "--pushed-on"),
        (["screen", "--round", "2026Q9"], "--round"),
        (["screen", "--round", "2040Q1"], "--round"),  # a well-formed round outside the partitions
        (["screen", "--round", "../2026Q4"], "--round"),
        (["screen", "--round", "2026Q4", "--kind", "weekly"], "--kind"),
        (["screen", "--round", "2026Q4", "--county", "南宁"], "--county"),
        (["screen", "--round", "2026Q4", "--verbos"], "--verbos"),  # not taken for --verbose
        (["screen", "--round", "2026Q4", "--pushed", "2026-10-09"], "--pushed"),
        (["screen"], "--round"),
        (["followup", "--as-of", "2027-02-30"], "--as-of"),
        (["generate", "--size", "huge"], "--size"),
        (["generate", "--scale", "0"], "--scale"),
        (["generate", "--round", "2026-11-adhoc"], "--round"),
    ],
)
def test_a_bad_argument_is_one_chinese_line_and_no_run(argv, option, screened_tiny, capsys):
    """Checked before the run: the data home's Dagster instance records nothing (so no asset is marked failed)."""
    before = _runs(screened_tiny)
    assert main(argv + ["--home", str(screened_tiny)]) == 2
    out, err = capsys.readouterr()
    (line,) = err.splitlines()
    assert line.startswith(f"fangpin {argv[0]}：") and option in line and CJK.search(line), line
    assert "Traceback" not in err and out == ""
    assert _runs(screened_tiny) == before


def test_screen_without_registry_says_what_to_do(tmp_path, capsys):
    code = main(["screen", "--round", "2026Q4", "--home", str(tmp_path / "empty")])
    (line,) = capsys.readouterr().err.splitlines()
    assert code == 2
    assert "没有户籍文件" in line and "fangpin generate" in line


def test_screen_for_a_year_without_monitoring_line(tmp_path, capsys):
    from fangpin.settings import PACKAGED

    reg = tmp_path / "landing" / "registry"
    reg.mkdir(parents=True)
    (reg / "x.csv").write_text("户编号\n", encoding="utf-8")
    rules = yaml.safe_load((PACKAGED / "rules.yaml").read_text(encoding="utf-8"))
    del rules["regions"]["4502"][2026]
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "rules.yaml").write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    code = main(["screen", "--round", "2026Q3", "--home", str(tmp_path)])
    (line,) = capsys.readouterr().err.splitlines()
    assert code == 2
    assert "--round" in line and "2026 年的监测线" in line and "regions.4502.2026.monitoring_line" in line
    assert not (tmp_path / "dagster").exists(), "nothing may start before the arguments are checked"


def test_status_on_a_new_home(tmp_path, capsys):
    assert main(["status", "--home", str(tmp_path / "nothing")]) == 0
    assert "尚不存在" in capsys.readouterr().out


def test_status_speaks_chinese(screened_tiny, capsys):
    assert main(["status", "--home", str(screened_tiny)]) == 0
    out = capsys.readouterr().out
    assert "医保局" in out and "集中全面排查" in out and "已发布" in out and "已入库" in out
    for code in ("loaded", "published", " full ", "ingested files", "last rounds"):
        assert code not in out


def test_generate_refuses_to_overwrite_without_force(tmp_path, capsys):
    assert main(["generate", "--size", "tiny", "--home", str(tmp_path)]) == 0
    assert main(["generate", "--size", "tiny", "--home", str(tmp_path)]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["generate", "--size", "tiny", "--home", str(tmp_path), "--force"]) == 0


def test_status_piped_into_head_exits_cleanly(screened_tiny):
    """`fangpin status | head -1`: head leaves after one line; fangpin must end without a BrokenPipeError."""
    cmd = f"{sys.executable} -m fangpin.cli status --home {screened_tiny} | head -1"
    run = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True, cwd=REPO)
    assert run.returncode == 0 and run.stdout.startswith("数据目录：") and len(run.stdout.splitlines()) == 1
    assert run.stderr == ""
    # deterministic variant: the reader is gone before fangpin writes a byte
    proc = subprocess.Popen(
        [sys.executable, "-m", "fangpin.cli", "status", "--home", str(screened_tiny)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
    )
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait() == 0 and err == ""


def test_the_fangpin_command_passes_on_output_and_exit_code(tmp_path):
    """The installed ``fangpin`` command is ``fangpin.cli:console`` (main, then a quick exit): what it prints and its
    exit code must be main's."""
    import tomllib

    assert (
        tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]["fangpin"]
        == "fangpin.cli:console"
    )
    ok = _fangpin("status", "--home", str(tmp_path / "new"))
    assert ok.returncode == 0 and ok.stdout.strip()
    bad = _fangpin("screen", "--round", "2026Q4", "--home", str(tmp_path / "new"))
    assert bad.returncode == 2 and "fangpin generate" in bad.stderr, "the error and its fix reach the clerk"
    assert len(bad.stderr.splitlines()) == 1


# ------------------------------------------------------------------------------------------ progress


def _event(kind: str, step: str, **data):
    """An event log entry as the instance hands it to a listener (only the fields RunProgress reads)."""
    specific = SimpleNamespace(**data)
    if "metadata" in data:
        specific = SimpleNamespace(materialization=SimpleNamespace(metadata=data["metadata"]))
    return SimpleNamespace(
        dagster_event=SimpleNamespace(event_type_value=kind, step_key=step, event_specific_data=specific),
        level=20,
        user_message="",
        step_key=step,
    )


def _feed(progress, clock):
    for step in ("medical_records", "links", "suspects"):
        progress(_event("ASSET_MATERIALIZATION_PLANNED", step))
    progress(_event("STEP_START", "medical_records"))
    clock[0] += 4.25
    meta = {"new_files": 6, "rows_loaded": 14497, "rows_rejected": 3, "blocked_files": 1, "quarantined_files": 0}
    progress(_event("ASSET_MATERIALIZATION", "medical_records", metadata=meta))
    progress(_event("STEP_SUCCESS", "medical_records"))
    progress(_event("STEP_START", "links"))
    clock[0] += 75
    progress(_event("STEP_FAILURE", "links"))
    skipped = "Dependencies for step suspects failed: ['links']. Not executing."
    progress(SimpleNamespace(dagster_event=None, level=30, user_message=skipped, step_key="suspects"))
    progress.close()


def test_progress_off_a_terminal_is_plain_lines():
    from fangpin.progress import RunProgress

    out, clock = io.StringIO(), [0.0]
    _feed(RunProgress(out, tty=False, feed_names={"medical": "医保局"}, clock=lambda: clock[0]), clock)
    assert out.getvalue().splitlines() == [
        "[1/3] 入库 · 医保局 …",
        "[1/3] 入库 · 医保局：新文件 6 个，入库 14,497 行，拒收 3 行，1 个文件未入库（见回执）（4.2 秒）",
        "[2/3] 匹配 · 部门记录与户籍人员 …",
        "[2/3] 匹配 · 部门记录与户籍人员：失败（1 分 15 秒）",
        "[3/3] 筛查 · 疑似风险户：未运行（前面的步骤失败）",
    ]


def test_progress_on_a_terminal_redraws_one_status_line():
    from fangpin.progress import RunProgress

    class Tty(io.StringIO):
        def isatty(self):
            return True

    out, clock = Tty(), [0.0]
    _feed(RunProgress(out, feed_names={"medical": "医保局"}, clock=lambda: clock[0], refresh_seconds=60), clock)
    text = out.getvalue()
    assert "\r\x1b[2K[2/3] 匹配 · 部门记录与户籍人员 …" in text  # the transient status line of the running step
    finished = [line.rsplit("\r\x1b[2K", 1)[-1] for line in text.split("\n")[:-1]]
    assert finished == [
        "[1/3] 入库 · 医保局：新文件 6 个，入库 14,497 行，拒收 3 行，1 个文件未入库（见回执）（4.2 秒）",
        "[2/3] 匹配 · 部门记录与户籍人员：失败（1 分 15 秒）",
        "[3/3] 筛查 · 疑似风险户：未运行（前面的步骤失败）",
    ]
    assert text.endswith("\r\x1b[2K")  # the status line is cleared for the summary


def test_progress_stops_quietly_when_the_reader_goes_away():
    """`fangpin screen | head -3`: the pipe closes mid-run; the run must go on (no exception into Dagster)."""
    from fangpin.progress import RunProgress

    class Closed(io.StringIO):
        def write(self, s):
            raise BrokenPipeError(32, "Broken pipe")

    progress = RunProgress(Closed(), tty=False)
    progress(_event("STEP_START", "links"))
    progress(_event("STEP_SUCCESS", "links"))
    assert progress.out is None and progress.done == 1


def test_the_runs_own_warnings_reach_the_analyst_in_chinese():
    """Warnings of the run's Dagster log are English (for the UI's technicians); the ones an analyst must read come to
    the command line in Chinese, others as they are."""
    import inspect

    from assets import resources
    from fangpin import lock
    from fangpin.progress import RunProgress

    killed = "run a67096c3-4dc0-4250-8732-3ab99d99db68 was left unfinished by a killed process: marked failed"
    swept = "removed 3 leftovers of an interrupted write from the Spark warehouse"
    # the texts the code logs (a changed wording there must change the patterns too)
    assert "was left unfinished by a killed process: marked failed" in inspect.getsource(lock.run_lease)
    assert "leftovers of an interrupted write from the Spark warehouse" in inspect.getsource(resources)
    out = io.StringIO()
    progress = RunProgress(out, tty=False)
    for message, step in ((killed, None), (swept, None), ("something else entirely", "links")):
        progress(SimpleNamespace(dagster_event=None, level=30, user_message=message, step_key=step))
    progress.close()
    assert out.getvalue().splitlines() == [
        "  注意（运行）：运行 a67096c3 因进程被强行终止而没有完成，已在 Dagster 中标记为失败",
        "  注意（运行）：已清除 Spark 数据仓库中上次中断写入留下的 3 个残留文件",
        "  注意（匹配 · 部门记录与户籍人员）：something else entirely",
    ]


def test_module_logs_go_to_the_homes_log_file_not_the_console(tmp_path):
    """A quarantined file is told in Chinese (progress line, receipt); the module's English log line goes to the
    home's private log file — on the terminal only with --verbose. (The command runs in its own process: under pytest
    the logging plugin's handlers would hide what Python prints by itself.)"""
    home = tmp_path / "h"
    (home / "landing" / "medical").mkdir(parents=True)
    (home / "landing" / "medical" / "坏文件.xlsx").write_bytes(b"PK\x03\x04garbage")
    done = _fangpin("ingest", "--home", str(home))
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stderr == "" and "未入库" in done.stdout
    log = home / "dagster" / "fangpin.log"
    assert "quarantined medical/坏文件.xlsx: unsupported" in log.read_text(encoding="utf-8")
    assert log.stat().st_mode & 0o077 == 0, "the log names clerks' files: private like the rest of the home"


def test_verbose_shows_this_projects_log_lines_and_other_libraries_warnings_only(tmp_path, capsys):
    import logging

    from fangpin.cli import _python_logs
    from fangpin.home import DataHome

    home = DataHome.at(tmp_path / "h")
    with _python_logs(home, verbose=True):
        logging.getLogger("fangpin.ingest").info("quarantined medical/x.xlsx: unsupported")
        logging.getLogger("alembic.runtime.migration").info("Context impl SQLiteImpl.")
        logging.getLogger("alembic.runtime.migration").warning("a library's warning")
    err = capsys.readouterr().err
    assert "fangpin.ingest: quarantined medical/x.xlsx" in err and "a library's warning" in err
    assert "SQLiteImpl" not in err
    assert "quarantined" in (tmp_path / "h" / "dagster" / "fangpin.log").read_text(encoding="utf-8")
    with _python_logs(home, verbose=False):  # afterwards: nothing of the verbose run is left switched on
        logging.getLogger("fangpin.ingest").info("not shown")
    assert capsys.readouterr().err == "" and logging.getLogger("fangpin").level == logging.NOTSET


def test_generate_without_surges_plants_none(tmp_path, capsys):
    """--no-surges: a city to measure the systemic-risk watch's false alarms on (issue 16). A city made small with
    --scale plants the surges its townships allow (one township each) rather than failing."""
    import polars as pl

    for args, home in (
        (["--scale", "0.3"], "with"),
        (["--scale", "0.3", "--no-surges"], "without"),
        (["--scale", "0.1"], "small"),
    ):
        assert main(["generate", "--size", "demo", "--home", str(tmp_path / home), *args]) == 0
    out = capsys.readouterr().out
    assert "规模性风险：埋设 5 处" in out and "规模性风险：未埋设" in out
    assert pl.read_parquet(tmp_path / "with" / "truth" / "surges.parquet").height == 5
    assert pl.read_parquet(tmp_path / "without" / "truth" / "surges.parquet").is_empty()
    small = pl.read_parquet(tmp_path / "small" / "truth" / "surges.parquet")
    assert 1 <= small.height < 5 and small["township_code"].is_unique().all()


def test_round_summary_says_how_many_suspects_wait_for_a_namesake_check(screened_demo, capsys):
    """The analyst sees at the end of a round how many households are on the lists as 同名待确认 (issue 12)."""
    import polars as pl

    from fangpin.cli import _print_round_summary
    from fangpin.home import DataHome

    pending = pl.read_parquet(screened_demo / "out" / "2026Q4" / "suspects.parquet")["pending_namesake"].sum()
    assert pending > 0
    _print_round_summary(DataHome.at(screened_demo), "2026Q4", "full", 1.0, None, "0123456789")
    out = capsys.readouterr().out
    assert f"其中同名待确认：{pending:,} 户" in out
