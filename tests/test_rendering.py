"""The workbooks as a township cadre prints them: LibreOffice (headless, Debian's ``libreoffice-calc``) turns three
workbooks of the demo city into PDF — 融水's 疑似风险户清单, 医保局's 行业部门任务清单 and 医保局's 未匹配记录 — and
poppler (``pdfinfo``, ``pdftotext``, ``pdftoppm``) reads the pages back: every page landscape, the table's header row on
every page, 第 n 页，共 m 页 at the foot, and a page count in proportion to the rows (the first version of these
lists printed 16 portrait pages for 13 households, 6 pages for 3 rows, 62 for the unmatched list).

The PDFs and page images (PNG, 60 dpi) go to ``test-artifacts/rendering/`` at the repository root. Prerequisites come
with ``make test`` (target ``render-deps``: apt libreoffice-calc, poppler-utils, Carlito — Calibri's metrics, so the
pages come out as Excel lays them out — and a CJK font); a missing tool is a failure, never a skip.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

#: one worker renders (``make test`` runs ``--dist loadgroup``): the module's fixture writes the shared artifacts
#: folder, and two workers each rendering removed each other's page images mid-write
pytestmark = pytest.mark.xdist_group("rendering")

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts" / "rendering"
CONVERT_TIMEOUT = 300  # s: LibreOffice start plus three workbooks on 2 busy cores
ROUND = "2026Q4"

#: workbook → the fewest table rows a page must hold on average (the page bound: one page per sheet plus rows / this)
BOOKS = {
    "疑似风险户清单_融水苗族自治县.xlsx": 3,  # the evidence makes a household several lines tall
    "行业部门任务清单_医保局.xlsx": 3,
    "未匹配记录_医保局.xlsx": 18,
}
#: sheet title in the page header → words of its table header that page must show (headers that fit on one line:
#: pdftotext splits a wrapped header cell)
HEADERS = {
    "疑似风险户清单（第": ("户编号", "户主姓名", "证据", "核实结果", "核实日期", "核实人"),
    "行业部门任务清单": ("户编号", "户主姓名", "证据", "帮扶措施", "经办人"),
    "未匹配记录：需核对更正": ("来源文件", "行号", "姓名", "更正方法"),
    "未匹配记录：仅供参考": ("来源文件", "行号", "姓名", "判断依据"),
    "拒收记录": ("来源文件", "行号", "拒收原因"),
}


def _tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is missing: run `make render-deps` (Debian's libreoffice-calc and poppler-utils)"
    return path


def _pages(pdf: Path) -> list[tuple[float, float, str]]:
    """(width, height, text) of every page."""
    info = subprocess.run(
        [_tool("pdfinfo"), "-f", "1", "-l", "9999", str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    sizes = [(float(w), float(h)) for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info)]
    pages = []
    for i, (w, h) in enumerate(sizes, start=1):
        text = subprocess.run(
            [_tool("pdftotext"), "-f", str(i), "-l", str(i), "-layout", str(pdf), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        pages.append((w, h, text))
    return pages


def _table_rows(path: Path) -> int:
    wb = openpyxl.load_workbook(path, read_only=True)
    n = 0
    for ws in wb.worksheets:
        rows = list(ws.iter_rows(values_only=True))
        head = next(i for i, r in enumerate(rows) if r and r[0] == "序号")
        n += sum(1 for r in rows[head + 1 :] if r and r[0] is not None)
    return n


@pytest.fixture(scope="module")
def rendered(screened_demo, tmp_path_factory) -> dict[str, Path]:
    out = screened_demo / "out" / ROUND
    work = tmp_path_factory.mktemp("render")
    for name in BOOKS:
        shutil.copy(out / name, work / name)
    profile = work / "lo-profile"  # its own profile: another soffice on the machine cannot block this one
    subprocess.run(
        [
            _tool("soffice"),
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(work),
            *[str(work / name) for name in BOOKS],
        ],
        capture_output=True,
        timeout=CONVERT_TIMEOUT,
        check=True,
    )
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)
    pdfs = {}
    for name in BOOKS:
        pdf = work / (Path(name).stem + ".pdf")
        assert pdf.exists(), f"LibreOffice did not convert {name}"
        shutil.copy(pdf, ARTIFACTS / pdf.name)
        subprocess.run(
            [_tool("pdftoppm"), "-r", "60", "-png", str(pdf), str(ARTIFACTS / Path(name).stem)],
            check=True,
            timeout=CONVERT_TIMEOUT,
        )
        pdfs[name] = pdf
    return {"pdfs": pdfs, "work": work}


@pytest.mark.parametrize("name", list(BOOKS))
def test_every_page_is_landscape_with_the_header_row_and_a_bounded_count(rendered, name):
    pdf = rendered["pdfs"][name]
    pages = _pages(pdf)
    rows = _table_rows(rendered["work"] / name)
    per_page = BOOKS[name]
    sheets = len(openpyxl.load_workbook(rendered["work"] / name, read_only=True).sheetnames)
    bound = sheets + math.ceil(rows / per_page)
    assert 1 <= len(pages) <= bound, f"{name}: {len(pages)} pages for {rows} rows in {sheets} sheets (≤ {bound})"
    for i, (w, h, text) in enumerate(pages, start=1):
        assert w > h, f"{name} page {i} is portrait ({w} x {h})"
        assert f"第 {i} 页，共 {len(pages)} 页" in text, f"{name} page {i}: no page number"
        kind = next((k for k in HEADERS if k in text), None)
        if kind is None:
            continue  # a sheet not covered here (易地搬迁分流, 安置点横向比较): its header is checked below
        missing = [word for word in ("序号", *HEADERS[kind]) if word not in text]
        assert not missing, f"{name} page {i} ({kind}) lacks header words {missing}"
    assert all("序号" in text for _, _, text in pages), f"{name}: a page without the header row"


def test_the_suspect_list_prints_each_household_with_its_evidence(rendered):
    """融水's list: every household of the workbook appears in the PDF with its 户编号, none truncated away."""
    name = "疑似风险户清单_融水苗族自治县.xlsx"
    wb = openpyxl.load_workbook(rendered["work"] / name, read_only=True)
    rows = list(wb["疑似风险户清单"].iter_rows(values_only=True))
    head = next(i for i, r in enumerate(rows) if r and r[0] == "序号")
    col = rows[head].index("户编号")
    ids = [r[col] for r in rows[head + 1 :] if r and r[0] is not None]
    text = "".join(t for _, _, t in _pages(rendered["pdfs"][name]))
    assert ids and all(hid in text for hid in ids)
    assert "优先级（0—100分" in text and "本表没有记录" not in text.split("易地搬迁户分流")[0]
