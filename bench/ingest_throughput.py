"""Throughput of ingestion: the readers alone on generated files, or the whole ingest stage of a city.

    .venv/bin/python bench/ingest_throughput.py [--rows 200000] [--repeat 2]
    .venv/bin/python bench/ingest_throughput.py --city var/city-xlsx [--json out.json]

Generated files (default): a 医保 extract with a title row, messy dates/amounts, some bad rows and a 合计 row, as UTF-8
CSV, GBK CSV and XLSX (text ID cells, plus a variant with ID numbers stored as number cells), and a registry person
export as CSV, in a temporary folder (nothing is written to the repository). Prints one line per file: rows, seconds
(best of --repeat), rows/s, and the accepted/rejected/skipped split.

``--city HOME`` (issue 17), in one run on the same machine, with the landing folders of ``HOME`` (a city whose
registry arrives as per-county xlsx workbooks: bench/registry_xlsx.py makes one from a generated city):

1. read alone: every registry workbook parsed into Polars frames (fastexcel, every sheet as text; nothing else), in
   reader processes as ingestion uses them (same pool, same number of processes), and once more serially in one;
2. the ingest stage: every feed's folder ingested into a fresh warehouse (archive, pre-checks, read, normalise,
   measure, GX verdict, load, receipts), in a scratch copy of the home (hard links to the landing files);
3. the registry step (the registry folder's ingest) over the parallel read alone: issue 17 asks for ≤ 2×.

Reported with wall and CPU seconds (the parent's and the reader processes'), the readers' and the parent's peak
resident memory, and the load average before and after each step.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # reader processes import this module by name

from fangpin.domain.idnumber import make_id
from sources.read import read_file

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐韦覃蓝莫廖"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉梅"
TOWNS = ["三防镇", "大埔镇", "雒容镇", "古宜镇", "融水镇", "良寨乡", "洞头镇"]
COUNTIES = ["450225", "450222", "450223", "450226", "450221"]


def medical_rows(n: int, seed: int = 1) -> list[list[object]]:
    rnd = random.Random(seed)
    rows: list[list[object]] = []
    for i in range(n):
        birth = dt.date(1940, 1, 1) + dt.timedelta(days=rnd.randrange(25000))
        pid = make_id(rnd.choice(COUNTIES), birth, rnd.randrange(1000))
        d = dt.date(2026, 1, 1) + dt.timedelta(days=rnd.randrange(180))
        fmt = rnd.randrange(4)
        date_s = [
            d.isoformat(),
            f"{d.year}/{d.month}/{d.day}",
            f"{d.year}年{d.month}月{d.day}日",
            d.strftime("%Y%m%d"),
        ][fmt]
        total = round(rnd.uniform(100, 60000), 2)
        oop = round(total * rnd.uniform(0.05, 0.5), 2)
        oop_s = [f"{oop:.2f}", f"{oop:,.2f}", f"{oop}元"][rnd.randrange(3)]
        name = rnd.choice(SURNAMES) + rnd.choice(GIVEN) + (rnd.choice(GIVEN) if rnd.random() < 0.6 else "")
        if rnd.random() < 0.002:
            date_s = "2026-13-45"  # a rejected row now and then
        rows.append(
            [
                i + 1,
                name,
                pid if rnd.random() > 0.05 else "",
                rnd.choice(TOWNS),
                date_s,
                f"医院{rnd.randrange(80)}",
                f"{total:.2f}",
                f"{total * 0.6:.2f}",
                oop_s,
                "住院" if rnd.random() < 0.7 else "门诊慢特病",
            ]
        )
    return rows


HEAD = ["序号", "姓名", "身份证号", "参保地", "结算日期", "医疗机构", "医疗总费用", "统筹支付", "个人自付", "就诊类型"]


def write_csv(path: Path, rows: list[list[object]], encoding: str) -> None:
    lines = ["柳州市医疗保障局 住院结算明细", ",".join(HEAD)]
    for r in rows:
        lines.append(",".join(f'"{v}"' if "," in str(v) else str(v) for v in r))
    lines.append("合计,,,,,,,,,")
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))


def write_xlsx(path: Path, rows: list[list[object]], numeric_ids: bool = False) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
    ws = wb.add_worksheet("明细")
    ws.write_row(0, 0, ["柳州市医疗保障局 住院结算明细"])
    ws.write_row(1, 0, HEAD)
    for i, r in enumerate(rows, start=2):
        for j, v in enumerate(r):
            if j == 2 and numeric_ids and v and i % 50 == 0:
                ws.write_number(i, j, int(str(v).replace("X", "0")))
            elif j in (6, 7):
                ws.write_number(i, j, float(v))
            else:
                ws.write_string(i, j, str(v))
    ws.write_row(len(rows) + 2, 0, ["合计"])
    wb.close()


def write_registry_csv(path: Path, n: int, seed: int = 2) -> None:
    rnd = random.Random(seed)
    head = [
        "户编号",
        "县(市、区)",
        "乡(镇)",
        "行政村",
        "行政村代码",
        "姓名",
        "证件号码",
        "与户主关系",
        "户类型",
        "监测对象类别",
        "劳动技能",
        "健康状况",
        "人均纯收入（元）",
        "是否易地搬迁户",
    ]
    lines = [",".join(head)]
    hh = 0
    i = 0
    while i < n:
        hh += 1
        county = rnd.choice(COUNTIES)
        code = f"{county}{rnd.randrange(100, 120):03d}{rnd.randrange(200, 230):03d}"
        for m in range(rnd.randint(1, 6)):
            birth = dt.date(1940, 1, 1) + dt.timedelta(days=rnd.randrange(29000))
            lines.append(
                ",".join(
                    [
                        f"{county}{hh:08d}",
                        "某县",
                        "某镇",
                        "某村",
                        code,
                        rnd.choice(SURNAMES) + rnd.choice(GIVEN),
                        make_id(county, birth, rnd.randrange(1000)),
                        "户主" if m == 0 else "之子",
                        "脱贫户",
                        "",
                        "普通劳动力",
                        "健康",
                        str(rnd.randrange(5000, 30000)),
                        "否",
                    ]
                )
            )
            i += 1
            if i >= n:
                break
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))


def run(path: Path, feed: str, repeat: int) -> None:
    best = None
    for _ in range(repeat):
        t = time.perf_counter()
        r = read_file(path, feed)
        dt_ = time.perf_counter() - t
        best = dt_ if best is None else min(best, dt_)
    mb = path.stat().st_size / 1e6
    print(
        f"{path.name:<28} {r.rows_in_file:>9,} rows {mb:7.1f} MB {best:7.2f} s {r.rows_in_file / best:>11,.0f} rows/s"
        f"   accepted {r.rows.height:,} rejected {r.rejected.height:,} skipped {sum(r.skipped.values())}"
    )


# ------------------------------------------------------------------------------------------------ --city


def read_alone(path: str) -> int:
    """What a reader process does in step 1: parse one workbook (or CSV) into frames of text, nothing else."""
    import fastexcel

    data = Path(path).read_bytes()
    if data[:2] != b"PK":
        return pl.read_csv(data, has_header=False, infer_schema=False, truncate_ragged_lines=True).height
    reader = fastexcel.read_excel(data)
    return sum(
        reader.load_sheet(i, header_row=None, dtypes="string").to_polars().height
        for i in range(len(reader.sheet_names))
    )


def _cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _maxrss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def city(home: Path) -> dict:
    import os
    import shutil

    from fangpin import settings
    from fangpin.home import DataHome
    from sources import pool

    registry = sorted(p for p in (home / "landing" / "registry").iterdir() if p.is_file() and "行政村" not in p.name)
    out: dict = {
        "home": str(home),
        "registry_files": len(registry),
        "registry_mb": round(sum(p.stat().st_size for p in registry) / 1e6, 1),
        "cores": pool.cpu_count(),
    }
    limits = pool.PoolLimits.from_config(settings.load("ingest", home))
    out["reader_processes"] = limits.workers

    # 1. read alone, in reader processes (as ingestion runs them), then serially in this process
    load0, t0 = os.getloadavg(), time.perf_counter()
    rp = pool.ReaderPool("ingest_throughput:read_alone", limits)
    try:
        done = [f.result() for f in [rp.submit(str(p), size=p.stat().st_size) for p in registry]]
    finally:
        rp.close()
    out["read_alone_parallel"] = {
        "wall_s": round(time.perf_counter() - t0, 2),
        "reader_cpu_s": round(sum(d.stats.cpu_seconds for d in done), 2),
        "rows": sum(d.value for d in done),
        "reader_peak_rss_mb": round(rp.stats.peak_rss / 2**20),
        "load": [load0, os.getloadavg()],
    }
    load0, t0, c0 = os.getloadavg(), time.perf_counter(), _cpu()
    rows = sum(read_alone(str(p)) for p in registry)
    out["read_alone_serial"] = {
        "wall_s": round(time.perf_counter() - t0, 2),
        "cpu_s": round(_cpu() - c0, 2),
        "rows": rows,
        "load": [load0, os.getloadavg()],
    }

    # 2. the ingest stage in a scratch home (hard links to the landing files), feed by feed as the assets run it
    from assets.ingestion import ingest_feed
    from warehouse import engine

    scratch = home.parent / f".{home.name}-ingest-bench"
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(home / "landing", scratch / "landing", copy_function=os.link)
    if (home / "config").is_dir():
        shutil.copytree(home / "config", scratch / "config")
    try:
        dh = DataHome.at(scratch).ensure()
        feeds = ("registry", "medical", "disaster", "civil_affairs", "employment", "property")
        stage: dict = {"feeds": {}}
        load0, t0, c0 = os.getloadavg(), time.perf_counter(), _cpu()
        reader_cpu = 0.0
        for feed in feeds:
            tf, cf = time.perf_counter(), _cpu()
            with engine.connect(dh.warehouse_path) as con:
                o = ingest_feed(dh, feed, con)
            stage["feeds"][feed] = {
                "wall_s": round(time.perf_counter() - tf, 2),
                "parent_cpu_s": round(_cpu() - cf, 2),
                "reader_cpu_s": round(o.timings.get("read_cpu", 0.0), 2),
                "files": len(o.files),
                "loaded": o.count("loaded"),
                "rows_loaded": o.rows_loaded,
                "reader_peak_rss_mb": round(o.reader_peak_rss / 2**20),
                "steps_s": {k: round(v, 2) for k, v in o.timings.items() if k != "read_cpu"},
            }
            reader_cpu += o.timings.get("read_cpu", 0.0)
        stage.update(
            wall_s=round(time.perf_counter() - t0, 2),
            parent_cpu_s=round(_cpu() - c0, 2),
            reader_cpu_s=round(reader_cpu, 2),
            parent_peak_rss_mb=round(_maxrss_mb()),
            reader_peak_rss_mb=max(f["reader_peak_rss_mb"] for f in stage["feeds"].values()),
            load=[load0, os.getloadavg()],
        )
        out["ingest_stage"] = stage
    finally:
        pool.close_all()
        shutil.rmtree(scratch, ignore_errors=True)

    reg = out["ingest_stage"]["feeds"]["registry"]
    out["registry_over_read_alone"] = round(reg["wall_s"] / out["read_alone_parallel"]["wall_s"], 2)
    out["registry_over_serial_read_alone"] = round(reg["wall_s"] / out["read_alone_serial"]["wall_s"], 2)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--city", type=Path, help="a city home: read alone vs the ingest stage (see the docstring)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    if args.city:
        import json

        result = city(args.city.resolve())
        text = json.dumps(result, indent=2, ensure_ascii=False)
        print(text)
        if args.json:
            args.json.write_text(text, encoding="utf-8")
        return
    print(f"polars {pl.__version__}; {args.rows:,} data rows per file; best of {args.repeat}")
    rows = medical_rows(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        files = [
            (tmp / "medical_utf8.csv", lambda p: write_csv(p, rows, "utf-8"), "medical"),
            (tmp / "medical_gbk.csv", lambda p: write_csv(p, rows, "gbk"), "medical"),
            (tmp / "medical.xlsx", lambda p: write_xlsx(p, rows), "medical"),
            (tmp / "medical_numeric_ids.xlsx", lambda p: write_xlsx(p, rows, numeric_ids=True), "medical"),
            (tmp / "registry_utf8.csv", lambda p: write_registry_csv(p, args.rows), "registry"),
        ]
        for path, make, feed in files:
            make(path)
            run(path, feed, args.repeat)


if __name__ == "__main__":
    main()
