"""A quick synthetic city written straight into a warehouse, for linkage development and benchmarks.

The real generator (``fangpin.synth.generate`` + the loader) is the reference; this one skips the landing files and
produces ``registry_person`` / ``dept_record`` rows plus ``<home>/truth/records.parquet`` with the same noise
vocabulary (homophone, traditional, minority_dot, fullwidth_id, id_missing, id_15, id_typo, id_transposed,
id_mangled, wrong_village, not_in_registry, namesake, head_only), vectorised so that city size (1.3 M persons,
1.5 M records) takes well under a minute.

    python -m warehouse.linkage.devcity --home DIR --persons 1300000 --records 1500000
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl

from fangpin.domain import divisions
from fangpin.domain.idnumber import CHECK_CHARS, WEIGHTS, add_id_columns
from fangpin.synth import vocab

EPOCH = dt.date(1970, 1, 1)


def _ids(area: np.ndarray, birth_days: np.ndarray, seq: np.ndarray) -> np.ndarray:
    dates = pl.Series(birth_days.astype(np.int32)).cast(pl.Date).dt.strftime("%Y%m%d").to_numpy().astype(str)
    first17 = np.char.add(np.char.add(area.astype(str), dates), np.char.zfill(seq.astype(str), 3))
    digits = np.frombuffer("".join(first17).encode(), dtype=np.uint8).reshape(-1, 17) - 48
    check = np.array(list(CHECK_CHARS))[(digits.astype(np.int64) * np.array(WEIGHTS)).sum(axis=1) % 11]
    return np.char.add(first17, check)


def _weighted(rng, pairs, n):
    names = [p[0] for p in pairs]
    w = np.array([p[1] for p in pairs], float)
    return np.array(names, dtype=object)[rng.choice(len(names), size=n, p=w / w.sum())]


def build(persons: int = 20000, records: int = 24000, seed: int = 1) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    towns = [t for t in divisions.reference_townships() if not t.name.endswith("街道") or t.county_code == "450202"]
    # villages: ~ persons / 900 spread over the townships
    n_vil = max(len(towns) * 2, persons // 900)
    t_idx = np.arange(n_vil) % len(towns)
    vnames, seen = [], set()
    for i in range(n_vil):
        while True:
            nm = rng.choice(list(vocab.VILLAGE_FIRST)) + rng.choice(list(vocab.VILLAGE_SECOND)) + "村"
            if (t_idx[i], nm) not in seen:
                seen.add((t_idx[i], nm))
                break
        vnames.append(nm)
    V = pl.DataFrame(
        {
            "village_code": [towns[t].code + f"{200 + i // len(towns):03d}" for i, t in enumerate(t_idx)],
            "village": vnames,
            "township": [towns[t].name for t in t_idx],
            "township_code": [towns[t].code for t in t_idx],
            "county": [towns[t].county_name for t in t_idx],
            "county_code": [towns[t].county_code for t in t_idx],
        }
    )
    # households and persons
    sizes = rng.choice([1, 2, 3, 4, 5, 6], size=persons // 3, p=[0.12, 0.2, 0.25, 0.23, 0.13, 0.07])
    sizes = sizes[np.cumsum(sizes) <= persons]
    n = int(sizes.sum())
    h = np.repeat(np.arange(len(sizes)), sizes)
    first = np.r_[0, np.cumsum(sizes)[:-1]]
    is_head = np.zeros(n, bool)
    is_head[first] = True
    hv = rng.integers(0, n_vil, len(sizes))
    vi = hv[h]
    vcounty = V["county_code"].to_numpy()
    minority = np.isin(vcounty[vi], ["450225", "450226"])
    sur = np.where(minority, _weighted(rng, vocab.SURNAMES_MINORITY, n), _weighted(rng, vocab.SURNAMES_GENERAL, n))
    sur = np.where(is_head | (rng.random(n) < 0.55), sur[first[h]], sur)  # children take the head's surname
    male = rng.random(n) < 0.5
    mc, fc = np.array(list(vocab.MALE_CHARS)), np.array(list(vocab.FEMALE_CHARS))
    g1 = np.where(male, mc[rng.integers(0, len(mc), n)], fc[rng.integers(0, len(fc), n)])
    g2 = np.where(
        rng.random(n) < 0.75, np.where(male, mc[rng.integers(0, len(mc), n)], fc[rng.integers(0, len(fc), n)]), ""
    )
    dot = minority & (rng.random(n) < 0.004)
    name = np.char.add(np.char.add(np.char.add(sur.astype(str), np.where(dot, "·", "")), g1), g2)
    birth = rng.integers((dt.date(1935, 1, 1) - EPOCH).days, (dt.date(2020, 12, 31) - EPOCH).days, n)
    seq = rng.integers(0, 500, n) * 2 + np.where(male, 1, 0)
    area = np.where(rng.random(n) < 0.05, "450221", vcounty[vi]).astype(str)
    area = np.where(area == "450221", np.where(vcounty[vi] == "450206", "450221", vcounty[vi]), area)
    ids = _ids(area, birth, seq)
    _, first_idx = np.unique(ids, return_index=True)
    keep = np.zeros(n, bool)
    keep[first_idx] = True  # drop the rare ID collision
    P = (
        pl.DataFrame(
            {
                "household_id": np.char.add("H", h.astype(str)),
                "village_code": V["village_code"].to_numpy()[vi],
                "name": name,
                "id_number": ids,
                "birth_days": birth,
                "sex": np.where(male, "男", "女"),
                "relation": np.where(is_head, "户主", np.where(male, "之子", "之女")),
            }
        )
        .filter(pl.Series(keep))
        .join(V, on="village_code")
    )
    P = P.with_columns(namesake=pl.len().over(["village_code", "name"]) > 1)
    # records: 85 % registry persons, 15 % outsiders
    feeds = rng.choice(["medical", "civil_affairs", "employment", "disaster"], size=records, p=[0.55, 0.2, 0.15, 0.1])
    reg = rng.random(records) < 0.88
    pi = rng.integers(0, P.height, records)
    Pn = {
        c: P[c].to_numpy()
        for c in (
            "name",
            "id_number",
            "household_id",
            "village",
            "township",
            "county",
            "county_code",
            "village_code",
            "township_code",
            "namesake",
        )
    }
    heads = np.flatnonzero(P["relation"].to_numpy() == "户主")
    pi = np.where(feeds == "disaster", heads[rng.integers(0, len(heads), records)], pi)
    o_sur = _weighted(rng, vocab.SURNAMES_GENERAL, records)
    o_name = np.char.add(
        np.char.add(o_sur.astype(str), mc[rng.integers(0, len(mc), records)]),
        np.where(rng.random(records) < 0.7, fc[rng.integers(0, len(fc), records)], ""),
    )
    o_area = np.array(["450103", "450305", "450102", "441900", "522631"])[
        rng.integers(0, 5, records)
    ]  # never a registry county
    o_birth = rng.integers((dt.date(1940, 1, 1) - EPOCH).days, (dt.date(2015, 1, 1) - EPOCH).days, records)
    o_ids = _ids(o_area, o_birth, rng.integers(0, 999, records))
    true_id = np.where(reg, Pn["id_number"][pi], o_ids).astype(str)
    nm = np.where(reg, Pn["name"][pi], o_name).astype(object)
    # name noise
    chars, index, alt = vocab.given_pool()
    noise = [[] for _ in range(records)]
    hom = reg & (rng.random(records) < 0.04)
    tmap = vocab.traditional_map()
    trad = reg & ~hom & (rng.random(records) < 0.02)
    for k in np.flatnonzero(hom | trad):
        s = nm[k]
        if hom[k]:
            for j in range(len(s) - 1, 0, -1):
                c = s[j]
                if c in index and alt[index[c]] >= 0:
                    s = s[:j] + chars[alt[index[c]]] + s[j + 1 :]
                    noise[k].append("homophone")
                    break
        else:
            t = "".join(tmap.get(c, c) for c in s)
            if t != s:
                s = t
                noise[k].append("traditional")
        nm[k] = s
    dotted = np.array(["·" in str(x) for x in nm])
    dvar = dotted & (rng.random(records) < 0.5)
    for k in np.flatnonzero(dvar):
        nm[k] = nm[k].replace("·", rng.choice(["•", ".", " ", ""]))
        noise[k].append("minority_dot")
    # ID noise
    probs = {
        "medical": [0.82, 0.03, 0.03, 0.03, 0.03, 0.02, 0.04],
        "disaster": [0.30, 0.02, 0.60, 0.02, 0.02, 0.01, 0.03],
        "civil_affairs": [0.88, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02],
        "employment": [0.80, 0.03, 0.05, 0.02, 0.03, 0.02, 0.05],
    }
    kinds = np.array(["clean", "fullwidth_id", "id_missing", "id_15", "id_typo", "id_transposed", "id_mangled"])
    idn = np.empty(records, dtype=object)
    for f, p in probs.items():
        m = feeds == f
        idn[m] = kinds[rng.choice(len(kinds), size=m.sum(), p=p)]
    idn = np.where(~reg, "clean", idn)
    born2000 = np.array([s[6:10] >= "2000" for s in true_id])
    idn = np.where((idn == "id_15") & born2000, "clean", idn)
    raw = true_id.astype(object).copy()
    for k in np.flatnonzero(idn != "clean"):
        s, kind = true_id[k], idn[k]
        if kind == "fullwidth_id":
            raw[k] = "".join(chr(0xFF10 + int(c)) if c.isdigit() else c for c in s)
        elif kind == "id_missing":
            raw[k] = ""
        elif kind == "id_15":
            raw[k] = s[:6] + s[8:17]
        elif kind == "id_typo":
            j = int(rng.integers(0, 17))
            raw[k] = s[:j] + str((int(s[j]) + int(rng.integers(1, 10))) % 10) + s[j + 1 :]
        elif kind == "id_transposed":
            js = [j for j in range(6, 16) if s[j] != s[j + 1]]
            j = int(rng.choice(js))
            raw[k] = s[:j] + s[j + 1] + s[j] + s[j + 2 :]
        elif kind == "id_mangled":
            raw[k] = s[:17] if s.endswith("X") else f"{int(s[:7]) / 1e6:.6f}".rstrip("0").rstrip(".") + "E+17"
        noise[k].append(kind)
    # places
    vi_r = np.where(reg, pi, 0)
    wrong = reg & np.isin(feeds, ["disaster", "employment"]) & (rng.random(records) < 0.03)
    vil = Pn["village"][vi_r].astype(object)
    if wrong.any():
        tv = V.group_by("township_code").agg(pl.col("village"))
        tv = dict(zip(tv["township_code"].to_list(), tv["village"].to_list()))
        for k in np.flatnonzero(wrong):
            others = [x for x in tv[Pn["township_code"][pi[k]]] if x != vil[k]]
            if others:
                vil[k] = others[int(rng.integers(0, len(others)))]
                noise[k].append("wrong_village")
    for k in np.flatnonzero(~reg):
        noise[k].append("not_in_registry")
    for k in np.flatnonzero(reg & Pn["namesake"][pi]):
        noise[k].append("namesake")
    for k in np.flatnonzero(feeds == "disaster"):
        noise[k].append("head_only")
    town = np.where(reg, Pn["township"][vi_r], "城中区").astype(object)
    county = np.where(reg, Pn["county"][vi_r], "柳州市").astype(object)
    addr = np.array(
        [f"广西柳州市{c}{t}{v}" if r else "柳州市城中区某街12号" for c, t, v, r in zip(county, town, vil, reg)],
        dtype=object,
    )
    rand_v = V["village"].to_numpy()[rng.integers(0, n_vil, records)]

    def col(values) -> pl.Series:
        return pl.Series([None if v is None else str(v) for v in values], dtype=pl.String)

    D = pl.DataFrame(
        {
            "source": col(feeds),
            "name": col(nm),
            "id_raw": col(raw),
            "county": col(np.where(feeds == "disaster", county, None)),
            "township": col(np.where(feeds == "employment", None, town)),
            "village": col(np.where(feeds == "disaster", np.where(reg, vil, rand_v), None)),
            "hukou_address": col(np.where(feeds == "employment", addr, None)),
            "is_head_only": pl.Series(feeds == "disaster"),
        }
    )
    D = D.with_columns(
        source_file=pl.col("source") + pl.lit(".xlsx"),
        source_row=(pl.int_range(pl.len()).over("source") + 3).cast(pl.Int64),
        file_hash=pl.lit("dev:") + pl.col("source"),  # one file per feed, and a file's rows share its hash
    )
    D = add_id_columns(D, "id_raw").drop("id_clean").rename({"id_birth_date": "birth_date", "id_sex": "sex"})
    T = D.select("source", "source_file", "source_row").with_columns(
        true_id_number=pl.Series(np.where(reg, true_id, None)),
        true_household_id=pl.Series(np.where(reg, Pn["household_id"][pi], None)),
        noise=pl.Series(noise, dtype=pl.List(pl.String)),
        id_exact=pl.Series(reg & np.isin(idn, ["clean", "fullwidth_id"])),
    )
    P = P.with_columns(
        id_raw=pl.col("id_number"),
        id_status=pl.lit("valid"),
        birth_date=pl.col("birth_days").cast(pl.Date),
        source_file=pl.lit("registry.csv"),
        source_row=(pl.int_range(pl.len()) + 2).cast(pl.Int64),
    ).drop("birth_days", "namesake")
    return P, D, T


def write(home: Path, persons: int, records: int, seed: int = 1) -> Path:
    from warehouse.engine import session
    from warehouse.steps import Sql

    P, D, T = build(persons, records, seed)
    home = Path(home)
    (home / "truth").mkdir(parents=True, exist_ok=True)
    T.write_parquet(home / "truth" / "records.parquet")
    db = home / "warehouse" / "fangpin.duckdb"
    with session(db) as wh:
        for table, df in (("registry_person", P), ("dept_record", D)):
            with wh.attached("_devcity_rows", df):
                wh.run("linkage/devcity.replace", table=table, columns=Sql(", ".join(df.columns)))
    return db


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m warehouse.linkage.devcity")
    ap.add_argument("--home", type=Path, required=True)
    ap.add_argument("--persons", type=int, default=20000)
    ap.add_argument("--records", type=int, default=24000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)
    print(write(a.home, a.persons, a.records, a.seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
