"""Department extracts as clerks send them: several files per feed, mixed formats, varying headers, noise.

Files per feed (quarters relative to the round's quarter Q; the oldest lies entirely outside the evidence window):
- medical, civil_affairs, employment: one extract per quarter Q−5 … Q−1, plus a supplementary extract covering the
  last ~2 months before the reference date (overlapping Q−1: it repeats some events → ``duplicate_event``, and holds
  some late events found nowhere else);
- disaster: one report per disaster episode (the first one before the window), plus a flood-season summary that
  repeats part of the last two episodes.

Each file gets a style (format/encoding, header aliases, date and amount formats, 合计 row, 序号 column, title and
subtitle rows for XLSX) cycling through all variants, so that even the tiny city shows every one of them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from fangpin.synth import names, render, vocab
from fangpin.synth.events import EPOCH, Window
from fangpin.synth.population import City, county_short_names
from fangpin.synth.writer import Col, ext, write_table

#: Header text per canonical field, per feed (the first variant is the most common). Linkage/ingest must map them all.
HEADER_VARIANTS: dict[str, dict[str, list[str]]] = {
    "medical": {
        "name": ["姓名", "患者姓名", "参保人姓名"],
        "id_number": ["身份证号", "证件号码", "公民身份号码", "身份证号码"],
        "township": ["所属乡镇", "参保地", "参保人所属乡镇"],
        "settle_date": ["结算日期", "出院日期"],
        "institution": ["医疗机构"],
        "visit_type": ["就诊类型", "医疗类别"],
        "diagnosis": ["疾病诊断"],
        "total_cost": ["医疗总费用"],
        "fund_paid": ["统筹支付", "基本医保支付"],
        "critical_illness_paid": ["大病保险支付"],
        "medical_aid_paid": ["医疗救助支付"],
        "out_of_pocket": ["个人自付", "合规自付", "个人负担"],
    },
    "disaster": {
        "county": ["县(市、区)", "县"],
        "township": ["乡(镇)", "乡镇"],
        "village": ["行政村", "村"],
        "head_name": ["户主姓名", "姓名"],
        "id_number": ["身份证号", "证件号码", "身份证号码"],
        "disaster_type": ["灾害类型", "灾种"],
        "disaster_date": ["受灾日期"],
        "house_damage": ["房屋受损程度", "房屋损坏情况"],
        "direct_loss": ["直接经济损失（元）", "直接经济损失"],
    },
    "civil_affairs": {
        "name": ["姓名", "救助对象姓名"],
        "id_number": ["身份证号", "证件号码", "公民身份号码"],
        "township": ["所属乡镇", "乡镇(街道)"],
        "aid_type": ["救助类型", "救助项目"],
        "status": ["保障状态", "变动情况"],
        "approved_on": ["批准日期", "审批日期"],
        "amount": ["救助金额", "救助金额（元）"],
    },
    "employment": {
        "name": ["姓名"],
        "id_number": ["身份证号码", "公民身份号码", "证件号码"],
        "hukou_address": ["户籍地", "户籍地址"],
        "event": ["登记类型", "事件类型"],
        "event_date": ["登记日期"],
        "previous_workplace": ["原就业地", "原工作单位"],
        "previous_monthly_income": ["原月收入", "原月收入（元）"],
    },
}
SEQ_HEADER = "序号"
TOTAL_TEXT = "合计"
DATE_FIELDS = {"settle_date", "disaster_date", "approved_on", "event_date"}
AMOUNT_FIELDS = {
    "total_cost",
    "fund_paid",
    "critical_illness_paid",
    "medical_aid_paid",
    "out_of_pocket",
    "direct_loss",
    "amount",
    "previous_monthly_income",
}
AMOUNT_SOURCE = {
    "total_cost": "total_c",
    "fund_paid": "fund_c",
    "critical_illness_paid": "crit_c",
    "medical_aid_paid": "aid_c",
    "out_of_pocket": "oop_c",
    "direct_loss": "loss_c",
    "amount": "amount_c",
    "previous_monthly_income": "prev_income_c",
}
#: ID noise rates per department: every record on its lists, registry person or outsider, gets one. A record has
#: no *usable* ID when the ID is missing, mistyped (typo, transposed digits: the check character fails) or mangled
#: by a spreadsheet (scientific notation keeps 15 digits, a dropped X leaves 17). Rates (no usable ID in brackets):
#: - medical (医保结算, system export: the settlement system requires the ID; damage comes from Excel) — 1 % missing
#:   (≈ 8 %); - disaster (应急管理 受灾户 lists, filled in on paper by village cadres: 户主姓名 and village, often no
#:   ID) — 60 % missing (≈ 66 %); - civil affairs (民政 台账, township paper lists of 临时救助 and 低保 decisions
#:   typed up later) — 18 % missing (≈ 25 %); - employment (人社 registrations, typed from forms) — 5 % missing
#:   (≈ 15 %). id_15 applies only to people born before 2000 (others get a clean ID instead). Overall ≈ 12 % of a
#:   city's department rows carry no usable ID (medical rows are ~70 % of all rows). A size may override this
#:   table with a spec key ``id_noise`` (generator.SPEC_DEFAULTS).
ID_NOISE = {
    "medical": {
        "clean": 0.89,
        "fullwidth": 0.03,
        "missing": 0.01,
        "id_15": 0.02,
        "id_typo": 0.02,
        "id_transposed": 0.01,
        "id_mangled": 0.04,
    },
    "disaster": {
        "missing": 0.60,
        "clean": 0.30,
        "fullwidth": 0.02,
        "id_15": 0.02,
        "id_typo": 0.02,
        "id_transposed": 0.01,
        "id_mangled": 0.03,
    },
    "civil_affairs": {
        "clean": 0.70,
        "fullwidth": 0.02,
        "missing": 0.18,
        "id_15": 0.03,
        "id_typo": 0.03,
        "id_transposed": 0.02,
        "id_mangled": 0.02,
    },
    "employment": {
        "clean": 0.80,
        "fullwidth": 0.03,
        "missing": 0.05,
        "id_15": 0.02,
        "id_typo": 0.03,
        "id_transposed": 0.02,
        "id_mangled": 0.05,
    },
}
NAME_NOISE = {"homophone": 0.04, "traditional": 0.02, "minority_dot": 0.5}
WRONG_VILLAGE = {"disaster": 0.04, "employment": 0.03}
ID_TAG = {
    "fullwidth": "fullwidth_id",
    "missing": "id_missing",
    "id_15": "id_15",
    "id_typo": "id_typo",
    "id_transposed": "id_transposed",
    "id_mangled": "id_mangled",
}
FEED_OFFSET = {"medical": 0, "disaster": 1, "civil_affairs": 2, "employment": 3}
CN_Q = "一二三四"
CSV_DATES = ("iso", "slash", "chinese", "serial")
XLSX_DATES = ("datecell", "serial", "chinese", "iso", "slash")
AMOUNTS = ("plain", "comma", "yuan")
FORMAT_CYCLE = ("xlsx", "csv_utf8", "csv_gbk", "csv_bom")


@dataclass
class FileSpec:
    feed: str
    key: str
    name: str
    titles: list[str]
    fmt: str
    fields: list[str]
    headers: dict[str, str]
    date_style: str
    amount_style: str
    total_row: bool
    seq_col: bool
    mixed_dates: bool


def _date(days: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(days))


def _quarters(win: Window) -> list[tuple[int, int, dt.date]]:
    """Quarters Q−5 … Q−1 as (first day, day after last, first date)."""
    ref = _date(win.ref)
    out = []
    for k in range(5, 0, -1):
        y, m = divmod(ref.year * 12 + ref.month - 1 - 3 * k, 12)
        start = dt.date(y, m + 1, 1)
        y2, m2 = divmod(y * 12 + m + 3, 12)
        end = dt.date(y2, m2 + 1, 1)
        out.append(((start - EPOCH).days, (end - EPOCH).days, start))
    return out


# ---------------------------------------------------------------------------------------------- assignment


def assign_files(rng: np.random.Generator, feed: str, ev: pl.DataFrame, win: Window) -> pl.DataFrame:
    """Adds ``file_key`` (primary file) and ``dup`` (the event is repeated in the overlapping extract)."""
    n = len(ev)
    date = ev["date"].to_numpy()
    u = rng.random(n)
    force = ev["force_dup"].to_numpy() if "force_dup" in ev.columns else np.zeros(n, bool)
    if feed == "disaster":
        ep = ev["episode"].to_numpy()
        key = np.char.add("e", ep.astype(str)).astype(object)
        dup = np.isin(ep, [3, 4]) & (u < 0.25)
    else:
        qs = _quarters(win)
        starts = np.array([q[0] for q in qs])
        qi = np.clip(np.searchsorted(starts, date, side="right") - 1, 0, 4)
        key = np.char.add("q", qi.astype(str)).astype(object)
        late = date >= win.overlap[0]
        moved = late & (u < 0.10) & ~force
        key[moved] = "overlap"
        dup = (late & (u >= 0.10) & (u < 0.30)) | force
    return ev.with_columns(file_key=pl.Series(key.astype(str)), dup=pl.Series(dup))


def plan_files(
    feed: str, win: Window, rows: dict[str, int], formats: str, xlsx_max: int | None, suffix: str = ""
) -> dict[str, FileSpec]:
    off = FEED_OFFSET[feed]
    ref = _date(win.ref)
    specs: dict[str, FileSpec] = {}
    if feed == "disaster":
        keys = [f"e{i}" for i in range(5)] + ["summary"]
    else:
        keys = [f"q{i}" for i in range(5)] + ["overlap"]
    quarters = _quarters(win)
    eps = win.episodes()
    for i, key in enumerate(keys):
        fmt = FORMAT_CYCLE[(i + off) % 4]
        if formats == "csv" and fmt == "xlsx":
            fmt = "csv_utf8"
        elif formats == "xlsx":
            fmt = "xlsx"
        if fmt == "xlsx" and xlsx_max is not None and rows.get(key, 0) > xlsx_max:
            fmt = "csv_bom" if i % 2 == 0 else "csv_utf8"
        name, title, subtitle = _names(feed, key, quarters, eps, win, ref)
        titles = []
        if fmt == "xlsx":
            titles = [title] + ([subtitle] if (i + off) % 3 == 0 else [])
        fields = list(HEADER_VARIANTS[feed])
        if feed == "medical" and i % 2 == 0:
            fields.remove("diagnosis")
        headers = {}
        for j, f in enumerate(fields):
            variants = HEADER_VARIANTS[feed][f]
            headers[f] = variants[(i + j + off) % len(variants)]
        date_style = XLSX_DATES[(i + off) % 5] if fmt == "xlsx" else CSV_DATES[(i + off) % 4]
        specs[key] = FileSpec(
            feed=feed,
            key=key,
            name=f"{name}{suffix}.{ext(fmt)}",
            titles=titles,
            fmt=fmt,
            fields=fields,
            headers=headers,
            date_style=date_style,
            amount_style=AMOUNTS[(i + off) % 3],
            total_row=feed != "employment" and (i + off) % 3 == 1,
            seq_col=(i + off) % 2 == 0,
            mixed_dates=i == 2,
        )
    return specs


def _names(feed, key, quarters, eps, win, ref) -> tuple[str, str, str]:
    lo, hi = win.overlap
    a, b = _date(lo), _date(hi)
    span = f"{a.year}年{a.month}月{a.day}日至{b.month}月{b.day}日"
    export = ref + dt.timedelta(days=7)
    dept = {
        "medical": "柳州市医疗保障局",
        "disaster": "柳州市应急管理局",
        "civil_affairs": "柳州市民政局",
        "employment": "柳州市人力资源和社会保障局",
    }[feed]
    subtitle = f"填报单位：{dept}　　导出日期：{export.year}年{export.month}月{export.day}日"
    if feed == "disaster":
        if key == "summary":
            d = _date(eps[3][1])
            return (
                f"{d.year}年汛期受灾户汇总表",
                f"{d.year}年汛期（{_date(eps[3][1]).month}—{_date(eps[4][2]).month}月）受灾户汇总表",
                subtitle,
            )
        e = eps[int(key[1:])]
        d = _date(e[1])
        kind = e[0] if e[0].endswith(("灾害", "灾")) else e[0] + "灾害"
        return f"{d.year}年{d.month}月{kind}受灾户统计表", f"{d.year}年{d.month}月{kind}受灾户基本情况统计表", subtitle
    stem = {
        "medical": "医保结算数据",
        "civil_affairs": "低保特困及临时救助审批台账",
        "employment": "失业登记及返乡人员信息",
    }[feed]
    if key == "overlap":
        extra = {
            "medical": "医保结算补充数据",
            "civil_affairs": "民政救助审批补报名单",
            "employment": "返乡及失业人员补充名单",
        }[feed]
        return f"{extra}_{span}", f"{extra}（{span}）", subtitle
    q0, q1, start = quarters[int(key[1:])]
    qn = (start.month - 1) // 3
    end = _date(q1 - 1)
    if int(key[1:]) % 2 == 0:
        name = f"{start.year}年第{CN_Q[qn]}季度{stem}"
    else:
        name = f"{stem}({start.year}年{start.month}-{end.month}月)"
    return name, f"{start.year}年第{CN_Q[qn]}季度{stem}", subtitle


# ---------------------------------------------------------------------------------------------- noise


def _draw(rng, n: int, probs: dict[str, float]) -> np.ndarray:
    """Codes into render.ID_NOISES."""
    names = list(probs)
    p = np.array(list(probs.values()), dtype=float)
    codes = np.array([render.ID_NOISES.index(k) for k in names])
    return codes[rng.choice(len(names), size=n, p=p / p.sum())]


def build_records(
    rng: np.random.Generator,
    feed: str,
    ev: pl.DataFrame,
    city: City,
    win: Window,
    force: bool,
    id_noise: dict[str, float] | None = None,
) -> pl.DataFrame:
    """One row per written record (primary + duplicate copies) with every raw field as text (+ XLSX numbers).

    id_noise: the department's ID noise rates (default :data:`ID_NOISE`); they apply to everyone on its lists,
    registry persons and outsiders alike (a paper list lacks the ID whoever the person is). Also carries, for the
    ground truth, ``claimed_town`` (code of the registry township the record points at: the person's own, or for
    an outsider the township their record names; null when it names a place outside the city's registry) and
    ``clean_name_key`` (:func:`names.name_key` of the true name, before any noise)."""
    rates = id_noise or ID_NOISE[feed]
    P, O, H, V = city.persons, city.outsiders, city.households, city.villages
    n = len(ev)
    pid = ev["pid"].to_numpy()
    oid = ev["oid"].to_numpy()
    reg = pid >= 0
    regS = pl.Series(reg)
    pp, oo = np.maximum(pid, 0), np.maximum(oid, 0)
    hh = ev["hh_idx"].to_numpy()
    hhp = np.maximum(hh, 0)

    def num(col):
        return np.where(reg, P[col].to_numpy()[pp], O[col].to_numpy()[oo])

    def text(pser: pl.Series, oser: pl.Series) -> pl.Series:
        return pl.select(pl.when(regS).then(pser).otherwise(oser)).to_series()

    true_id = text(P["id_number"].gather(pp), O["id_number"].gather(oo))
    sur, g1, g2 = num("sur_idx"), num("g1"), num("g2")
    dot = num("dot").astype(bool)
    birth = num("birth_days")

    # ---- ID noise (codes into render.ID_NOISES)
    id_noise = _draw(rng, n, rates)
    born_2000 = birth >= (dt.date(2000, 1, 1) - EPOCH).days
    id_noise = np.where((id_noise == render.ID_NOISES.index("id_15")) & born_2000, 0, id_noise)
    # ---- name noise
    d = render.name_noise(
        rng, g1, g2, dot, NAME_NOISE["homophone"] * reg, NAME_NOISE["traditional"] * reg, NAME_NOISE["minority_dot"]
    )
    if force and feed == "medical":
        _force(rng, id_noise, reg, born_2000, sur, g1, g2, dot, d)
    name, trad = render.name_text(sur, d)
    id_text, id_number = render.id_forms(rng, true_id, id_noise)

    # ---- locality
    vi = H["village_idx"].to_numpy()[hhp]
    # outsiders on a disaster list live in a village of the city: of their township if they live in one
    o_town = O["town_code"].gather(oo)
    vi = np.where(reg, vi, _village_in(rng, V, o_town))
    town_name, town_county = _town_names(V, o_town)
    wrong = np.zeros(n, bool)
    if feed in WRONG_VILLAGE:
        wrong = reg & (rng.random(n) < WRONG_VILLAGE[feed])
        if force and not wrong.any() and reg.any():
            wrong[np.flatnonzero(reg)[0]] = True
        vi, wrong = _wrong_village(rng, V, vi, wrong)
    cols: dict[str, object] = {
        "event_id": ev["event_id"],
        "pid": pid,
        "oid": oid,
        "hh_idx": hh,
        "date": ev["date"],
        "file_key": ev["file_key"],
        "dup": ev["dup"],
        "true_id": pl.select(pl.when(regS).then(true_id)).to_series(),
        "name_text": name,
        "id_text": id_text,
        "id_number": id_number,
        "id_noise": id_noise,
        "homophone": d["homophone"],
        "traditional": trad,
        "minority_dot": d["minority_dot"],
        "wrong_village": wrong,
        "registry": reg,
    }
    u = rng.random(n)
    place = O["place"].gather(oo)
    local = o_town.is_not_null()
    o_short = pl.select(pl.when(local).then(town_name).otherwise(place)).to_series()
    o_long = pl.select(pl.when(local).then(town_county + town_name).otherwise(place)).to_series()
    if feed in ("medical", "civil_affairs"):
        town = H["township"].gather(hhp)
        long = H["county"].gather(hhp) + town
        cols["town_long"] = text(long, o_long)
        short = text(town, o_short)
        if feed == "civil_affairs":
            short = pl.select(pl.when(pl.Series(u < 0.2)).then(cols["town_long"]).otherwise(short)).to_series()
        cols["town_short"] = short
    vname = V["village"].gather(vi)
    vcounty = V["county"].gather(vi)
    vshort = V["county_code"].gather(vi).replace_strict(county_short_names(), default="")
    if feed == "disaster":
        cols["county"] = pl.select(pl.when(pl.Series(u < 0.15)).then(vshort).otherwise(vcounty)).to_series()
        cols["township"] = V["township"].gather(vi)
        stem = vname.str.strip_suffix("村")
        u2 = pl.Series(rng.random(n))
        cols["village"] = pl.select(
            pl.when(u2 < 0.2).then(stem + "村委会").when(u2 < 0.3).then(stem).otherwise(vname)
        ).to_series()
    if feed == "employment":
        cols["hukou_address"] = _addresses(rng, vcounty, vshort, V["township"].gather(vi), vname, regS, place)
    own_town = H["township_code"].gather(hhp)
    if feed == "disaster":
        claimed = text(own_town, V["township_code"].gather(vi))
    elif feed == "employment":  # the 户籍地 of an outsider is their home place
        claimed = text(own_town, pl.repeat(None, n, dtype=pl.String, eager=True))
    else:
        claimed = text(own_town, o_town)
    cols["claimed_town"] = claimed.cast(pl.Int64)
    cols["clean_name_key"] = np.where(reg, names.frame_keys(P)[pp], names.frame_keys(O)[oo])
    cols["outsider_area"] = pl.select(pl.when(~regS).then(O["id_number"].gather(oo).str.slice(0, 6))).to_series()
    rec = pl.DataFrame({k: (v.alias(k) if isinstance(v, pl.Series) else v) for k, v in cols.items()})
    extra = [c for c in ev.columns if c not in rec.columns and c not in ("planted", "force_dup", "episode")]
    rec = pl.concat([rec, ev.select(extra)], how="horizontal").with_columns(is_dup=pl.lit(False))
    dups = rec.filter("dup").with_columns(
        file_key=pl.lit("summary" if feed == "disaster" else "overlap"), is_dup=pl.lit(True)
    )
    return pl.concat([rec, dups])


def _force(rng, id_noise, reg, born_2000, sur, g1, g2, dot, d) -> None:
    """Tiny cities: make sure every kind of noise occurs at least once (in place, on the medical feed)."""
    free = reg & (id_noise == 0)
    for kind in ("fullwidth", "missing", "id_15", "id_typo", "id_transposed", "id_mangled"):
        code = render.ID_NOISES.index(kind)
        if (id_noise == code).any():
            continue
        cand = np.flatnonzero(free & (~born_2000 if kind == "id_15" else True))
        if len(cand):
            k = cand[rng.integers(0, len(cand))]
            id_noise[k] = code
            free[k] = False
    _, _, alt = vocab.given_pool()
    alt = np.array(alt)
    if not d["homophone"].any():
        cand = np.flatnonzero(reg & ~dot & (alt[g1] >= 0))
        if len(cand):
            k = cand[0]
            d["g1"][k] = alt[g1[k]]
            d["homophone"][k] = True
    if not d["traditional"].any():
        tmap = vocab.traditional_map()
        has_trad = np.array([s in tmap for s in vocab.surname_list()])[sur]
        cand = np.flatnonzero(reg & has_trad)
        if len(cand):
            d["traditional"][cand[0]] = True
    if not d["minority_dot"].any():
        cand = np.flatnonzero(reg & dot)
        if len(cand):
            d["sep"][cand[0]] = 3
            d["minority_dot"][cand[0]] = True


def _village_in(rng, V: pl.DataFrame, town: pl.Series) -> np.ndarray:
    """A random (non-resettlement) village of each township code; any village of the city where the code is null."""
    plain = V.filter(~pl.col("resettlement_community"))
    codes = plain["township_code"].cast(pl.Int64).to_numpy()
    order = np.argsort(codes, kind="stable")
    sorted_codes, v_idx = codes[order], plain["village_idx"].to_numpy()[order]
    t = town.cast(pl.Int64).fill_null(-1).to_numpy()
    lo = np.searchsorted(sorted_codes, t, side="left")
    hi = np.searchsorted(sorted_codes, t, side="right")
    size = hi - lo
    j = lo + (rng.random(len(t)) * np.maximum(size, 1)).astype(np.int64)
    anywhere = rng.integers(0, len(V), len(t))
    return np.where(size > 0, v_idx[np.minimum(j, len(v_idx) - 1)], anywhere)


def _town_names(V: pl.DataFrame, town: pl.Series) -> tuple[pl.Series, pl.Series]:
    """(township name, county name) of each township code (null where the code is null)."""
    names = V.select("township_code", "township", "county").unique("township_code")
    j = town.to_frame("township_code").join(names, on="township_code", how="left", maintain_order="left")
    return j["township"].fill_null(""), j["county"].fill_null("")


def _wrong_village(rng, V: pl.DataFrame, vi: np.ndarray, wrong: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Replace the village by another (non-resettlement) village of the same township. Vectorised."""
    plain = np.flatnonzero(~V["resettlement_community"].to_numpy())
    town = V["township_code"].cast(pl.Int64).to_numpy()
    order = plain[np.argsort(town[plain], kind="stable")]
    t_sorted = town[order]
    k = np.flatnonzero(wrong)
    t = town[vi[k]]
    lo = np.searchsorted(t_sorted, t, side="left")
    hi = np.searchsorted(t_sorted, t, side="right")
    size = hi - lo
    j = lo + (rng.random(len(k)) * np.maximum(size, 1)).astype(np.int64)
    j = np.minimum(j, np.maximum(hi - 1, lo))
    same = order[np.minimum(j, len(order) - 1)] == vi[k]
    j = np.where(same & (size > 1), lo + (j - lo + 1) % np.maximum(size, 1), j)
    new = order[np.minimum(j, len(order) - 1)]
    ok = (size > 0) & (new != vi[k])
    vi = vi.copy()
    vi[k[ok]] = new[ok]
    wrong = wrong.copy()
    wrong[k[~ok]] = False
    return vi, wrong


def _addresses(
    rng, county: pl.Series, short: pl.Series, town: pl.Series, village: pl.Series, reg: pl.Series, place: pl.Series
) -> pl.Series:
    n = len(reg)
    u = rng.random((5, n))
    prefix = vocab.lut(("广西柳州市", "广西壮族自治区柳州市", "柳州市", ""), np.minimum((u[0] * 4).astype(np.int64), 3))
    a = vocab.lut(list(vocab.VILLAGE_FIRST), rng.integers(0, len(vocab.VILLAGE_FIRST), n))
    b = vocab.lut(list(vocab.VILLAGE_SECOND), rng.integers(0, len(vocab.VILLAGE_SECOND), n))
    num = pl.Series(rng.integers(1, 99, n)).cast(pl.String) + "号"
    df = pl.DataFrame(
        {
            "p": prefix,
            "c": county,
            "s": short,
            "t": town,
            "v": village,
            "a": a,
            "b": b,
            "num": num,
            "place": place,
            "reg": reg,
            **{f"u{i}": u[i] for i in range(1, 5)},
        }
    )
    stem = pl.col("v").str.strip_suffix("村")
    vil = (
        pl.when(pl.col("u2") < 0.15)
        .then(stem + "村委")
        .when(pl.col("u2") < 0.3)
        .then(stem + "村委会")
        .when(pl.col("u2") < 0.38)
        .then(stem)
        .otherwise(pl.col("v"))
    )
    cty = pl.when(pl.col("u1") < 0.2).then(pl.col("s")).otherwise(pl.col("c"))
    hamlet = pl.when(pl.col("u3") < 0.5).then(pl.col("a") + pl.col("b") + "屯").otherwise(pl.lit(""))
    number = pl.when(pl.col("u4") < 0.4).then(pl.col("num")).otherwise(pl.lit(""))
    local = pl.col("p") + cty + pl.col("t") + vil + hamlet + number
    other = pl.col("place") + pl.col("a") + pl.col("b") + "村" + number
    return df.select(pl.when(pl.col("reg")).then(local).otherwise(other).alias("hukou_address")).to_series()


# ---------------------------------------------------------------------------------------------- rendering


def write_feed(
    folder: Path, feed: str, rec: pl.DataFrame, specs: dict[str, FileSpec], rng: np.random.Generator
) -> tuple[pl.DataFrame, list[dict]]:
    """Write every file of a feed; return the records with source_file / source_row, and file descriptions."""
    folder.mkdir(parents=True, exist_ok=True)
    out, infos = [], []
    for key, spec in specs.items():
        part = rec.filter(pl.col("file_key") == key).sort(["date", "event_id", "is_dup"])
        if spec.fmt == "csv_gbk":
            part = part.with_columns(pl.col("name_text").str.replace_all("•", "．", literal=True))
        cols, total = _columns(spec, part, rng)
        info = write_table(folder / spec.name, spec.fmt, spec.titles, cols, total)
        info.update(
            feed=feed,
            date_style=spec.date_style,
            amount_style=spec.amount_style,
            headers=list(spec.headers.values()),
            seq_column=spec.seq_col,
        )
        infos.append(info)
        xlsx = spec.fmt == "xlsx"
        numeric = pl.col("id_number").is_not_nan() & pl.lit(xlsx)
        part = part.with_columns(
            source_file=pl.lit(spec.name),
            source_row=pl.int_range(info["first_data_row"], info["first_data_row"] + len(part), dtype=pl.Int64),
            id_written=pl.when(numeric)
            .then(pl.col("id_number").cast(pl.Int64, strict=False).cast(pl.String))
            .otherwise(pl.col("id_text")),
            id_cell=pl.when(numeric).then(pl.lit("number")).otherwise(pl.lit("text")),
            name_written=pl.col("name_text"),
        )
        out.append(part)
    return pl.concat(out), infos


def _columns(spec: FileSpec, part: pl.DataFrame, rng) -> tuple[list[Col], dict | None]:
    n = len(part)
    xlsx = spec.fmt == "xlsx"
    cols: list[Col] = []
    total: dict[str, tuple[str, float | None]] = {}
    if spec.seq_col:
        seq = pl.Series(np.arange(1, n + 1)).cast(pl.String)
        cols.append(Col(SEQ_HEADER, seq, np.arange(1, n + 1, dtype=float) if xlsx else None))
    first_header = SEQ_HEADER if spec.seq_col else spec.headers[spec.fields[0]]
    mixed = pl.Series(rng.random(n) < 0.1 if spec.mixed_dates else np.zeros(n, bool))
    for f in spec.fields:
        h = spec.headers[f]
        if f in ("name", "head_name"):
            cols.append(Col(h, part["name_text"]))
        elif f == "id_number":
            cols.append(Col(h, part["id_text"], part["id_number"].to_numpy() if xlsx else None))
        elif f == "township" and spec.feed in ("medical", "civil_affairs"):
            cols.append(Col(h, part["town_long" if h == "参保地" else "town_short"]))
        elif f in DATE_FIELDS:
            style = spec.date_style
            text_style = "iso" if (xlsx and style in ("serial", "datecell")) else style
            alt = "chinese" if style != "chinese" else "slash"
            txt = part.select(
                pl.when(mixed)
                .then(render.date_text(pl.col("date"), alt))
                .otherwise(render.date_text(pl.col("date"), text_style))
            ).to_series()
            num = None
            if xlsx and style in ("serial", "datecell"):
                num = np.where(
                    mixed.to_numpy(), np.nan, (part["date"].to_numpy() - render.EXCEL_EPOCH_DAYS).astype(float)
                )
            cols.append(Col(h, txt, num, date_cell=xlsx and style == "datecell"))
        elif f in AMOUNT_FIELDS:
            src = AMOUNT_SOURCE[f]
            cents = part[src]
            txt = part.select(render.amount_text(pl.col(src), spec.amount_style)).to_series()
            num = None
            if xlsx and spec.amount_style == "plain":
                c = cents.cast(pl.Float64).to_numpy()
                num = np.where(np.isnan(c) | (c < 0), np.nan, c / 100.0)
            cols.append(Col(h, txt, num))
            if spec.total_row:
                s = int(cents.filter(cents >= 0).sum() or 0)
                t = pl.select(render.amount_text(pl.lit(s, dtype=pl.Int64), spec.amount_style)).item()
                total[h] = (t, s / 100.0 if (xlsx and spec.amount_style == "plain") else None)
        else:
            src = "workplace" if f == "previous_workplace" else f
            cols.append(Col(h, part[src] if src in part.columns else pl.repeat("", n, dtype=pl.String, eager=True)))
    if spec.total_row:
        total[first_header] = (TOTAL_TEXT, None)
        return cols, total
    return cols, None
