"""Landing → archive → read → validate → warehouse: every row accounted for, idempotent, failures isolated."""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import shutil
import threading
import time
from pathlib import Path

import polars as pl
import pytest

from assets.ingestion import ingest_feed
from fangpin import settings
from fangpin.home import CORE_FEEDS, DataHome
from fangpin.synth import generate
from sources import read
from sources.landing import file_hash
from warehouse import engine, load

FEEDS = ("registry",) + CORE_FEEDS


@pytest.fixture()
def city(tmp_path):
    generate(tmp_path, size="tiny", seed=11, round_id="2026Q4")
    return DataHome.at(tmp_path).ensure()


def _ingest_all(home, feeds=FEEDS):
    with engine.connect(home.warehouse_path) as con:
        return {f: ingest_feed(home, f, con) for f in feeds}


def _count(home, sql):
    with engine.connect(home.warehouse_path, read_only=True) as con:
        return con.sql(sql).fetchall()[0][0]


def test_every_generated_row_is_accounted_for(city):
    truth = pl.read_parquet(city.truth / "records.parquet")
    accepted = []
    for feed in FEEDS:
        for path in sorted(city.landing_for(feed).iterdir()):
            result = read.read_file(path, feed)
            assert result.rows_in_file == result.rows.height + result.rejected.height + sum(result.skipped.values()), (
                path.name
            )
            if feed != "registry":
                accepted.append(result.rows.select("source", "source_file", "source_row"))
    accepted = pl.concat(accepted)
    # every department row the generator wrote was accepted (the generator writes readable rows), and nothing else
    keys = ["source", "source_file", "source_row"]
    assert truth.join(accepted, on=keys, how="anti").height == 0
    assert accepted.join(truth, on=keys, how="anti").height == 0


def test_same_bytes_dropped_twice_are_ingested_once(city):
    """A second name for the same bytes: not read again, its receipt names the file whose rows count."""
    _ingest_all(city)
    n_before = _count(city, "SELECT count(*) FROM dept_record")
    first = sorted(city.landing_for("medical").iterdir())[0]
    shutil.copy(first, city.landing_for("medical") / f"重新报送_{first.name}")
    outcome = _ingest_all(city, ("medical",))["medical"]
    by_name = {f.file_name: f for f in outcome.files}
    copy = by_name[f"重新报送_{first.name}"]
    assert copy.status == "identical_copy" and by_name[first.name].status == "already_ingested"
    assert _count(city, "SELECT count(*) FROM dept_record") == n_before
    assert _count(city, "SELECT count(*) FROM ingested_file WHERE feed = 'medical'") == len(by_name) - 1
    receipt = Path(copy.report_path)
    assert receipt.name == f"重新报送_{first.name}.回执.xlsx"
    text = receipt.with_suffix(".txt").read_text(encoding="utf-8")
    assert "未导入" in text and f"只按“{first.name}”计一次" in text
    assert _ingest_all(city, ("medical",))["medical"].count("identical_copy") == 1  # the next run says the same


def test_crash_between_archive_and_load_then_rerun_leaves_no_duplicates(city, monkeypatch):
    real_load = load.load_file
    calls = {"n": 0}

    def crash_on_third(con, **kw):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("simulated crash between archive and load")
        return real_load(con, **kw)

    monkeypatch.setattr(load, "load_file", crash_on_third)
    before = {p.name: file_hash(p) for p in city.landing_for("medical").iterdir()}
    with pytest.raises(RuntimeError):
        _ingest_all(city, ("medical",))
    archived = list((city.archive / "medical").glob("*"))
    assert len(archived) >= 3  # archived before anything else happened to them
    monkeypatch.setattr(load, "load_file", real_load)
    _ingest_all(city, ("medical",))
    _ingest_all(city, ("medical",))  # and once more: nothing new
    truth = pl.read_parquet(city.truth / "records.parquet").filter(pl.col("source") == "medical")
    assert _count(city, "SELECT count(*) FROM dept_record WHERE source = 'medical'") == truth.height
    assert (
        _count(
            city,
            "SELECT count(*) FROM (SELECT source_file, source_row FROM dept_record GROUP BY ALL HAVING count(*) > 1)",
        )
        == 0
    )
    # the landing files were never modified
    assert {p.name: file_hash(p) for p in city.landing_for("medical").iterdir()} == before


def test_unreadable_file_is_quarantined_and_other_feeds_continue(city):
    (city.landing_for("medical") / "医保导出_损坏.xlsx").write_bytes(b"PK\x03\x04" + b"\x00garbage" * 50)
    outcomes = _ingest_all(city)
    bad = [f for f in outcomes["medical"].files if f.file_name == "医保导出_损坏.xlsx"][0]
    assert bad.status == "quarantined" and bad.reason
    assert list((city.quarantine / "medical").glob("*损坏.xlsx"))
    for feed in FEEDS:
        assert outcomes[feed].count("loaded") >= 1, feed
    with engine.connect(city.warehouse_path, read_only=True) as con:
        rows = con.sql(
            "SELECT source_row, reason FROM rejected_row WHERE source_file = '医保导出_损坏.xlsx'"
        ).fetchall()
    assert len(rows) == 1 and rows[0][0] is None and rows[0][1]
    assert (city.reports / "ingest" / "medical").is_dir()


def test_duplicate_events_across_extracts_are_counted_once(city):
    _ingest_all(city)
    truth = pl.read_parquet(city.truth / "records.parquet").select(
        "source", "source_file", "source_row", "is_duplicate"
    )
    with engine.connect(city.warehouse_path, read_only=True) as con:
        flagged = con.sql("SELECT source, source_file, source_row, duplicate_event FROM dept_record").pl()
    joined = flagged.join(truth, on=["source", "source_file", "source_row"])
    # never drop a real event as a duplicate
    assert joined.filter(pl.col("duplicate_event") & ~pl.col("is_duplicate")).height == 0
    dups = joined.filter(pl.col("is_duplicate"))
    assert dups.height > 0 and dups["duplicate_event"].mean() >= 0.8


def test_corrected_file_resent_under_the_same_name_supersedes_the_earlier_version(city):
    """A clerk re-sends 医保结算数据.csv with a change: both versions are kept, the second one's rows carry the name
    plus its content number (no two department rows share (source, source_file, source_row)), and the first one's
    rows are marked superseded: every row accounted for and linked, each event counted from the new version only."""
    from warehouse.linkage import link_records

    _ingest_all(city)
    path = next(p for p in sorted(city.landing_for("medical").iterdir()) if p.suffix == ".csv")
    path.write_bytes(path.read_bytes() + b"\r\n")  # the same rows, one blank line more: a different file
    outcome = _ingest_all(city, ("medical",))["medical"]
    new = next(f for f in outcome.files if f.file_name == path.name and f.status == "loaded")
    stored = f"{path.name}#{new.file_hash[:8]}"
    with engine.connect(city.warehouse_path) as con:
        versions = con.sql(
            "SELECT file_hash, superseded_by FROM ingested_file WHERE file_name = ? AND status = 'loaded'",
            params=[path.name],
        ).fetchall()
        dup_keys = con.sql(
            "SELECT count(*) FROM (SELECT source, source_file, source_row FROM dept_record GROUP BY ALL HAVING count(*) > 1)"
        ).fetchall()[0][0]
        rows = con.sql(
            "SELECT source_file, source_row, duplicate_event, superseded FROM dept_record WHERE source_file IN (?, ?)",
            params=[path.name, stored],
        ).pl()
        link_records(con, home=city.root)
        n_links, n_keys, n_records = con.sql(
            "SELECT count(*), count(DISTINCT (source, source_file, source_row)), (SELECT count(*) FROM dept_record) FROM link"
        ).fetchall()[0]
    old_hash = next(h for h, _ in versions if h != new.file_hash)
    assert sorted(versions) == sorted([(old_hash, new.file_hash), (new.file_hash, None)]) and dup_keys == 0
    first, second = (rows.filter(pl.col("source_file") == n).sort("source_row") for n in (path.name, stored))
    assert second.height == new.rows_accepted == first.height
    assert first["superseded"].all() and not second["superseded"].any(), "the earlier version is superseded"
    # the new version counts its events as the first one did (duplicates of other extracts stay duplicates)
    assert second["duplicate_event"].to_list() == first["duplicate_event"].to_list()
    assert n_links == n_keys == n_records, "one link per department row, none doubled"
    receipt = Path(new.report_path).with_suffix(".txt").read_text(encoding="utf-8")
    assert stored in receipt, "the clerk's receipt says under which name the rows are kept"


# ------------------------------------------------------------------------------------------------ hostile drops

CORPUS = Path(__file__).parent / "fault_corpus"
_spec = importlib.util.spec_from_file_location("hostile", CORPUS / "hostile.py")
hostile = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hostile)
GB = 1 << 30


class _PeakRss:
    """The largest resident memory of this process while the block runs (sampled every 20 ms)."""

    def __enter__(self):
        self.peak, self._stop = 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        page = os.sysconf("SC_PAGE_SIZE")
        while not self._stop.is_set():
            with open("/proc/self/statm", "rb") as fh:
                self.peak = max(self.peak, int(fh.read().split()[1]) * page)
            time.sleep(0.02)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def _receipt(outcome) -> str:
    return Path(outcome.report_path).with_suffix(".txt").read_text(encoding="utf-8")


def _small_medical_csv(rows: list[tuple[str, str, str, str]]) -> bytes:
    lines = ["姓名,身份证号,结算日期,个人自付"] + [",".join(r) for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def test_hostile_drops_are_quarantined_or_rejected_with_receipts_and_the_rest_goes_on(city, tmp_path):
    """Issue 14's hostile set in one drop: one value at XFD100000 (the parser would allocate ≈ 52 GB and abort the
    process), one at BH1048576, a shared-string zip bomb, a hidden file, a link, an identical copy under a second
    name, a CSV with one NUL byte, rows dated after the file arrived. The process lives, memory stays under 2 GB,
    every hostile drop has a receipt that says why, and the generated files load exactly as without them."""
    medical = city.landing_for("medical")
    original = sorted(p for p in medical.iterdir() if p.suffix == ".csv")[0]
    bombs = {
        "医保_远处单元格.xlsx": (hostile.far_cell("XFD100000"), "XFD100000"),
        "医保_整列.xlsx": (hostile.far_cell("BH1048576"), "BH1048576"),
        "医保_共享文本.xlsx": (hostile.shared_string_bomb(200), "压缩了"),
    }
    for name, (data, _) in bombs.items():
        (medical / name).write_bytes(data)
    (medical / ".医保_隐藏.csv").write_bytes(original.read_bytes())
    outside = tmp_path / "别处的文件.csv"
    outside.write_bytes(original.read_bytes())
    os.symlink(outside, medical / "医保_链接.csv")
    shutil.copy(original, medical / f"副本_{original.name}")
    person = "450225198005061233"
    (medical / "医保_空字符.csv").write_bytes(
        _small_medical_csv([("张三", person, "2026-03-05", "100"), ("李四", person, "2026-03-06", "2\x0000"),
                            ("王五", person, "2026-03-07", "300")])
    )  # fmt: skip
    later = (dt.date.today() + dt.timedelta(days=60)).isoformat()
    (medical / "医保_未来日期.csv").write_bytes(
        _small_medical_csv([("赵六", person, "2026-03-05", "100"), ("钱七", person, later, "250")])
    )
    with _PeakRss() as parent:
        outcomes = _ingest_all(city)
    by_name = {f.file_name: f for f in outcomes["medical"].files}

    for name, (_, says) in bombs.items():
        f = by_name[name]
        assert f.status == "quarantined" and says in f.reason, name
        assert "已隔离" in _receipt(f) and says in _receipt(f)
        assert list((city.quarantine / "medical").glob(f"*{name}.reason.txt"))
    for name, status, says in (
        (".医保_隐藏.csv", "skipped", "隐藏文件"),
        ("医保_链接.csv", "skipped", "快捷方式"),
        (f"副本_{original.name}", "identical_copy", f"只按“{original.name}”计一次"),
    ):
        f = by_name[name]
        assert f.status == status and says in _receipt(f) and "未导入" in _receipt(f), name
    nul = by_name["医保_空字符.csv"]
    assert (nul.status, nul.rows_accepted, nul.rows_rejected) == ("loaded", 2, 1), "a NUL byte costs one row"
    future = by_name["医保_未来日期.csv"]
    assert (future.status, future.rows_accepted, future.rows_rejected) == ("loaded", 1, 1)
    with engine.connect(city.warehouse_path, read_only=True) as con:
        reasons = dict(
            con.sql(
                "SELECT source_file, reason FROM rejected_row WHERE source_file IN ('医保_空字符.csv', '医保_未来日期.csv')"
            ).fetchall()
        )
        loaded = con.sql("SELECT source, source_file, source_row FROM dept_record").pl()
    assert "空字符" in reasons["医保_空字符.csv"]
    assert later in reasons["医保_未来日期.csv"] and "晚于文件报送的日期" in reasons["医保_未来日期.csv"]

    assert parent.peak < 2 * GB and outcomes["medical"].reader_peak_rss < 2 * GB
    # the generated files: exactly the truth's rows, as if no hostile file had been dropped
    truth = pl.read_parquet(city.truth / "records.parquet").select("source", "source_file", "source_row")
    generated = loaded.join(truth.select("source_file").unique(), on="source_file", how="semi")
    assert generated.sort(pl.all()).equals(truth.sort(pl.all()))
    for feed in CORE_FEEDS:
        assert all(f.status == "loaded" for f in outcomes[feed].files if f.file_name in set(truth["source_file"]))


def test_truncated_extract_then_the_complete_one_counts_each_event_once(city, tmp_path):
    """Issue 14 item 2: a CSV read while still being written (cut off mid-row), then the finished copy under the same
    name. The complete version supersedes the truncated one: the round's evidence is the same as if only the
    complete file had ever arrived (13 events from 12 before)."""
    from warehouse import rounds, rules
    from warehouse.linkage import link_records

    baseline = DataHome.at(tmp_path / "baseline")
    shutil.copytree(city.root, baseline.root)
    medical = city.landing_for("medical")
    path = max((p for p in medical.iterdir() if p.suffix == ".csv"), key=lambda p: p.stat().st_size)
    complete = path.read_bytes()
    path.write_bytes(complete.rstrip(b"\r\n")[:-3])  # cut off in the middle of the last row
    old = time.time() - 3600
    os.utime(path, (old, old))
    first = {f.file_name: f for f in _ingest_all(city)["medical"].files}[path.name]
    assert first.status == "loaded"
    assert "可能不完整" in _receipt(first), "the clerk is told the last row may be cut off"
    path.write_bytes(complete)  # the finished copy arrives under the same name
    second = {f.file_name: f for f in _ingest_all(city, ("medical",))["medical"].files}[path.name]
    assert second.status == "loaded" and "取代了此前收到的同名文件" in _receipt(second)
    assert Path(second.report_path).name == f"{path.name}#{second.file_hash[:8]}.回执.xlsx"
    assert Path(first.report_path).name == f"{path.name}.回执.xlsx", "receipt names are readable"
    _ingest_all(baseline)

    def evidence(home: DataHome) -> pl.DataFrame:
        with engine.connect(home.warehouse_path) as con:
            link_records(con, home=home.root)
            rounds.start_round(con, "2026Q4", "full", dt.date(2026, 10, 1))
            rules.screen(con, "2026Q4", "full", dt.date(2026, 10, 1), dt.date(2026, 10, 9), home=home.root)
            return con.sql(
                "SELECT household_id, source, source_file, event_date, amount, risk_type FROM suspect_evidence"
            ).pl()

    got, want = evidence(city), evidence(baseline)
    assert got.filter(pl.col("source_file") == path.name).height == 0, "no evidence from the superseded version"
    unversioned = pl.col("source_file").str.replace(r"#[0-9a-f]{8}$", "")
    key = ["household_id", "source", "source_file", "event_date", "amount", "risk_type"]
    assert got.with_columns(unversioned).sort(key).equals(want.sort(key)), "each event counted once, as in the baseline"


def test_a_file_that_kills_its_reader_is_quarantined_and_not_retried_until_dropped_again(city, tmp_path):
    """With the pre-checks switched off in the home's configuration, the XFD workbook reaches the parser and its
    reader process dies (a failed 52 GB allocation aborts it): that file is quarantined with a receipt, the others
    load, and it is not read again until it is dropped again (a newer copy)."""
    cfg = (settings.PACKAGED / "ingest.yaml").read_text(encoding="utf-8")
    cfg = cfg.replace("max_cells: 40000000", "max_cells: 100000000000").replace(
        "max_columns: 1000", "max_columns: 20000"
    )
    (city.config_dir).mkdir(parents=True, exist_ok=True)
    (city.config_dir / "ingest.yaml").write_text(cfg, encoding="utf-8")
    bad = city.landing_for("medical") / "医保_崩溃.xlsx"
    bad.write_bytes(hostile.far_cell("XFD100001"))
    with _PeakRss() as parent:
        first = {f.file_name: f for f in _ingest_all(city, ("medical",))["medical"].files}
    f = first[bad.name]
    assert f.status == "quarantined" and "内存" in f.reason and "不会再被自动重试" in f.reason
    assert "已隔离" in _receipt(f)
    assert all(o.status == "loaded" for n, o in first.items() if n != bad.name)
    assert parent.peak < 2 * GB
    with engine.connect(city.warehouse_path, read_only=True) as con:
        code = con.sql("SELECT reason_code FROM ingested_file WHERE file_name = ?", params=[bad.name]).fetchall()
    assert code == [("reader_memory",)]
    again = {f.file_name: f for f in _ingest_all(city, ("medical",))["medical"].files}
    assert again[bad.name].status == "already_ingested", "not retried while it is the same drop"
    later = time.time() + 5
    os.utime(bad, (later, later))  # dropped again
    retried = {f.file_name: f for f in _ingest_all(city, ("medical",))["medical"].files}
    assert retried[bad.name].status == "quarantined", "a new drop is read again"


def test_loader_history_names_versions_and_forgets_a_half_done_attempt(tmp_path):
    """The loader's one look at ``ingested_file`` per file decides three things: a name whose earlier file was
    blocked keeps its name (no rows of it are stored), the next loaded version of a name carries its content number
    and supersedes only the version not yet superseded, and the same bytes loaded again replace their own rows."""
    schema = {"source": pl.String, "source_file": pl.String, "source_row": pl.Int64, "event_key": pl.String}
    none = pl.DataFrame(schema={"source": pl.String, "source_file": pl.String, "source_row": pl.Int64})

    def drop(con, file_hash, status="loaded", rows=2):
        frame = pl.DataFrame(
            {"source": ["medical"] * rows, "source_file": ["a.csv"] * rows, "source_row": list(range(1, rows + 1))},
            schema_overrides=schema,
        ).with_columns(event_key=pl.lit(None, dtype=pl.String), file_hash=pl.lit(file_hash))
        return load.load_file(
            con, table="dept_record", feed="medical", file_name="a.csv", file_hash=file_hash, archived_path="x",
            rows=frame, rejected=none, rows_in_file=rows, rows_skipped=0, status=status,
        )  # fmt: skip

    with engine.connect(tmp_path / "w.duckdb") as con:
        blocked = drop(con, "b" * 64, status="blocked")
        first, second = drop(con, "1" * 64), drop(con, "2" * 64)
        third = drop(con, "3" * 64, rows=3)
        again = drop(con, "3" * 64, rows=3)  # an interrupted attempt of the same bytes, run again
        stored = con.sql("SELECT source_file, count(*) FROM dept_record GROUP BY 1 ORDER BY 1").fetchall()
        superseded_by = dict(con.sql("SELECT file_hash, superseded_by FROM ingested_file").fetchall())
    assert blocked.rows_loaded == 0 and blocked.superseded == []
    assert first.source_file == "a.csv", "the blocked namesake stored nothing: the first loaded file keeps its name"
    assert (second.source_file, second.superseded) == ("a.csv#22222222", ["1" * 64])
    assert (third.source_file, third.superseded) == ("a.csv#33333333", ["2" * 64]), "only the current version"
    assert (again.source_file, again.superseded) == ("a.csv#33333333", [])
    assert stored == [("a.csv", 2), ("a.csv#22222222", 2), ("a.csv#33333333", 3)], "no row twice"
    assert superseded_by == {"b" * 64: None, "1" * 64: "2" * 64, "2" * 64: "3" * 64, "3" * 64: None}
