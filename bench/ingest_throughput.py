"""Throughput of the department-drop readers (sources.read.read_file), in rows per second.

    .venv/bin/python bench/ingest_throughput.py [--rows 200000] [--repeat 2]

Generates its own files into a temporary folder (nothing is written to the repository): a 医保 extract with a title
row, messy dates/amounts, some bad rows and a 合计 row, as UTF-8 CSV, GBK CSV and XLSX (text ID cells, plus a variant
with ID numbers stored as number cells, which costs a second read of that column), and a registry person export as
CSV. Prints one line per file: rows, seconds (best of --repeat), rows/s, and the accepted/rejected/skipped split.
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
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
