"""Villages, households and persons of the synthetic city (vectorised numpy + polars; no loops over persons).

The result is the *clean* registry (the system of record): valid, unique 18-digit IDs whose sex digit, birth date
and address code agree with the person, relations consistent with sex and age, household fields repeated per member.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

import numpy as np
import polars as pl

from fangpin.domain import divisions
from fangpin.domain.idnumber import CHECK_CHARS, WEIGHTS
from fangpin.synth import names, vocab

EPOCH = dt.date(1970, 1, 1)

# role codes of household members
HEAD, SPOUSE, CHILD, SON, INLAW, GRAND, PARENT = range(7)
_ = -1  # unused slot
# household templates: member roles by slot (a household of size s takes the first s slots)
TEMPLATES = np.array(
    [
        [HEAD, _, _, _, _, _, _, _],  # 0 single, old
        [HEAD, _, _, _, _, _, _, _],  # 1 single, young
        [HEAD, SPOUSE, _, _, _, _, _, _],  # 2 old couple
        [HEAD, SPOUSE, CHILD, CHILD, CHILD, PARENT, PARENT, CHILD],  # 3 young family (+ the head's parents)
        [HEAD, CHILD, CHILD, CHILD, CHILD, CHILD, CHILD, CHILD],  # 4 widowed / divorced parent with children
        [HEAD, SPOUSE, CHILD, CHILD, CHILD, CHILD, CHILD, CHILD],  # 5 middle-aged couple with children
        [HEAD, SPOUSE, SON, INLAW, GRAND, GRAND, GRAND, CHILD],  # 6 three generations
        [HEAD, SON, INLAW, GRAND, GRAND, GRAND, CHILD, GRAND],  # 7 three generations, head widowed
    ],
    dtype=np.int8,
)
HEAD_AGE = np.array([[58, 85], [25, 57], [58, 85], [25, 48], [38, 75], [40, 60], [52, 82], [58, 85]], dtype=float)
# P(template | size) for sizes 1..8
TEMPLATE_P = {
    1: [0.7, 0.3, 0, 0, 0, 0, 0, 0],
    2: [0, 0, 0.55, 0.15, 0.3, 0, 0, 0],
    3: [0, 0, 0, 0.45, 0.15, 0.25, 0, 0.15],
    4: [0, 0, 0, 0.45, 0, 0.25, 0.2, 0.1],
    5: [0, 0, 0, 0.25, 0, 0, 0.55, 0.2],
}
SIZE_P = np.array([0.08, 0.19, 0.19, 0.22, 0.16, 0.09, 0.05, 0.02])  # sizes 1..8, mean ≈ 3.76


@dataclass
class City:
    villages: pl.DataFrame
    households: pl.DataFrame
    persons: pl.DataFrame
    outsiders: pl.DataFrame
    ref_date: dt.date


def _days(d: dt.date) -> int:
    return (d - EPOCH).days


def _choice(rng: np.random.Generator, values, p, n: int) -> np.ndarray:
    p = np.asarray(p, dtype=float)
    return np.asarray(values)[rng.choice(len(values), size=n, p=p / p.sum())]


def _where(mask: np.ndarray, a: pl.Series, b) -> pl.Series:
    """Element-wise a if mask else b (b: a Series or a scalar/None)."""
    other = b if isinstance(b, pl.Series) else pl.lit(b, dtype=pl.String)
    return pl.select(pl.when(pl.Series(mask)).then(a).otherwise(other)).to_series()


# ---------------------------------------------------------------------------------------------- places


PART_SUFFIX = ("", "二期", "三期", "四期", "五期", "六期", "七期", "八期", "九期", "十期")
#: township codes of the later parts of a province: <county><700 + 20 × (part − 1) + i> (a county has ≤ 20 townships)
PART_TOWN_CODE0, PART_TOWN_SPAN = 700, 20
#: characters of the later parts' township names: none of them occurs in a real township or county name of the city
#: or in the generated village and community names, so no place text names two townships
PART_TOWN_CHARS = "祥瑞嘉盛泰裕顺康永昌隆辉耀汇锦绣翔鹏琪瑶璋瑾涵泽浩瀚渊澄湛灏沛汀滨渝渚沅漓泓汶淇茂蔚菁蓉芷"


@cache
def part_townships(part: int) -> tuple[divisions.Township, ...]:
    """The townships of part ``part`` of a province: the city's own for part 0; for a later part, one new township
    for each of the city's (same county, same kind: 镇 / 乡 / 街道), with its own code and name.

    A province is about ten prefectures, each with townships of a city's size. Parts that shared the city's
    townships made every township ten times as crowded: ten times the villages to tell apart by a place text and ten
    times the namesakes (64 % of persons shared their exact name within their township against the city's 20 %), so
    linkage grew with the square of the scale. With townships of their own, each part is a city of its own. The codes
    returned are still the city's counties' (the generator's tables of county shares are keyed by them):
    :func:`relocate` then moves the part into a prefecture of its own."""
    real = divisions.reference_townships()
    if part == 0:
        return real
    taken = set("".join(t.name + t.county_name for t in real))
    taken |= set(vocab.VILLAGE_FIRST + vocab.VILLAGE_SECOND + "".join(vocab.RESETTLEMENT_NAMES))
    chars = [c for c in dict.fromkeys(PART_TOWN_CHARS) if c not in taken]
    pairs = [a + b for a in chars for b in chars if a != b]
    index: dict[str, int] = {}
    out = []
    for k, t in enumerate(real):
        i = index[t.county_code] = index.get(t.county_code, -1) + 1
        code = PART_TOWN_CODE0 + PART_TOWN_SPAN * (part - 1) + i
        if i >= PART_TOWN_SPAN or code > 999:
            raise ValueError(f"no township codes left for part {part + 1} of county {t.county_code}")
        n = (part - 1) * len(real) + k
        if n >= len(pairs):
            raise ValueError(f"no township names left for part {part + 1}")
        kind = "街道" if t.name.endswith("街道") else "镇" if t.name.endswith("镇") else "乡"
        out.append(divisions.Township(t.county_code, t.county_name, f"{t.county_code}{code:03d}", pairs[n] + kind))
    return tuple(out)


#: prefectures of a province's later parts: Guangxi codes that no outsider's ID carries (vocab.OUTSIDER_AREAS), so
#: an outsider never holds an ID of a county the province serves
PART_CITY_CODES = ("4504", "4505", "4506", "4507", "4509", "4510", "4511", "4514")
#: characters of the later parts' county names: none occurs in the city's real names, in the generated village
#: names or in the later parts' township names, so no place text names two counties
PART_COUNTY_CHARS = "岚峤峪嵘崧岷峥嶂峦岱嵩巍峨屹岗崖嵋崆"


@cache
def part_counties(part: int) -> dict[str, tuple[str, str, str]]:
    """For a later part of a province: the city's county code → (the part's county code, its name, its short name as
    people write it: 融水县). The part's prefecture is ``PART_CITY_CODES[part - 1]``; each county keeps the last two
    digits of the city's and gets a name of its own with the same kind (区, 县, 苗族自治县 …)."""
    if part < 1 or part > len(PART_CITY_CODES):
        raise ValueError(f"a synthetic province has at most {len(PART_CITY_CODES) + 1} parts (part {part + 1} asked)")
    real = {t.county_code: t.county_name for t in divisions.reference_townships()}
    taken = set("".join(real.values()) + "".join(t.name for t in divisions.reference_townships()))
    taken |= set(vocab.VILLAGE_FIRST + vocab.VILLAGE_SECOND + "".join(vocab.RESETTLEMENT_NAMES) + PART_TOWN_CHARS)
    chars = [c for c in dict.fromkeys(PART_COUNTY_CHARS) if c not in taken]
    pairs = [a + b for a in chars for b in chars if a != b]
    # shuffled once, the same way every time: a prefecture's counties should not all share their first character
    pairs = [pairs[i] for i in np.random.default_rng(len(pairs)).permutation(len(pairs))]
    out = {}
    for k, (code, name) in enumerate(sorted(real.items())):
        n = (part - 1) * len(real) + k
        if n >= len(pairs):
            raise ValueError(f"no county names left for part {part + 1}")
        kind = name[2:]
        short = pairs[n] + ("区" if kind.endswith("区") else "县")
        out[code] = (PART_CITY_CODES[part - 1] + code[4:], pairs[n] + kind, short)
    return out


def province_townships(n_parts: int) -> list[divisions.Township]:
    """Every township of a province generated in ``n_parts`` parts, under the codes and names the parts are written
    with: the city's own, then each later part's (:func:`part_townships` moved by :func:`part_counties`)."""
    out = list(divisions.reference_townships())
    for part in range(1, n_parts):
        moved = part_counties(part)
        for t in part_townships(part):
            code, name, _ = moved[t.county_code]
            out.append(divisions.Township(code, name, code + t.code[6:], t.name))
    return out


def county_short_names() -> dict[str, str]:
    """County code → the short name people write (融水县), for the city's counties and every later part's."""
    out = dict(vocab.SHORT_COUNTY)
    for part in range(1, len(PART_CITY_CODES) + 1):
        out |= {code: short for code, _, short in part_counties(part).values()}
    return out


#: columns of the city's frames that hold a division code (or an ID made from one: household_id) as a text prefix
_CODE_COLUMNS = (
    "household_id",
    "county_code",
    "township_code",
    "village_code",
    "origin_village_code",
    "resettlement_village_code",
    "hukou_county_code",
    "hukou_township_code",
    "town_code",
)


def relocate(frame: pl.DataFrame, part: int) -> pl.DataFrame:
    """The frame of a later part with its divisions moved into the part's prefecture (:func:`part_counties`): code
    columns re-prefixed, county names replaced, ID address codes (``area``) of the city's counties mapped to the
    part's (the old 柳江县 code to the part's county of 柳江区: the part's prefecture has no historic codes)."""
    moved = part_counties(part)
    new_code = {old: new for old, (new, _, _) in moved.items()}
    new_name = {moved[old][0]: name for old, (_, name, _) in moved.items()}
    cols = []
    for col in _CODE_COLUMNS:
        if col in frame.columns:
            head = pl.col(col).str.slice(0, 6)
            cols.append(
                pl.when(head.is_in(list(new_code)))
                .then(head.replace_strict(new_code, default=None) + pl.col(col).str.slice(6))
                .otherwise(pl.col(col))
                .alias(col)
            )
    frame = frame.with_columns(cols)
    if "county" in frame.columns and "county_code" in frame.columns:
        frame = frame.with_columns(
            pl.col("county_code").replace_strict(new_name, default=pl.col("county")).alias("county")
        )
    if "area" in frame.columns:
        areas = {int(old): int(new) for old, new in new_code.items()}
        areas |= {int(h): areas[int(c)] for h, c in divisions.HISTORIC_COUNTY_CODES.items() if int(c) in areas}
        frame = frame.with_columns(pl.col("area").replace(areas))
    return frame


def build_villages(
    rng: np.random.Generator, spec: dict, n_households: int, part: int = 0, n_parts: int = 1
) -> tuple[pl.DataFrame, np.ndarray]:
    """Villages with their household counts. Returns (villages frame, household count per village).

    A city generated in parts gives each part its own townships (:func:`part_townships`); their villages are drawn
    as a city's are."""
    all_towns = part_townships(part)
    real_towns = dict(
        zip((t.code for t in all_towns), divisions.reference_townships(), strict=True)
    )  # what kind each one is
    counties = spec.get("counties") or list(vocab.COUNTY_WEIGHTS)
    weights = np.array([vocab.COUNTY_WEIGHTS[c] for c in counties])
    if spec.get("county_shares"):
        weights = np.array(spec["county_shares"], dtype=float)
    per_county = rng.multinomial(n_households, weights / weights.sum())
    hh_per_village = spec["hh_per_village"]
    rows = []
    counts = []
    for c, n_c in zip(counties, per_county):
        towns = [t for t in all_towns if t.county_code == c]
        seat = towns[0]
        if c == "450202":
            eligible = [t for t in towns if real_towns[t.code].name in vocab.CHENGZHONG_RURAL_TOWNSHIPS]
        elif c in vocab.URBAN_DISTRICTS:
            eligible = [t for t in towns if t.name.endswith("镇")]
        else:
            eligible = towns
        k = spec.get("townships_per_county")
        if k and len(eligible) > k:
            others = [t for t in eligible if t is not seat]
            pick = [others[i] for i in sorted(rng.choice(len(others), size=k - (seat in eligible), replace=False))]
            eligible = ([seat] if seat in eligible else []) + pick
        n_res = 0
        if c in vocab.RESETTLEMENT_COMMUNITIES:
            n_res = min(vocab.RESETTLEMENT_COMMUNITIES[c], spec.get("max_resettlement", 99))
        # resettlement communities (社区, codes 001..) in the county seat township
        res_names = rng.choice(len(vocab.RESETTLEMENT_NAMES), size=n_res, replace=False)
        for j, ni in enumerate(res_names):
            suffix = PART_SUFFIX[part % len(PART_SUFFIX)] if n_parts > 1 else ""
            rows.append(
                (
                    f"{seat.code}{j + 1:03d}",
                    f"{vocab.RESETTLEMENT_NAMES[ni]}安置社区{suffix}",
                    seat.name,
                    seat.code,
                    c,
                    seat.county_name,
                    False,
                    True,
                )
            )
            counts.append(0)
        t_w = rng.dirichlet(np.full(len(eligible), 3.0))
        per_town = rng.multinomial(n_c, t_w)
        deep_share = vocab.DEEP_POOR_SHARE.get(c, 0.03 if c not in vocab.URBAN_DISTRICTS else 0.0)
        n_first, n_second = len(vocab.VILLAGE_FIRST), len(vocab.VILLAGE_SECOND)
        name_span = n_first * n_second
        code_span = 790
        for t, n_t in zip(eligible, per_town):
            nv = int(max(1, round(n_t / hh_per_village)))
            nv = min(nv, code_span, name_span)
            pairs = rng.choice(name_span, size=nv, replace=False)
            v_w = rng.dirichlet(np.full(nv, 5.0))
            v_counts = rng.multinomial(n_t, v_w)
            deep = rng.random(nv) < deep_share
            for j in range(nv):
                a, b = divmod(int(pairs[j]), n_second)
                name = vocab.VILLAGE_FIRST[a] + vocab.VILLAGE_SECOND[b] + "村"
                rows.append(
                    (
                        f"{t.code}{200 + j:03d}",
                        name,
                        t.name,
                        t.code,
                        c,
                        t.county_name,
                        bool(deep[j]),
                        False,
                    )
                )
                counts.append(int(v_counts[j]))
    villages = pl.DataFrame(
        rows,
        schema=[
            "village_code",
            "village",
            "township",
            "township_code",
            "county_code",
            "county",
            "former_deep_poverty",
            "resettlement_community",
        ],
        orient="row",
    ).with_row_index("village_idx")
    return villages, np.array(counts, dtype=np.int64)


# ---------------------------------------------------------------------------------------------- households


def _months_text(months: np.ndarray, present: np.ndarray) -> pl.Series:
    """Month index (year*12 + month-1) → 'YYYYMM' text, '' where absent."""
    v = (months // 12) * 100 + months % 12 + 1
    return pl.Series(np.where(present, v, 0)).cast(pl.String).replace("0", "")


def build_households(
    rng: np.random.Generator,
    villages: pl.DataFrame,
    counts: np.ndarray,
    ref_date: dt.date,
    line: float,
    min_relocated: int = 0,
) -> pl.DataFrame:
    n = int(counts.sum())
    v_idx = np.repeat(np.arange(len(villages)), counts)
    vcounty = villages["county_code"].to_numpy().astype(np.int64)
    county = vcounty[v_idx]
    # relocation: some households of rural counties live in a resettlement community of their county
    res = villages.filter(pl.col("resettlement_community"))
    reloc_p = np.zeros(n)
    res_idx = np.full(n, -1, dtype=np.int64)
    relocated = np.zeros(n, dtype=bool)
    u = rng.random(n)
    for c, idxs in (
        res.group_by("county_code", maintain_order=True).agg(pl.col("village_idx")).sort("county_code").iter_rows()
    ):
        m = county == int(c)
        reloc_p[m] = vocab.RELOCATED_SHARE.get(c, 0.0)
        sel = m & (u < reloc_p)
        relocated |= sel
        arr = np.array(idxs, dtype=np.int64)
        res_idx[sel] = arr[rng.integers(0, len(arr), size=int(sel.sum()))]
    need = min_relocated - int(relocated.sum())
    if need > 0:  # small cities: make sure relocation (and both hukou cases) occurs
        cand = np.flatnonzero(~relocated & np.isin(county, res["county_code"].cast(pl.Int64).to_numpy()))
        extra = rng.choice(cand, size=min(need, len(cand)), replace=False)
        relocated[extra] = True
        for k in extra:
            arr = res.filter(pl.col("county_code").cast(pl.Int64) == county[k])["village_idx"].to_numpy()
            res_idx[k] = arr[rng.integers(0, len(arr))]
    hukou_moved = relocated & (rng.random(n) < 0.4)
    if min_relocated and relocated.sum() >= 2:
        r_idx = np.flatnonzero(relocated)
        hukou_moved[r_idx[0]], hukou_moved[r_idx[1]] = True, False
    reg_v = np.where(hukou_moved, res_idx, v_idx)  # registry village = hukou village
    # order households by registry village, then numbered within it
    order = np.lexsort((rng.random(n), reg_v))
    v_idx, county, relocated, res_idx, hukou_moved, reg_v = (
        a[order] for a in (v_idx, county, relocated, res_idx, hukou_moved, reg_v)
    )
    seq = np.arange(n) - np.searchsorted(reg_v, reg_v)  # rank within village (reg_v sorted)
    vcode = villages["village_code"]
    hh_id = vcode.gather(reg_v) + pl.Series(seq + 1).cast(pl.String).str.zfill(4)

    size = rng.choice(np.arange(1, 9), size=n, p=SIZE_P)
    template = np.empty(n, dtype=np.int8)
    for s in range(1, 9):
        m = size == s
        template[m] = rng.choice(8, size=int(m.sum()), p=np.array(TEMPLATE_P[min(s, 5)]))
    lo, hi = HEAD_AGE[template, 0], HEAD_AGE[template, 1]
    head_age = lo + rng.random(n) * (hi - lo)

    tuopin_share = {int(k): v for k, v in vocab.TUOPIN_SHARE.items()}
    tuopin_p = np.full(n, 0.03)
    for c, share in tuopin_share.items():
        tuopin_p[county == c] = share
    tuopin = rng.random(n) < tuopin_p
    minority = (county == 450225) | (county == 450226)
    mon_p = np.where(tuopin, 0.08, 0.03) * np.where(minority, 1.3, 1.0)
    monitored = rng.random(n) < mon_p
    sudden = rng.random(n) < np.where(tuopin, 0.15, 0.2)
    mcat = np.where(monitored, np.where(sudden, 3, np.where(tuopin, 1, 2)), 0)
    ref_m = ref_date.year * 12 + ref_date.month - 1
    start_m = 2021 * 12 + 6  # 2021-07
    ident = start_m + (rng.random(n) * (ref_m - 3 - start_m)).astype(np.int64)
    elim = ident + 6 + (rng.random(n) * 24).astype(np.int64)
    eliminated = monitored & (rng.random(n) < 0.6) & (elim <= ref_m - 1)
    elim_code = np.where(monitored, np.where(eliminated, 2, 1), 0)

    # base per-capita income (last year): most well above the line, a fraction near it
    median = np.where(minority, 14500.0, 18500.0)
    base = median * np.exp(rng.normal(0, 0.38, n))
    near = rng.random(n) < 0.08
    base = np.where(near, line * (1.08 + 0.25 * rng.random(n)), base)
    base = np.maximum(base, line * 1.08)
    active = monitored & ~eliminated
    base = np.where(active, line * (0.85 + 0.65 * rng.random(n)), base)
    base = np.where(eliminated, line * (1.1 + 0.9 * rng.random(n)), base)
    base = np.round(base, 2)
    dibao = rng.random(n) < np.where(active, 0.3, np.where(tuopin, 0.15, 0.03))

    reg = villages.select("village_code", "village", "township", "township_code", "county_code", "county")[reg_v]
    hukou_town = villages["township_code"].gather(np.where(hukou_moved, res_idx, v_idx))
    res_safe = np.maximum(res_idx, 0)
    hh = pl.DataFrame(
        {
            "hh_idx": np.arange(n, dtype=np.int64),
            "household_id": hh_id,
            "county_code": reg["county_code"],
            "county": reg["county"],
            "township_code": reg["township_code"],
            "township": reg["township"],
            "village_code": reg["village_code"],
            "village": reg["village"],
            "village_idx": reg_v.astype(np.int64),
            "origin_village_code": vcode.gather(v_idx),
            "htype_code": tuopin.astype(np.int64),
            "mcat_code": mcat.astype(np.int64),
            "elim_code": elim_code.astype(np.int64),
            "ident_m": np.where(monitored, ident, -1).astype(np.int64),
            "elim_m": np.where(eliminated, elim, -1).astype(np.int64),
            "base_per_capita_income": base,
            "household_size": size.astype(np.int64),
            "template": template.astype(np.int64),
            "head_age": head_age,
            "relocated": relocated,
            "resettlement_village_code": _where(relocated, vcode.gather(res_safe), None),
            "resettlement_site": _where(relocated, villages["village"].gather(res_safe), ""),
            "hukou_moved": _where(relocated, vocab.lut(vocab.YESNO, hukou_moved.astype(np.int64)), ""),
            "hukou_county_code": reg["county_code"],
            "hukou_township_code": hukou_town,
            "unsafe_housing": vocab.lut(vocab.YESNO, (rng.random(n) < 0.01).astype(np.int64)),
            "safe_water": vocab.lut(vocab.YESNO, (rng.random(n) >= 0.015).astype(np.int64)),
            "dibao_hh": dibao,
            "gen_name": rng.random(n) < np.where(minority, 0.6, 0.3),
            "uxorilocal": rng.random(n) < 0.2,
            "father_first": rng.random(n) < 0.5,
            "minority_county": minority,
        }
    )
    return with_household_text(hh)


def with_household_text(hh: pl.DataFrame) -> pl.DataFrame:
    """(Re)derive the text columns of a household frame from its codes."""
    ident, elim = hh["ident_m"].to_numpy(), hh["elim_m"].to_numpy()
    return hh.with_columns(
        household_type=vocab.lut(vocab.HTYPES, hh["htype_code"].to_numpy()),
        monitoring_category=vocab.lut(vocab.MCATS, hh["mcat_code"].to_numpy()),
        risk_eliminated=vocab.lut(vocab.ELIMS, hh["elim_code"].to_numpy()),
        identified_month=_months_text(np.maximum(ident, 0), ident >= 0),
        eliminated_month=_months_text(np.maximum(elim, 0), elim >= 0),
    )


# ---------------------------------------------------------------------------------------------- persons


def _surnames(rng, minority: np.ndarray, village: np.ndarray | None = None, n_villages: int = 0) -> np.ndarray:
    """Indices into :func:`vocab.surname_list`. With villages: each village has vocab.CLAN_SURNAMES clan surnames
    (drawn from its county's table) that vocab.CLAN_SHARE of the persons drawn for it carry."""
    index = {s: i for i, s in enumerate(vocab.surname_list())}
    gen_s, gen_w = zip(*vocab.SURNAMES_GENERAL)
    min_s, min_w = zip(*vocab.SURNAMES_MINORITY)
    a = _choice(rng, [index[s] for s in gen_s], gen_w, len(minority))
    b = _choice(rng, [index[s] for s in min_s], min_w, len(minority))
    out = np.where(minority, b, a).astype(np.int64)
    if village is None or n_villages == 0:
        return out
    k = vocab.CLAN_SURNAMES
    clan_gen = _choice(rng, [index[s] for s in gen_s], gen_w, n_villages * k).reshape(n_villages, k)
    clan_min = _choice(rng, [index[s] for s in min_s], min_w, n_villages * k).reshape(n_villages, k)
    pick = rng.integers(0, k, len(minority))
    clan = np.where(minority, clan_min[village, pick], clan_gen[village, pick])
    return np.where(rng.random(len(minority)) < vocab.CLAN_SHARE, clan, out)


def _national_surnames(rng, n: int) -> np.ndarray:
    index = {s: i for i, s in enumerate(vocab.surname_list())}
    s, w = zip(*vocab.SURNAMES_NATIONAL)
    return _choice(rng, [index[x] for x in s], w, n).astype(np.int64)


def render_names(sur: np.ndarray, g1: np.ndarray, g2: np.ndarray, sep: pl.Series | None = None) -> pl.Series:
    """surname + separator + given characters; g2 = −1 for one-character given names."""
    chars, _, _ = vocab.given_pool()
    given = list(chars) + [""]
    out = vocab.lut(vocab.surname_list(), sur)
    if sep is not None:
        out = out + sep
    return out + vocab.lut(given, g1) + vocab.lut(given, np.where(g2 < 0, len(chars), g2))


def build_persons(rng: np.random.Generator, hh: pl.DataFrame, ref_date: dt.date, spec: dict) -> pl.DataFrame:
    size = hh["household_size"].to_numpy()
    n = int(size.sum())
    h = np.repeat(np.arange(len(hh)), size)
    first = np.cumsum(size) - size
    slot = np.arange(n) - np.repeat(first, size)
    template = hh["template"].to_numpy()[h]
    role = TEMPLATES[template, slot]
    H = hh["head_age"].to_numpy()[h]
    minority = hh["minority_county"].to_numpy()[h]
    uxor = hh["uxorilocal"].to_numpy()[h]
    father_first = hh["father_first"].to_numpy()[h]

    # sex
    head_male_p = np.where(hh["template"].to_numpy() == 0, 0.6, 0.85)
    hm = (rng.random(len(hh)) < head_male_p)[h]
    male = np.select(
        [role == HEAD, role == SPOUSE, role == SON, role == INLAW, role == PARENT],
        [hm, ~hm, ~uxor, uxor, np.where(slot == 5, father_first, ~father_first)],
        default=rng.random(n) < 0.52,
    )

    # ages (years at the reference date)
    u = rng.random(n)
    is_child = role == CHILD
    cc = np.cumsum(is_child)
    before = cc[first] - is_child[first]
    child_rank = np.where(is_child, cc - before[h] - 1, 0)
    g0 = np.repeat(20 + rng.random(len(hh)) * 12, size)  # the eldest child's gap to the head
    step = 1.2 + 2.3 * u
    j = rng.random(n)  # jitter for clipped ages, so that clipping does not pile people onto one birth date
    gap_child = np.minimum(np.minimum(g0 + child_rank * step, 40.0 - 2 * j), H - 0.3 - 0.6 * j)
    gap_son = np.repeat(20 + rng.random(len(hh)) * 10, size)
    gap_grand = np.minimum(
        gap_son + 20 + rng.random(n) * 8 + 1.5 * np.maximum(slot - 4, 0), np.minimum(60.0 - 2 * j, H - 0.3 - 0.6 * j)
    )
    spouse_delta = np.where(hm, -5 + 8 * u, -3 + 8 * u)
    age = np.select(
        [role == HEAD, role == SPOUSE, role == CHILD, role == SON, role == INLAW, role == GRAND, role == PARENT],
        [
            H,
            np.maximum(H + spouse_delta, 20.0 + 2 * j),
            H - gap_child,
            H - gap_son,
            np.maximum(H - gap_son + (-4 + 7 * u), 18.0 + 2 * j),
            H - gap_grand,
            np.minimum(H + 20 + 15 * u, 98.0 - 5 * j),
        ],
    )
    ref_days = _days(ref_date)
    birth = ref_days - np.round(age * 365.25).astype(np.int64) - 1
    age_years = (ref_days - birth) / 365.25

    m = male.astype(np.int64)
    rel = np.select(
        [role == HEAD, role == SPOUSE, (role == CHILD) | (role == SON), role == INLAW, role == GRAND, role == PARENT],
        [0, 1, 3 - m, 4 + m, 7 - m, 9 - m],
    )

    # names: heads carry their village's clan surnames (the family inherits them), the married-in their own;
    # given names follow the fashion of the birth cohort (see vocab, names)
    vidx = hh["village_idx"].to_numpy()[h]
    head_sur = _surnames(rng, minority, vidx, int(vidx.max(initial=-1)) + 1)[first]
    inherit = (role == HEAD) | (role == CHILD) | (role == SON) | (role == GRAND) | ((role == PARENT) & male)
    surname = np.where(inherit, head_sur[h], _surnames(rng, minority))
    cohort = names.cohort_of(birth)
    g1, g2 = names.draw_given(rng, male, cohort)
    _, index, _ = vocab.given_pool()
    gen_chars = np.array([index[c] for c in vocab.GENERATION_CHARS])
    gen_i = rng.integers(0, len(gen_chars), len(hh))[h]
    # siblings share the generation character (字辈); grandchildren carry the next one
    hh_gen = np.where(role == GRAND, gen_chars[(gen_i + 1) % len(gen_chars)], gen_chars[gen_i])
    use_gen = (
        hh["gen_name"].to_numpy()[h]
        & ((role == CHILD) | (role == SON) | (role == GRAND))
        & (male | (rng.random(n) < 0.3))
    )
    second1, second2 = names.draw_given(rng, male, cohort)
    g2 = np.where(use_gen & (g2 < 0), np.where(second2 >= 0, second2, second1), g2)
    g1 = np.where(use_gen, hh_gen, g1)
    # Miao and Dong women of the older cohorts: …妹
    g2 = np.where(minority & ~male & (cohort <= 2) & (rng.random(n) < 0.15), index["妹"], g2)
    dot = minority & (rng.random(n) < spec.get("dot_rate", 0.004))
    dot_pairs = np.array([[index[p[0]], index[p[1]]] for p in vocab.DOT_GIVEN])
    dp = dot_pairs[rng.integers(0, len(dot_pairs), n)]
    g1 = np.where(dot, dp[:, 0], g1)
    g2 = np.where(dot, dp[:, 1], g2)

    # the namesake knob: share of persons sharing their exact name with someone of their township
    if spec.get("namesake_share") is not None:
        town = hh["township_code"].cast(pl.Int64).to_numpy()[h]
        own = (role == SPOUSE) | (role == INLAW) | ((role == PARENT) & ~male)
        surname, g1, g2 = names.tune_namesakes(
            rng, float(spec["namesake_share"]), town, h, male, cohort, own, surname, g1, g2, dot
        )

    # health, labour, student
    uh = rng.random(n)
    health = np.select(
        [age_years < 40, age_years < 60],
        [_pick(uh, [0.95, 0.02, 0.01, 0.02]), _pick(uh, [0.82, 0.10, 0.03, 0.05])],
        default=_pick(uh, [0.60, 0.28, 0.05, 0.07]),
    )
    student = _student(rng, age_years)
    ul = rng.random(n)
    labour = np.select(
        [age_years < 16, student != 0, health >= 2, age_years < 60, age_years < 70],
        [
            4,
            4,
            2 + _pick(ul, [0.4, 0.6]),
            _pick(ul, [0.15, 0.65, 0.10, 0.05, 0.05]),
            1 + _pick(ul, [0.35, 0.35, 0.15, 0.15]),
        ],
        default=2 + _pick(ul, [0.15, 0.40, 0.45]),
    )

    # policy benefits: 低保 for the whole household; 特困 for single elderly without labour
    dibao_hh = hh["dibao_hh"].to_numpy()[h]
    single_old = (size[h] == 1) & (age_years >= 60) & (labour >= 3)
    tekun = single_old & (rng.random(n) < 0.4)
    dibao = dibao_hh & ~tekun

    # ID numbers: address code = county (柳江 people born before 2016 often keep the old 柳江县 code 450221)
    county = hh["county_code"].to_numpy().astype(np.int64)[h]
    birth_year = (np.datetime64("1970-01-01") + birth.astype("timedelta64[D]")).astype("datetime64[Y]").astype(
        int
    ) + 1970
    historic = (county == 450206) & (birth_year < 2016) & (rng.random(n) < spec.get("historic_rate", 0.35))
    area = np.where(historic, 450221, county)

    persons = pl.DataFrame(
        {
            "pid": np.arange(n, dtype=np.int64),
            "hh_idx": h.astype(np.int64),
            "person_no": (slot + 1).astype(np.int64),
            "role": role.astype(np.int64),
            "rel_code": rel.astype(np.int64),
            "male": male,
            "birth_days": birth,
            "age": age_years,
            "sur_idx": surname,
            "g1": g1.astype(np.int64),
            "g2": g2.astype(np.int64),
            "dot": dot,
            "area": area.astype(np.int64),
            "labour_code": labour.astype(np.int64),
            "health_code": health.astype(np.int64),
            "student_code": student.astype(np.int64),
            "dibao_code": dibao.astype(np.int64),
            "tekun_code": tekun.astype(np.int64),
        }
    )
    return with_person_text(persons)


def with_person_text(p: pl.DataFrame) -> pl.DataFrame:
    """(Re)derive the text columns of a person frame from its codes."""
    dot = p["dot"].to_numpy()
    sep = vocab.lut(("", "·"), dot.astype(np.int64))
    return p.with_columns(
        relation=vocab.lut(vocab.RELATIONS, p["rel_code"].to_numpy()),
        sex=vocab.lut(("女", "男"), p["male"].to_numpy().astype(np.int64)),
        surname=vocab.lut(vocab.surname_list(), p["sur_idx"].to_numpy()),
        name=render_names(p["sur_idx"].to_numpy(), p["g1"].to_numpy(), p["g2"].to_numpy(), sep),
        labour=vocab.lut(vocab.LABOURS, p["labour_code"].to_numpy()),
        health=vocab.lut(vocab.HEALTHS, p["health_code"].to_numpy()),
        student=vocab.lut(vocab.STUDENTS, p["student_code"].to_numpy()),
        dibao=vocab.lut(vocab.DIBAOS, p["dibao_code"].to_numpy()),
        tekun=vocab.lut(vocab.TEKUNS, p["tekun_code"].to_numpy()),
    )


def _pick(u: np.ndarray, p) -> np.ndarray:
    """Index drawn with probabilities p from uniforms u."""
    cum = np.cumsum(np.asarray(p, dtype=float))
    cum /= cum[-1]
    return np.minimum(np.searchsorted(cum, u, side="right"), len(p) - 1)


def _student(rng, age: np.ndarray) -> np.ndarray:
    """Codes into vocab.STUDENTS (0 = 非在校生)."""
    a = np.floor(age).astype(int)
    n = len(a)
    S = {s: i for i, s in enumerate(vocab.STUDENTS)}
    out = np.zeros(n, dtype=np.int64)
    out[a < 3] = S["学龄前儿童"]
    out[(a >= 3) & (a < 6)] = S["学前教育"]
    prim = (a >= 6) & (a <= 11)
    out[prim] = S["小学一年级"] + (a[prim] - 6)
    mid = (a >= 12) & (a <= 14)
    out[mid] = S["七年级"] + (a[mid] - 12)
    hs = (a >= 15) & (a <= 17)
    voc = rng.random(n) < 0.35
    out[hs & ~voc] = S["高中一年级"] + (a[hs & ~voc] - 15)
    out[hs & voc] = S["中职一年级"] + (a[hs & voc] - 15)
    out[hs & (rng.random(n) < 0.12)] = 0
    col = (a >= 18) & (a <= 21) & (rng.random(n) < 0.3)
    out[col & (a <= 20)] = S["高职高专一年级"] + (a[col & (a <= 20)] - 18)
    out[col & (a == 21)] = S["本科四年级"]
    return out


# ---------------------------------------------------------------------------------------------- IDs


def assign_ids(
    rng: np.random.Generator, area: np.ndarray, birth_days: np.ndarray, male: np.ndarray, lo: int = 1, width: int = 499
) -> pl.Series:
    """Unique valid 18-digit IDs: sequence parity = sex, MOD 11-2 check character. Vectorised.

    The sequence is 2 × pair + (1 if male), pair in [lo, lo + width): disjoint pair ranges never collide, so
    registry persons, outsiders and the parts of a large city can be numbered separately."""
    if width % 7 == 0:
        width -= 1
    n = len(area)
    area_i = area.astype(np.int64)
    ymd = pl.Series(birth_days.astype(np.int32)).cast(pl.Date).dt.strftime("%Y%m%d").cast(pl.Int64).to_numpy()
    df = pl.DataFrame({"a": area_i, "d": ymd, "m": male, "r": rng.integers(0, width, n)})
    df = df.with_columns(
        rank=pl.int_range(pl.len()).over(["a", "d", "m"]),
        start=pl.col("r").first().over(["a", "d", "m"]),
    )
    rank = df["rank"].to_numpy()
    if rank.max(initial=0) >= width:
        raise RuntimeError("too many people share an address code, birth date and sex for unique ID numbers")
    pair = (df["start"].to_numpy() + 7 * rank) % width + lo
    seq = 2 * pair + male.astype(np.int64)
    total = np.zeros(n, dtype=np.int64)
    w = WEIGHTS
    for k in range(6):
        total += ((area_i // 10 ** (5 - k)) % 10) * w[k]
    for k in range(8):
        total += ((ymd // 10 ** (7 - k)) % 10) * w[6 + k]
    for k in range(3):
        total += ((seq // 10 ** (2 - k)) % 10) * w[14 + k]
    check = vocab.lut(list(CHECK_CHARS), total % 11)
    return (
        pl.Series(area_i).cast(pl.String)
        + pl.Series(ymd).cast(pl.String)
        + pl.Series(seq).cast(pl.String).str.zfill(3)
        + check
    )


# ---------------------------------------------------------------------------------------------- outsiders


#: people who are not in the rural registry: share of them living in a township of the city (their department
#: records name it), share carrying the exact name of a registry person whose name is common in that township
OUTSIDER_LOCAL = 0.5
OUTSIDER_COLLIDE = 0.5


def build_outsiders(
    rng: np.random.Generator, n: int, ref_date: dt.date, persons: pl.DataFrame, hh: pl.DataFrame
) -> pl.DataFrame:
    """People who are not in the registry: urban residents of Liuzhou, people from other cities of Guangxi and from
    other provinces (vocab.OUTSIDER_AREAS; their IDs carry that area's code).

    Each is tied to a registry person of the same sex (``src``): a *local* outsider lives in that person's township
    (their records name it: ``town_code``, else null — their records show their home place); a *colliding*
    outsider carries that person's exact name, and then ``src`` is drawn among persons who share their name in
    their township (common names: 韦秀英, not a rare one, is what an outsider shares by chance)."""
    male = rng.random(n) < 0.55
    age = 18 + rng.random(n) * 60
    birth = _days(ref_date) - np.round(age * 365.25).astype(np.int64) - 1
    areas = vocab.OUTSIDER_AREAS
    area_i = rng.integers(0, len(areas), n)
    kind = np.array([k for _, _, k in areas])[area_i]
    surname = np.where(kind == "province", _national_surnames(rng, n), _surnames(rng, rng.random(n) < 0.3))
    g1, g2 = names.draw_given(rng, male, names.cohort_of(birth))

    p_male = persons["male"].to_numpy()
    p_town = hh["township_code"].cast(pl.Int64).to_numpy()[persons["hh_idx"].to_numpy()]
    p_dot = persons["dot"].to_numpy()
    keys = names.name_key(persons["sur_idx"].to_numpy(), persons["g1"].to_numpy(), persons["g2"].to_numpy(), p_dot)
    shared = (names.group_sizes(p_town, keys) > 1) & ~p_dot
    collide = rng.random(n) < OUTSIDER_COLLIDE
    local = rng.random(n) < OUTSIDER_LOCAL
    src = np.zeros(n, dtype=np.int64)
    for m in (False, True):
        for common in (False, True):
            pool = np.flatnonzero((p_male == m) & (shared if common else ~p_dot))
            sel = np.flatnonzero((male == m) & (collide == common))
            if len(sel):
                if not len(pool):  # a tiny city without any common name
                    pool = np.flatnonzero(p_male == m) if (p_male == m).any() else np.arange(len(p_male))
                src[sel] = pool[rng.integers(0, len(pool), len(sel))]
    collide &= len(p_male) > 0
    surname = np.where(collide, persons["sur_idx"].to_numpy()[src], surname)
    g1 = np.where(collide, persons["g1"].to_numpy()[src], g1)
    g2 = np.where(collide, persons["g2"].to_numpy()[src], g2)
    town = hh["township_code"].gather(persons["hh_idx"].gather(src))
    return pl.DataFrame(
        {
            "oid": np.arange(n, dtype=np.int64),
            "male": male,
            "birth_days": birth,
            "age": age,
            "sur_idx": surname,
            "g1": g1.astype(np.int64),
            "g2": g2.astype(np.int64),
            "dot": np.zeros(n, dtype=bool),
            "area": np.array([int(a) for a, _, _ in areas])[area_i],
            "place": vocab.lut([p for _, p, _ in areas], area_i),
            "area_kind": pl.Series(kind),
            "town_code": _where(local, town, None),
        }
    ).with_columns(
        name=render_names(surname, g1, g2),
        surname=vocab.lut(vocab.surname_list(), surname),
        sex=vocab.lut(("女", "男"), male.astype(np.int64)),
    )


def build_city(
    rng: np.random.Generator,
    spec: dict,
    n_households: int,
    ref_date: dt.date,
    line: float,
    n_outsiders: int,
    part: int = 0,
    n_parts: int = 1,
) -> City:
    villages, counts = build_villages(rng, spec, n_households, part, n_parts)
    hh = build_households(rng, villages, counts, ref_date, line, spec.get("min_relocated", 0))
    persons = build_persons(rng, hh, ref_date, spec)
    outsiders = build_outsiders(rng, n_outsiders, ref_date, persons, hh)
    if part > 0:  # a province's later part: a prefecture of its own
        villages, hh, persons = (relocate(f, part) for f in (villages, hh, persons))
        outsiders = relocate(outsiders.drop("area"), part).insert_column(
            outsiders.columns.index("area"), outsiders["area"]
        )
    # disjoint sequence ranges: registry persons 1..440, outsiders 441..499, each split between the parts
    rw, ow = 440 // n_parts, 59 // n_parts
    ids = assign_ids(
        rng, persons["area"].to_numpy(), persons["birth_days"].to_numpy(), persons["male"].to_numpy(), 1 + part * rw, rw
    )
    oids = assign_ids(
        rng,
        outsiders["area"].to_numpy(),
        outsiders["birth_days"].to_numpy(),
        outsiders["male"].to_numpy(),
        441 + part * ow,
        ow,
    )
    return City(villages, hh, persons.with_columns(id_number=ids), outsiders.with_columns(id_number=oids), ref_date)
