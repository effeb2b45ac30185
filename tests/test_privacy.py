"""Personal data stays private (issue 14 item 6): files the program creates have no world access, whatever the umask
of the shell that started it."""

from __future__ import annotations

import grp
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from fangpin.home import DataHome, apply_umask

REPO = Path(__file__).resolve().parents[1]


def _world_accessible(root: Path) -> list[str]:
    bad = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            p = Path(dirpath) / name
            mode = stat.S_IMODE(p.lstat().st_mode)
            if mode & 0o007:
                bad.append(f"{p.relative_to(root)} {oct(mode)}")
    return bad


def test_a_round_leaves_no_world_readable_file(screened_tiny):
    """The session's tiny round was run by ``fangpin.cli.main`` in this process, started with pytest's umask (022)."""
    home = DataHome.at(screened_tiny)
    kinds = {
        "warehouse": home.warehouse_path,
        "suspects": home.round_dir("2026Q4") / "suspects.parquet",
        "Dagster storage": home.dagster_home / "history" / "runs.db",
    }
    for what, path in kinds.items():
        assert path.exists(), what
        assert stat.S_IMODE(path.stat().st_mode) in (0o600, 0o660), f"{what}: {oct(path.stat().st_mode)}"
    workbooks = list(home.round_dir("2026Q4").glob("*.xlsx"))
    assert workbooks and all(stat.S_IMODE(p.stat().st_mode) & 0o007 == 0 for p in workbooks)
    for folder in home.private_dirs:
        assert not _world_accessible(folder), _world_accessible(folder)[:10]
        assert stat.S_IMODE(folder.stat().st_mode) & 0o007 == 0, folder


def test_loading_the_dagster_code_location_sets_the_umask():
    env = {k: v for k, v in os.environ.items() if k != "FANGPIN_GROUP"}
    run = subprocess.run(
        [sys.executable, "-c", "import os; os.umask(0o022); import pipelines.definitions; print(oct(os.umask(0)))"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip().splitlines()[-1] == "0o77"


def test_a_sensor_tick_sets_the_umask(tmp_path, monkeypatch):
    import dagster as dg

    from pipelines.sensors import folder_sensors

    monkeypatch.delenv("FANGPIN_GROUP", raising=False)
    monkeypatch.setenv("FANGPIN_HOME", str(tmp_path))
    old = os.umask(0o022)
    try:
        folder_sensors[0].evaluate_tick(dg.build_sensor_context(cursor=None))
        assert os.umask(0o022) == 0o077
    finally:
        os.umask(old)


def test_a_shared_group_gets_group_access_and_folders_pass_it_on(tmp_path, monkeypatch):
    group = grp.getgrgid(os.getgid()).gr_name
    monkeypatch.setenv("FANGPIN_GROUP", group)
    old = os.umask(0o022)
    try:
        assert apply_umask() == 0o007
        home = DataHome.at(tmp_path / "home").ensure()
        (home.warehouse_dir / "x.parquet").write_bytes(b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((home.warehouse_dir / "x.parquet").stat().st_mode) == 0o660
    mode = home.warehouse_dir.stat().st_mode
    assert stat.S_IMODE(mode) & 0o007 == 0 and mode & stat.S_ISGID and home.warehouse_dir.stat().st_gid == os.getgid()


def test_an_old_home_loses_world_access_to_its_private_folders(tmp_path, monkeypatch):
    monkeypatch.delenv("FANGPIN_GROUP", raising=False)
    home = DataHome.at(tmp_path)
    for folder in home.private_dirs:
        folder.mkdir(parents=True)
        folder.chmod(0o755)
    home.landing.mkdir()
    home.landing.chmod(0o755)
    home.ensure()
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o700 for f in home.private_dirs)
    assert stat.S_IMODE(home.landing.stat().st_mode) == 0o755  # departments may drop files there


def test_an_unknown_group_is_one_clear_line(tmp_path, monkeypatch, capsys):
    from fangpin.cli import main

    monkeypatch.setenv("FANGPIN_GROUP", "no-such-group-fangpin")
    assert main(["status", "--home", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "FANGPIN_GROUP" in err and len(err.strip().splitlines()) == 1


@pytest.fixture(autouse=True)
def _restore_umask():
    old = os.umask(0o022)
    os.umask(old)
    yield
    os.umask(old)


def test_the_wall_table_scan_reads_chinese_numerals(tmp_path):
    """A phone number or ID written in Chinese numerals (小写, 大写, mixed with digits) is found like one in digits;
    division names made of numerals (三元村, 第一村民小组) are not."""
    from fangpin.reports.forms import scan_public_workbook
    from fangpin.reports.xlsx import Book, Col

    path = tmp_path / "wall.xlsx"
    cols = [Col("序号", "seq", 6, "int"), Col("户主姓名", "name"), Col("说明", "text")]
    texts = {
        3: "赵六一三八一二三四五六七八",  # the case of issue 14
        4: "联系电话 壹叁捌 壹贰叁肆 伍陆柒捌",
        5: "证件 四五〇二二五一九八六〇五〇一一二三四",
        6: "电话13八12三45六78",
        7: "三元村第一村民小组",
        8: "产业帮扶、一二三期项目",
    }
    rows = [{"seq": r - 2, "name": "户主", "text": t} for r, t in texts.items()]
    with Book(path) as book:
        book.table("公示", cols, rows, title="监测对象公示")
    found = {(int(f.where.split("!")[-1][1:]), f.kind) for f in scan_public_workbook(path) if "!C" in f.where}
    assert {r for r, _ in found} == {3, 4, 5, 6}, found
    assert (5, "证件号码或银行账号（15位以上数字）") in found
    assert (6, "手机号码") in found


def _valid_ids_in(data: bytes) -> set[str]:
    from fangpin.domain import idnumber

    text = data.decode("utf-8", errors="ignore")
    return {m for m in re.findall(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9Xx])", text) if idnumber.is_valid(m)}


def test_no_id_number_reaches_the_dagster_event_log_from_a_file_with_swapped_headers(screened_tiny, tmp_path):
    """A medical extract whose 证件号码 and 就诊类型 headers are swapped: its 就诊类型 column holds ID numbers, the value
    check fails and quotes examples — in the clerk's receipt and the Dagster check metadata, masked."""
    from conftest import copy_home

    from fangpin.cli import main

    home = copy_home(screened_tiny, tmp_path / "home")
    src = next(p for p in (home / "landing" / "medical").glob("*.csv") if "公民身份号码" in p.read_text("utf-8-sig"))
    head, body = src.read_text("utf-8-sig").split("\n", 1)
    swapped = head.replace("就诊类型", "@").replace("公民身份号码", "就诊类型").replace("@", "公民身份号码")
    (home / "landing" / "medical" / "更正_就诊类型.csv").write_text(swapped + "\n" + body, encoding="utf-8")
    assert _valid_ids_in(body.encode()), "the file carries ID numbers to leak"
    assert main(["ingest", "--home", str(home)]) == 0

    storage = b"".join(p.read_bytes() for p in (home / "dagster").rglob("*") if p.is_file())
    text = re.sub(r"\\u([0-9a-f]{4})", lambda m: chr(int(m.group(1), 16)), storage.decode("utf-8", errors="ignore"))
    assert "就诊类型有" in text and "取值不在允许范围" in text, "the failing check's message is in the event log"
    assert _valid_ids_in(storage) == set()
    assert re.search(r"例如：45[0-9]{4}\*{8}[0-9]{3}[0-9X]", text), "its examples are there, masked"
    receipt = next((home / "reports" / "ingest" / "medical").glob("*更正_就诊类型.csv.回执.txt"))
    assert _valid_ids_in(receipt.read_bytes()) == set()
