"""Landing → archive → quarantine: idempotent, atomic, never touching the clerk's file, never trusting its name."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from sources import archive as A
from sources import landing as L
from sources.read import UnreadableFile, read_file
from sources.report import report_paths, write_clerk_report

CORPUS = Path(__file__).parent / "fault_corpus" / "files"


def _drop(home: Path, feed: str, name: str, data: bytes) -> Path:
    p = home / "landing" / feed / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return p


def test_scan_skips_temporary_hidden_and_folders(tmp_path):
    for name in ("a.csv", "b.xlsx", ".hidden.csv", "c.csv.tmp", "d.part", "~$b.xlsx", "Thumbs.db", "e.crdownload"):
        _drop(tmp_path, "medical", name, b"x")
    (tmp_path / "landing" / "medical" / "sub").mkdir()
    _drop(tmp_path, "disaster", "z.csv", b"y")
    _drop(tmp_path, "feedback", "f.xlsx", b"y")
    os.symlink(tmp_path / "landing" / "medical" / "a.csv", tmp_path / "landing" / "medical" / "link.csv")
    found = L.scan(tmp_path)
    assert [(d.feed, d.path.name) for d in found] == [
        ("disaster", "z.csv"),
        ("medical", "a.csv"),
        ("medical", "b.xlsx"),
    ]
    assert [d.path.name for d in L.scan(tmp_path, ["medical"])] == ["a.csv", "b.xlsx"]
    assert L.scan(tmp_path, ["nope"]) == []
    assert found[1].size == 1 and found[1].mtime > 0


def test_file_hash_is_sha256(tmp_path):
    p = _drop(tmp_path, "medical", "a.csv", b"hello" * 300_000)
    assert L.file_hash(p) == hashlib.sha256(b"hello" * 300_000).hexdigest()


def test_archive_is_idempotent_and_never_modifies_landing(tmp_path):
    data = (CORPUS / "medical" / "01_gbk_title_total.csv").read_bytes()
    p = _drop(tmp_path, "medical", "医保 结算.csv", data)
    os.utime(p, (1_700_000_000, 1_700_000_000))
    before = (p.read_bytes(), p.stat().st_mtime)
    [dropped] = L.scan(tmp_path, ["medical"])
    a1 = A.archive(tmp_path, dropped)
    a2 = A.archive(tmp_path, dropped)
    assert a1 == a2
    assert a1.file_hash == hashlib.sha256(data).hexdigest()
    assert a1.archived_path == tmp_path / "archive" / "medical" / f"{a1.file_hash[:16]}__医保 结算.csv"
    assert a1.archived_path.read_bytes() == data and a1.file_name == "医保 结算.csv"
    assert (p.read_bytes(), p.stat().st_mtime) == before
    # no temporary files left behind
    assert sorted(x.name for x in a1.archived_path.parent.iterdir()) == [a1.archived_path.name]
    # the same bytes under another name are the same file (same hash) — the loader skips it by hash
    q = _drop(tmp_path, "medical", "copy.csv", data)
    a3 = A.archive(tmp_path, L.DroppedFile("medical", q, len(data), 0.0))
    assert a3.file_hash == a1.file_hash


@pytest.mark.parametrize(
    "name, expected",
    [
        ("../../etc/passwd", "passwd"),
        ("a/b\\c.csv", "c.csv"),
        ("..", "file"),
        ("", "file"),
        ("医保\x00结算\n.csv", "医保结算.csv"),
        ("x;rm -rf $(HOME).csv", "x_rm -rf _(HOME).csv"),
        ("名" * 200 + ".xlsx", None),
    ],
)
def test_sanitise_name(name, expected):
    s = A.sanitise_name(name)
    assert "/" not in s and "\\" not in s and s not in (".", "..") and s
    assert len(s.encode("utf-8")) <= 150
    if expected is not None:
        assert s == expected
    else:
        assert s.endswith(".xlsx")


def test_archive_rejects_bad_feed_names(tmp_path):
    with pytest.raises(ValueError):
        A.archive(tmp_path, L.DroppedFile("../x", tmp_path / "f", 0, 0.0))


def test_quarantine_with_reason(tmp_path):
    p = _drop(tmp_path, "medical", "x.xlsx", (CORPUS / "medical" / "09_password.xlsx").read_bytes())
    arch = A.archive(tmp_path, L.scan(tmp_path, ["medical"])[0])
    with pytest.raises(UnreadableFile) as info:
        read_file(arch.archived_path, "medical", file_name=arch.file_name, file_hash=arch.file_hash)
    q = A.quarantine(tmp_path, arch, info.value.reason)
    assert q.parent == tmp_path / "quarantine" / "medical" and q.read_bytes() == p.read_bytes()
    reason = q.with_name(q.name + ".reason.txt").read_text(encoding="utf-8")
    assert "密码" in reason and "x.xlsx" in reason
    assert A.quarantine(tmp_path, arch, info.value.reason) == q  # idempotent
    rep = write_clerk_report(tmp_path, info.value, feed="medical", file_name=arch.file_name, file_hash=arch.file_hash)
    assert rep == report_paths(tmp_path, "medical", arch.file_name, arch.file_hash)[0]


def test_one_bad_file_does_not_stop_the_others(tmp_path):
    """What the lead's asset does per feed: archive everything, read each, quarantine the unreadable."""
    for rel in (
        "medical/11_empty.csv",
        "medical/02_utf8_bom_crlf.csv",
        "medical/10_garbage.xlsx",
        "disaster/18_wanyuan.xlsx",
    ):
        _drop(tmp_path, rel.split("/")[0], Path(rel).name, (CORPUS / rel).read_bytes())
    outcomes = {}
    for d in L.scan(tmp_path):
        arch = A.archive(tmp_path, d)
        try:
            r = read_file(arch.archived_path, d.feed, file_name=arch.file_name, file_hash=arch.file_hash, home=tmp_path)
            outcomes[arch.file_name] = r.rows.height
        except UnreadableFile as exc:
            A.quarantine(tmp_path, arch, exc.reason)
            outcomes[arch.file_name] = exc.code
    assert outcomes == {
        "11_empty.csv": "empty",
        "02_utf8_bom_crlf.csv": 5,
        "10_garbage.xlsx": "binary",
        "18_wanyuan.xlsx": 2,
    }


def test_home_override_of_aliases(tmp_path):
    """A new department export is a configuration change: add an alias in <home>/config/aliases.yaml."""
    data = "就诊人,身份号,费用日期,自付部分\n张三,450225198005061231,2026-03-01,12.5\n".encode()
    p = _drop(tmp_path, "medical", "new.csv", data)
    with pytest.raises(UnreadableFile):
        read_file(p, "medical", home=tmp_path)
    packaged = (Path(__file__).resolve().parents[1] / "fangpin" / "config" / "aliases.yaml").read_text(encoding="utf-8")
    patched = (
        packaged.replace("name: [姓名, 患者姓名,", "name: [姓名, 就诊人, 患者姓名,")
        .replace("settle_date: [结算日期,", "settle_date: [结算日期, 费用日期,")
        .replace("out_of_pocket: [合规自付,", "out_of_pocket: [合规自付, 自付部分,")
        .replace("参保人身份证号码,", "参保人身份证号码, 身份号,")
    )
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "aliases.yaml").write_text(patched, encoding="utf-8")
    r = read_file(p, "medical", home=tmp_path)
    assert r.rows.height == 1 and r.rows["out_of_pocket"][0] == 12.5 and r.rows["id_status"][0] == "valid"


def test_only_settled_files_are_read(tmp_path):
    """A file younger than the settle interval is waited for; one that keeps changing is left for the next run;
    temporary and lock names are never listed; hidden files and links are listed apart (they get receipts)."""
    now = 1_700_000_100.0
    old = _drop(tmp_path, "medical", "a.csv", b"1")
    young = _drop(tmp_path, "medical", "b.csv", b"2")
    busy = _drop(tmp_path, "medical", "c.csv", b"3")
    os.utime(old, (now - 60, now - 60))
    os.utime(young, (now - 1, now - 1))
    os.utime(busy, (now - 1, now - 1))
    for name in ("~$a.xlsx", ".~lock.a.xlsx#", "d.csv.part", "e.tmp", ".hidden.csv"):
        _drop(tmp_path, "medical", name, b"x")
    os.symlink(old, tmp_path / "landing" / "medical" / "link.csv")
    clock = {"t": now}

    def sleep(s):  # time passes; the busy file is written again meanwhile
        clock["t"] += s
        busy.write_bytes(busy.read_bytes() + b"3")
        os.utime(busy, (clock["t"], clock["t"]))

    files = L.scan(tmp_path, ["medical"])
    assert [f.name for f in files] == ["a.csv", "b.csv", "c.csv"]
    ready, changing = L.settle(files, 2, 10, now=lambda: clock["t"], sleep=sleep)
    assert [f.name for f in ready] == ["a.csv", "b.csv"] and [f.name for f in changing] == ["c.csv"]
    assert 1 <= clock["t"] - now <= 10, "waited for the young file, not longer than the limit"
    assert [(s.name, s.why) for s in L.scan_skipped(tmp_path, ["medical"])] == [
        (".hidden.csv", "hidden"),
        ("link.csv", "link"),
    ]


def test_sensor_waits_the_configured_settle_interval_when_longer_than_a_tick(tmp_path):
    from pipelines.sensors import settled_files

    folder = tmp_path / "landing" / "medical"
    p = _drop(tmp_path, "medical", "a.csv", b"1")
    mtime = p.stat().st_mtime
    ready, cursor = settled_files(folder, {}, settle_seconds=120, now=mtime + 31)
    ready, cursor = settled_files(folder, cursor, settle_seconds=120, now=mtime + 62)
    assert ready == [], "unchanged across two ticks, but not yet for 120 s"
    ready, cursor = settled_files(folder, cursor, settle_seconds=120, now=mtime + 125)
    assert [r[0] for r in ready] == ["a.csv"]
