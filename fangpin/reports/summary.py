"""The round summary (汇总): a self-contained HTML page with inline SVG charts, and the same figures as an Excel
workbook with native Excel charts. Both open offline: no script, no stylesheet, no font or image from anywhere.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from fangpin.reports.safe import safe_text

#: rows of the chart sheet (20 px each) that fit on a landscape A4 page at 100 %
CHART_ROWS_PER_PAGE = 30
PALETTE = ("#2F5597", "#C55A11", "#548235", "#7030A0", "#BF9000", "#1F7A8C", "#A50021", "#7F7F7F")


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def svg_bars(
    title: str,
    items: Sequence[tuple[str, float]],
    *,
    unit: str = "",
    percent: bool = False,
    color: str = PALETTE[0],
    width: int = 640,
) -> str:
    """A horizontal bar chart as an inline <svg> element (labels left, values right; a rate chart gets a
    0%—100% axis with grid lines, so rates of different charts compare at a glance)."""
    bar_h, gap, label_w, value_w, top = 22, 6, 190, 80, 30
    n = max(len(items), 1)
    axis_h = 22 if percent else 0
    height = top + n * (bar_h + gap) + 10 + axis_h
    vmax = max([v for _, v in items] + [1e-9])
    if percent:
        vmax = 1.0  # rates on a fixed 0—100% scale
    plot_w = width - label_w - value_w
    parts = [
        f'<svg width="{width}" height="{height}" role="img" aria-label="{_e(title)}">',
        f'<text x="0" y="18" font-size="15" font-weight="bold">{_e(title)}</text>',
    ]
    if not items:
        parts.append(f'<text x="0" y="{top + 16}" font-size="13" fill="#777">（无数据）</text>')
    if percent and items:  # the grid first: the bars are drawn over it
        bottom = top + n * (bar_h + gap)
        for k in range(5):
            x = label_w + plot_w * k / 4
            parts.append(
                f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{bottom}" stroke="#BBBBBB" stroke-dasharray="3,3"/>'
            )
            parts.append(
                f'<text x="{x:.1f}" y="{bottom + 15}" font-size="11" fill="#555" text-anchor="middle">{25 * k}%</text>'
            )
    for i, (label, value) in enumerate(items):
        y = top + i * (bar_h + gap)
        w = 0 if vmax <= 0 else max(0.0, float(value)) / vmax * plot_w
        shown = (
            f"{value * 100:.1f}%"
            if percent
            else (f"{value:,.0f}{unit}" if float(value).is_integer() else f"{value:,.1f}{unit}")
        )
        parts.append(f'<text x="{label_w - 6}" y="{y + 16}" font-size="13" text-anchor="end">{_e(label)}</text>')
        parts.append(
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{color}"><title>{_e(label)}: {_e(shown)}</title></rect>'
        )
        parts.append(f'<text x="{label_w + w + 4:.1f}" y="{y + 16}" font-size="12">{_e(shown)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def html_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_e(v)}</td>" for v in r) + "</tr>" for r in rows)
    return (
        f"<table><thead><tr>{head}</tr></thead><tbody>{body or '<tr><td colspan=99>（无）</td></tr>'}</tbody></table>"
    )


CSS = """
body{font-family:"Microsoft YaHei","PingFang SC","Noto Sans CJK SC",sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:22px} h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ccc;padding-bottom:4px}
.kpis{display:flex;flex-wrap:wrap;gap:12px} .kpi{background:#F2F2F2;border-radius:6px;padding:10px 16px;min-width:120px}
.kpi b{display:block;font-size:22px} table{border-collapse:collapse;margin:8px 0;font-size:13px}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:left} th{background:#DDEBF7} .note{color:#A50021}
.charts{display:flex;flex-wrap:wrap;gap:24px}
"""


#: the chart a summary of several prefectures (a province) starts with
CITY_CHART = "各市疑似风险户数"


def write_html(path: Path, data: dict) -> None:
    """``data``: the dict built by :func:`fangpin.reports.publish.summary_data` (``systemic``, when present: see
    :func:`systemic_section`)."""
    k = data["kpis"]
    kpis = "".join(f'<div class="kpi">{_e(label)}<b>{_e(value)}</b></div>' for label, value in k)
    notes = "".join(f'<p class="note">{_e(n)}</p>' for n in data.get("notes", []))
    by_city = data.get("by_city") or []  # several prefectures: their totals first
    charts = [svg_bars(CITY_CHART, by_city, unit="户", color=PALETTE[0])] if by_city else []
    charts += [
        svg_bars("各县（市、区）疑似风险户数", data["by_county"], unit="户", color=PALETTE[0]),
        svg_bars("疑似类别", data["by_category"], unit="户", color=PALETTE[1]),
        svg_bars("风险类型（一户可有多项）", data["by_risk_type"], unit="户", color=PALETTE[2]),
        svg_bars("各部门数据匹配率（精确/修复/模糊匹配）", data["match_rate"], percent=True, color=PALETTE[3]),
        svg_bars("各部门数据拒收率（拒收行/文件总行数）", data["reject_rate"], percent=True, color=PALETTE[6]),
    ]
    doc = f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{_e(data["title"])}</title><style>{CSS}</style></head>
<body>
<h1>{_e(data["title"])}</h1>
<p>{_e(data["subtitle"])}</p>{notes}
<div class="kpis">{kpis}</div>
<h2>图表</h2>
<div class="charts">{"".join(f"<div>{c}</div>" for c in charts)}</div>
{systemic_section(data["systemic"]) if data.get("systemic") else ""}
<h2>各县（市、区）</h2>
{html_table(["县（市、区）", "疑似风险户", "其中监测户新增风险", "其中风险消除户再预警", "易地搬迁双向分流"], data["county_rows"])}
<h2>各部门数据匹配情况</h2>
{html_table(["数据来源", "记录数", "精确匹配", "修复匹配", "模糊匹配", "待复核", "未匹配", "匹配率"], data["match_rows"])}
<h2>数据质量</h2>
{html_table(["数据来源", "文件数", "已入库", "未通过校验", "无法读取", "文件总行数", "入库行", "拒收行", "标题/合计行", "重复事件"], data["quality_rows"])}
<h3>主要拒收原因</h3>
{html_table(["数据来源", "原因", "行数"], data["reason_rows"])}
<p style="color:#777;font-size:12px">本页为离线文件，不引用任何外部资源。明细见同目录下的 suspects.parquet、各县疑似风险户清单和各部门清单。</p>
</body></html>
"""
    path.write_text(doc, encoding="utf-8")


def write_xlsx(path: Path, data: dict) -> None:
    """The same figures with native Excel bar charts (xlsxwriter), one data sheet + one chart sheet."""
    from fangpin.reports.xlsx import Book, print_setup, row_height, text_lines

    with Book(path) as book:
        wb = book.wb
        ws = wb.add_worksheet("汇总")
        print_setup(ws, None, data["title"])
        bold = book.fmt["header"]
        # title, subtitle and notes across the nine columns the tables below use (34 + 8 × 14 units)
        for r, (text, style) in enumerate(
            [(data["title"], "title"), (data["subtitle"], "note")] + [(n, "note") for n in data.get("notes", [])]
        ):
            ws.merge_range(r, 0, r, 8, safe_text(text), book.fmt[style])
            ws.set_row(r, row_height(text_lines(text, 34 + 8 * 14)) + (4 if style == "title" else 0))
        r += 2
        for label, value in data["kpis"]:
            ws.write_string(r, 0, label, book.fmt["text"])
            if isinstance(value, (int, float)):
                ws.write_number(r, 1, value)
            else:
                ws.write_string(r, 1, safe_text(str(value)))
            r += 1
        ws.set_column(0, 0, 34)
        ws.set_column(1, 8, 14)
        charts = wb.add_worksheet("图表")
        charts.set_landscape()
        charts.set_paper(9)
        charts.fit_to_pages(1, 0)
        charts.set_footer("&C第 &P 页，共 &N 页")
        by_city = data.get("by_city") or []
        blocks = [(CITY_CHART, by_city, "0")] if by_city else []
        blocks += [
            ("各县（市、区）疑似风险户数", data["by_county"], "0"),
            ("疑似类别", data["by_category"], "0"),
            ("风险类型", data["by_risk_type"], "0"),
            ("各部门数据匹配率（精确/修复/模糊匹配）", data["match_rate"], "0.0%"),
            ("各部门数据拒收率（拒收行/文件总行数）", data["reject_rate"], "0.0%"),
        ]
        r += 1
        chart_row = page_top = 0
        breaks: list[int] = []
        for i, (title, items, numfmt) in enumerate(blocks):
            ws.write_string(r, 0, title, bold)
            ws.write_string(r, 1, "数值", bold)
            first = r + 1
            fmt = wb.add_format({"num_format": numfmt})
            for j, (label, value) in enumerate(items):
                ws.write_string(first + j, 0, safe_text(str(label)))
                ws.write_number(first + j, 1, float(value), fmt)
            last = first + max(len(items), 1) - 1
            if items:
                rate = numfmt.endswith("%")
                height = max(240, 90 + 30 * len(items))
                chart = wb.add_chart({"type": "bar"})
                chart.add_series(
                    {
                        "name": title,
                        "categories": ["汇总", first, 0, last, 0],
                        "values": ["汇总", first, 1, last, 1],
                        "fill": {"color": PALETTE[i % len(PALETTE)]},
                        "gap": 60,
                        "data_labels": {"value": True, "num_format": numfmt, "font": {"size": 10}},
                    }
                )
                chart.set_title({"name": title, "name_font": {"size": 13, "bold": True}})
                chart.set_legend({"none": True})
                # the category axis (first item on top) and the value axis below the bars, where people read it
                chart.set_y_axis({"reverse": True, "crossing": "max", "num_font": {"size": 10}})
                value_axis = {"num_format": "0%" if rate else "0", "num_font": {"size": 10}, "min": 0}
                if rate:
                    value_axis |= {"max": 1, "major_unit": 0.25}
                chart.set_x_axis(value_axis | {"major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
                chart.set_size({"width": 760, "height": height})
                rows = 2 + height // 20
                if chart_row - page_top + rows > CHART_ROWS_PER_PAGE and chart_row > page_top:
                    breaks.append(chart_row)  # a chart never straddles two printed pages
                    page_top = chart_row
                charts.insert_chart(chart_row, 0, chart)
                chart_row += rows
            r = last + 2
        charts.set_h_pagebreaks(breaks)
        # detail tables
        for title, headers, rows in (
            (
                "各部门数据匹配情况",
                ["数据来源", "记录数", "精确匹配", "修复匹配", "模糊匹配", "待复核", "未匹配", "匹配率"],
                data["match_rows"],
            ),
            (
                "数据质量",
                [
                    "数据来源",
                    "文件数",
                    "已入库",
                    "未通过校验",
                    "无法读取",
                    "文件总行数",
                    "入库行",
                    "拒收行",
                    "标题/合计行",
                    "重复事件",
                ],
                data["quality_rows"],
            ),
            ("主要拒收原因", ["数据来源", "原因", "行数"], data["reason_rows"]),
            *(
                [("规模性、系统性风险预警区域", SYSTEMIC_HEADERS, systemic_rows(data["systemic"]["flags"]))]
                if data.get("systemic")
                else []
            ),
        ):
            ws.write_string(r, 0, title, book.fmt["title"])
            r += 1
            for c, h in enumerate(headers):
                ws.write_string(r, c, h, bold)
            for row in rows:
                r += 1
                for c, v in enumerate(row):
                    if isinstance(v, (int, float)) and not isinstance(v, bool):
                        ws.write_number(r, c, v)
                    else:
                        ws.write_string(r, c, safe_text("" if v is None else str(v)))
            r += 2


# ------------------------------------------------------------------------------------------ systemic-risk section

LEVEL_NAMES = {"village": "村", "township": "乡镇"}
SYSTEMIC_HEADERS = ["县（市、区）", "层级", "乡(镇)", "区域", "风险信号", "本季度人(户)数", "本季度每千人", "基线每千人",
                    "倍数", "显著性", "接近监测线户数"]  # fmt: skip


def _rate(value: float | None, unit: str) -> str:
    if value is None:
        return ""
    return f"{value:,.0f}{unit}" if unit == "元" else f"{value:,.1f}"


def systemic_rows(flags) -> list[list]:
    """The flagged areas × signals as table rows (most significant first), for the page and the workbook.

    p-values are compared to 9 significant digits: a township and its only flagged village with the same counts have
    p-values that differ in the last bits of a parallel sum, and their order must not follow those bits."""
    rows = []
    for f in flags.sort(pl.col("p_value").round_sig_figs(9), "area_code", "signal").to_dicts():
        unit = "元" if f["kind"] == "amount" else ""
        p = f["p_value"]
        rows.append(
            [
                f["county"],
                LEVEL_NAMES.get(f["area_level"], f["area_level"]),
                f["township"],
                f["area_name"],
                f["signal_name"],
                f["count"],
                _rate(f["rate"], unit),
                _rate(f["baseline_rate"], unit),
                f"{f['ratio']:.1f}",
                "p<0.0001" if p < 1e-4 else f"p={p:.4f}",
                f["households_near_line"],
            ]
        )
    return rows


def svg_history(title: str, points: Sequence[tuple[str, float, float]], baseline: float, *, unit: str = "",
                width: int = 330, height: int = 190) -> str:  # fmt: skip
    """One flagged area's quarterly rates as columns (the round's quarter, last, in red), its county's rate as a line
    with dots, and the baseline it was tested against as a dashed line: an inline <svg>, nothing fetched."""
    top, bottom, left, right = 34, 30, 8, 8
    plot_h, plot_w = height - top - bottom, width - left - right
    vmax = max([r for _, r, _ in points] + [c for _, _, c in points] + [baseline, 1e-9]) * 1.1
    n = max(len(points), 1)
    slot = plot_w / n

    def y(v: float) -> float:
        return top + plot_h * (1 - max(v, 0.0) / vmax)

    parts = [
        f'<svg width="{width}" height="{height}" role="img" aria-label="{_e(title)}">',
        f'<text x="0" y="14" font-size="12" font-weight="bold">{_e(title)}</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="#999"/>',
    ]
    county = []
    for i, (label, rate, county_rate) in enumerate(points):
        x = left + i * slot
        current = i == len(points) - 1
        fill = PALETTE[6] if current else "#9DB3D9"
        parts.append(
            f'<rect x="{x + slot * 0.15:.1f}" y="{y(rate):.1f}" width="{slot * 0.7:.1f}" '
            f'height="{top + plot_h - y(rate):.1f}" fill="{fill}"><title>{_e(label)}：{_e(_rate(rate, unit))}</title></rect>'
        )
        parts.append(
            f'<text x="{x + slot / 2:.1f}" y="{top + plot_h + 13}" font-size="9" text-anchor="middle">{_e(label)}</text>'
        )
        county.append((x + slot / 2, y(county_rate)))
    if county:
        path = " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy in county)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{PALETTE[1]}" stroke-width="1.5"/>')
        parts += [f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="2.2" fill="{PALETTE[1]}"/>' for cx, cy in county]
    parts.append(
        f'<line x1="{left}" y1="{y(baseline):.1f}" x2="{width - right}" y2="{y(baseline):.1f}" stroke="#333" '
        f'stroke-dasharray="4,3"><title>基线 {_e(_rate(baseline, unit))}</title></line>'
    )
    parts.append(
        f'<text x="{width - right}" y="{top - 6}" font-size="9" text-anchor="end" fill="#555">每千人{_e(unit)}，'
        f"最高 {_e(_rate(vmax / 1.1, unit))}</text>"
    )
    parts.append("</svg>")
    return "".join(parts)


def systemic_section(systemic: dict, limit: int = 12) -> str:
    """The round summary's section on the systemic-risk watch. ``systemic``: ``quarter``, ``flags`` and ``history``
    (frames of ``warehouse.systemic.frames``) and ``survey_households``. Charts: the ``limit`` most significant flags,
    each against its history (columns), its county (line) and its baseline (dashed)."""
    flags, history, quarter = systemic["flags"], systemic["history"], systemic["quarter"]
    head = f"<h2>规模性、系统性风险研判（{_e(quarter)}）</h2>"
    legend = (
        "<p>按行政村、乡镇统计本季度各类风险信号每千名户籍人口的发生率，与本地区历史（近若干季度及上年同季度）和本县其他地区"
        "本季度比较；显著高于两者、至少为基线 2 倍并达到最少人（户）数的列为预警区域，预警区域内接近监测线或有相关记录的"
        "农户列入各县《规模性风险预警》工作簿的专项调查名单。</p>"
    )
    if flags.is_empty():
        return head + legend + "<p>本季度未发现规模性、系统性风险预警区域。</p>"
    areas = flags.select("area_level", "area_code").unique()
    counts = (
        f"<p>预警区域 {areas.height} 个（村 {areas.filter(areas['area_level'] == 'village').height} 个、乡镇 "
        f"{areas.filter(areas['area_level'] == 'township').height} 个），预警信号 {flags.height} 项；专项调查名单 "
        f"{systemic.get('survey_households', 0):,} 户。</p>"
    )
    charts = []
    for f in flags.sort("p_value", "area_code", "signal").head(limit).to_dicts():
        h = history.filter((history["area_code"] == f["area_code"]) & (history["signal"] == f["signal"]))
        h = h.sort("q_index", descending=True)
        points = [(q[2:], r, c) for q, r, c in h.select("quarter", "rate", "county_rate").rows()]
        unit = "元" if f["kind"] == "amount" else ""
        title = f"{f['area_name']}（{LEVEL_NAMES.get(f['area_level'], '')}）· {f['signal_name']}"
        charts.append(svg_history(title, points, f["baseline_rate"], unit=unit))
    more = f"<p>图示显著性最高的 {limit} 项，共 {flags.height} 项。</p>" if flags.height > limit else ""
    key = (
        '<p style="font-size:12px;color:#555">柱：该区域各季度每千人发生率（红色为本季度）；橙线：本县同级地区合计；'
        "虚线：检验所用基线（本地区历史与本县其他地区本季度中较高者）。</p>"
    )
    return (
        head
        + legend
        + counts
        + html_table(SYSTEMIC_HEADERS, systemic_rows(flags))
        + more
        + key
        + f'<div class="charts">{"".join(f"<div>{c}</div>" for c in charts)}</div>'
    )
