"""``generate``: a synthetic Liuzhou (registry + four department feeds in landing/, ground truth in truth/).

Stages draw from independent random streams (``numpy.random.SeedSequence(seed).spawn``), so the same seed and size
give byte-identical files (CSV and XLSX) and identical truth. Nothing is read from the clock except the elapsed
times in manifest.json. Cities above ``PART_MAX_HOUSEHOLDS`` (province) are generated in parts, each with townships
of its own in the city's counties (``population.part_townships``: a province is prefectures of a city's size), and
disjoint ID sequence ranges and event ids; their files carry a "（第N部分）" suffix and the truth parts are streamed
together at the end (names are counted per township over all parts).

Names (``names``): given names by birth cohort and sex, village clan surnames, and the namesake knob
(``namesake_share``: realistic 0.20 / stress 0.45 / a number). Departments lack IDs at their own rates
(``feeds.ID_NOISE``, spec key ``id_noise``); people outside the registry appear on every department's lists, some
with a common name of the township they live in (``population.build_outsiders``).

Ground truth (docs/ARCHITECTURE.md is the contract; columns beyond it are extras):

* ``persons.parquet``: the clean registry, plus ``has_namesake`` (same name in the same village),
  ``historic_address_code`` (ID carries 450221, the old 柳江县 code) and ``namesakes_in_township`` (how many other
  registry persons of the same township have exactly the same name).
* ``households.parquet``: plus ``suspect_again`` (a risk-eliminated household suspected again), ``signals`` (feeds
  with a qualifying signal), ``adjusted_per_capita_income``, ``rigid_spending``, ``monitoring_line``, ``dibao``,
  ``resettlement_village_code``. ``scenario`` is a planted scenario name (see ``events.SCENARIOS``), ``surge`` /
  ``surge_near_line`` (planted by ``surges``), or ``background`` (only harmless events) / ``quiet`` (no department
  record at all). ``evidence_exact_ids``: every
  evidence event of the household (all its in-window medical and disaster events, its qualifying employment and
  civil-affairs events) has at least one record whose raw ID is exact; vacuously true without evidence.
* ``records.parquet``: plus ``event_id`` (shared by a duplicate copy and its original), ``event_date``,
  ``in_window``, ``signal`` (the event qualifies for a §6.2 signal), ``evidence``, ``is_duplicate`` (the copy that
  carries ``duplicate_event``), ``id_written`` / ``id_cell`` (the ID as written; ``number`` = an XLSX numeric cell
  holding the float shown as ``id_written``), ``name_written``. ``id_exact`` = the raw text classifies as ``valid``
  and equals the true ID (clean or full-width digits); a 15-digit ID is not exact (it needs the 15→18 repair).
  ``id_usable``: the written ID yields the person's 18-digit ID (valid, full-width or 15-digit; false = missing,
  mistyped, transposed, spreadsheet-mangled). ``namesakes_in_township``: registry person → other registry persons
  of their township with the same name; outsider → registry persons with the outsider's name in the township their
  record names (null when it names a place outside the city's registry). ``name_unique_in_township`` (registry
  persons only): that count is 0. ``outsider_kind`` (outsiders only): valid_id_elsewhere (usable ID, region code
  outside the city) | valid_id_city (usable ID of an urban district) | no_id_common_name (no usable ID, named after
  ≥ 1 registry person of the township the record names) | no_id_local (no usable ID, in the city, no such
  namesake) | address_elsewhere (no usable ID, the record names a place outside the city).
* ``surges.parquet`` / ``surge_households.parquet``: the systemic-risk surges planted in the round's last quarter
  and their households (``surges``; empty files when the size or ``surges=False`` plants none).

Surges (``surges``: on for demo, city and province; ``generate(..., surges=False)`` for a city without them): one
area per kind gets a cluster of department events in the round's last quarter, plus near-line households. Disaster
episodes hit the same villages each time, one episode per quarter, so that the only clusters are the planted ones.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import shutil
import time
from pathlib import Path

import numpy as np
import polars as pl

from fangpin.home import DataHome
from fangpin.settings import rules_for
from fangpin.synth import events as E
from fangpin.synth import feeds as F
from fangpin.synth import names, province, render, vocab
from fangpin.synth import population as P
from fangpin.synth import registry as R
from fangpin.synth import surges as S
from fangpin.synth import truth as T

VERSION = 1
SIZES: dict[str, dict] = {
    "tiny": dict(
        households=120,
        counties=["450225", "450226", "450206"],
        county_shares=[0.38, 0.34, 0.28],
        townships_per_county=2,
        hh_per_village=8,
        max_resettlement=1,
        force_dots=2,
        min_scenario=1,
        force_noise=True,
        disaster_village_share=0.3,
        robust_check=True,
        min_relocated=4,
    ),
    "demo": dict(households=5000, hh_per_village=40, max_resettlement=2, robust_check=True, surges=True),
    "city": dict(
        households=350_000, hh_per_village=300, xlsx_max_rows=12000, robust_check=True, robust_sample=20000, surges=True
    ),
    "province": dict(
        households=3_500_000,
        hh_per_village=300,
        xlsx_max_rows=12000,
        robust_check=True,
        robust_sample=5000,
        surges=True,
    ),
}
FORMATS = ("mixed", "csv", "xlsx")
#: people who are not in the registry, as a share of each feed's records
OUTSIDER_SHARE = {"medical": 0.05, "disaster": 0.01, "civil_affairs": 0.02, "employment": 0.08}
#: every size's spec starts from these (a size may override them): the departments' ID noise rates
#: (feeds.ID_NOISE: what share of each department's rows carry no usable ID, and why) and the outsider shares
SPEC_DEFAULTS: dict = {"id_noise": F.ID_NOISE, "outsider_share": OUTSIDER_SHARE}
#: ID noises after which the written ID still yields the person's 18-digit ID (valid, or a 15-digit one converted)
USABLE_ID_NOISE = ("clean", "fullwidth", "id_15")
#: record columns the parts carry for the name truth computed over the whole city (then dropped)
NAME_TRUTH_INPUTS = ("claimed_town", "clean_name_key", "outsider_area")
#: registry region codes of the city (its counties and the old 柳江县 code): an outsider's ID with another code is
#: from elsewhere
CITY_AREA_CODES = (*vocab.SHORT_COUNTY, "450221")
#: larger cities are generated in parts of at most this many households (bounded memory: ≈3 GB per part)
PART_MAX_HOUSEHOLDS = 400_000
CLEARED = ("landing", "truth", "archive", "quarantine", "warehouse", "out", "reports")


def parse_round(round_id: str) -> dt.date:
    """'2026Q4' → 2026-10-01 (first day of the quarter)."""
    m = re.fullmatch(r"(\d{4})Q([1-4])", str(round_id).strip())
    if not m:
        raise ValueError(
            f"round id {round_id!r} is not a quarter like 2026Q4; the synthetic city needs a quarterly round"
        )
    return dt.date(int(m.group(1)), 3 * int(m.group(2)) - 2, 1)


def _existing_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def clear_generated(home: str | Path) -> None:
    """Remove everything a generated city and the pipeline derived from it put in this home
    (contents of landing, truth, archive, quarantine, warehouse, out, reports). Configuration and Dagster storage stay."""
    root = Path(home).expanduser().resolve()
    for name in CLEARED:
        folder = root / name
        if not folder.is_dir() or folder.is_symlink():
            continue
        for child in folder.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()


def generate(
    home: str | Path,
    size: str = "demo",
    seed: int = 20261,
    round_id: str = "2026Q4",
    scale: float = 1.0,
    formats: str = "mixed",
    namesake_share: float | str = "realistic",
    surges: bool | None = None,
) -> dict:
    """Write a synthetic city into ``<home>/landing/<feed>/`` and its ground truth into ``<home>/truth/``.

    size: tiny (≈120 households, 3 counties) | demo (≈5,000) | city (≈350,000) | province (city × 10);
    scale multiplies the household count. formats: mixed (default) | csv (every file CSV) | xlsx (every file XLSX);
    the registry of a city or province comes as one XLSX export per county unless formats is csv.
    namesake_share: share of registry persons who share their exact name with another person of their township —
    a level of :data:`names.NAMESAKE_LEVELS` (realistic, stress) or a number; the manifest reports the achieved share.
    surges: plant the systemic-risk surges (``surges``); None = the size's default (demo, city, province: yes).
    Refuses (ValueError) to write into a home whose landing folders already hold files: call
    :func:`clear_generated` first (the CLI's --force).
    """
    t0, c0 = time.perf_counter(), time.process_time()
    timings: dict[str, float] = {}
    cpu: dict[str, float] = {}  # CPU seconds of this process (all threads) per stage

    def lap(name: str) -> None:
        timings[name] = round(time.perf_counter() - t0 - sum(timings.values()), 3)
        cpu[name] = round(time.process_time() - c0 - sum(cpu.values()), 3)

    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; choose one of {', '.join(SIZES)}")
    if formats not in FORMATS:
        raise ValueError(f"unknown formats {formats!r}; choose one of {', '.join(FORMATS)}")
    if not (scale > 0):
        raise ValueError(f"scale must be positive, got {scale!r}")
    ref = parse_round(round_id)
    dh = DataHome(Path(home).expanduser().resolve())
    existing = _existing_files(dh.landing)
    if existing:
        shown = ", ".join(str(p.relative_to(dh.landing)) for p in existing[:3])
        raise ValueError(
            f"{dh.landing} already holds {len(existing)} file(s) ({shown}{', …' if len(existing) > 3 else ''}); "
            f"refusing to mix a new synthetic city with them — remove them first (fangpin.synth.clear_generated)"
        )
    level, share = names.namesake_target(namesake_share)
    spec = {**SPEC_DEFAULTS, **SIZES[size], "namesake_share": share, "namesake_level": level}
    if surges is not None:
        spec["surges"] = bool(surges)
    n_households = max(10, int(round(spec["households"] * scale)))
    n_parts = max(1, math.ceil(n_households / PART_MAX_HOUSEHOLDS))
    # a city in parts is a province of prefectures: the pipeline needs its divisions and their configuration
    if n_parts > 1:
        province.write_config(dh.root, n_parts)
    else:
        province.clear_config(dh.root)
    rules_cfg = rules_for("4502", ref.year, dh.root)
    rules = E.Rules.from_config(rules_cfg)
    win = E.Window.for_ref(ref)
    part_seeds = (
        np.random.SeedSequence(int(seed)).spawn(n_parts) if n_parts > 1 else [np.random.SeedSequence(int(seed))]
    )
    parts_dir = dh.truth / "_parts"
    if parts_dir.exists():
        shutil.rmtree(parts_dir)
    parts_dir.mkdir(parents=True)
    lap("setup")

    file_infos: list[dict] = []
    villages = []
    truth_frames: dict[str, pl.DataFrame] = {}
    for part in range(n_parts):
        n_part = n_households // n_parts + (1 if part < n_households % n_parts else 0)
        v, infos, truth_frames = _generate_part(
            dh, spec, size, formats, rules, win, ref, part, n_parts, n_part, part_seeds[part], parts_dir, lap
        )
        villages.append(v)
        file_infos += infos
    village_info = R.write_village_table(dh.landing_for("registry"), pl.concat(villages), formats)
    file_infos = (
        [i for i in file_infos if i["feed"] == "registry"]
        + [village_info]
        + [i for i in file_infos if i["feed"] != "registry"]
    )

    # ---- ground truth files (a city in parts: the parts streamed together; names counted over the whole city)
    if n_parts == 1:
        truth_frames["households"].write_parquet(dh.truth / "households.parquet")
        persons, records = truth_frames["persons"].lazy(), truth_frames["records"].lazy()
    else:
        pl.scan_parquet(sorted(parts_dir.glob("households-*.parquet"))).sink_parquet(dh.truth / "households.parquet")
        persons = pl.scan_parquet(sorted(parts_dir.glob("persons-*.parquet")))
        records = pl.scan_parquet(sorted(parts_dir.glob("records-*.parquet")))
    _name_truth(persons, records, dh.truth)
    del truth_frames, persons, records
    shutil.rmtree(parts_dir)
    lap("truth_files")

    head = {
        "generator_version": VERSION,
        "seed": int(seed),
        "size": size,
        "scale": scale,
        "round": round_id,
        "formats": formats,
        "parts": n_parts,
        "reference_date": ref.isoformat(),
        "window": {"start": (P.EPOCH + dt.timedelta(days=win.start)).isoformat(), "end_exclusive": ref.isoformat()},
        "rules": {k: v for k, v in rules_cfg.items() if isinstance(v, (int, float, str))},
    }
    manifest = _manifest(dh, head, spec, sum(len(v) for v in villages), file_infos, timings, cpu, t0)
    (dh.truth / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return manifest


def _generate_part(
    dh: DataHome,
    spec: dict,
    size: str,
    formats: str,
    rules: E.Rules,
    win: E.Window,
    ref: dt.date,
    part: int,
    n_parts: int,
    n_households: int,
    seed: np.random.SeedSequence,
    parts_dir: Path,
    lap,
) -> tuple[pl.DataFrame, list[dict], dict[str, pl.DataFrame]]:
    """One part of the city (the whole city unless it is larger than PART_MAX_HOUSEHOLDS): population, events,
    truth, files. Parts share nothing but the divisions; codes, ID sequences and event ids are disjoint. Returns
    the villages, the file descriptions and, for a city in one part, its truth frames (else written to parts_dir)."""
    streams = [np.random.default_rng(s) for s in seed.spawn(11)]
    suffix = f"（第{part + 1}部分）" if n_parts > 1 else ""

    # ---- population and events
    n_outsiders = max(50, int(n_households * 0.3))
    city = P.build_city(streams[0], spec, n_households, ref, rules.line, n_outsiders, part, n_parts)
    lap(f"population{suffix}")
    planter = E.Planter(streams[1], city, rules, win, spec)
    planter.assign()
    city = planter.apply()
    surges = S.plant(streams[10], city, rules, win) if spec.get("surges") and part == 0 else None
    if surges is not None:
        city = surges.city
    bg = E.background(streams[2], city, rules, win, spec)
    if spec.get("force_dots"):
        city = _force_dots(streams[3], city, bg, spec["force_dots"])
    planted = [planter.events, bg] + ([surges.events] if surges is not None else [])
    reg_counts = {f: sum(len(b["pid"]) for src in planted for b in src[f]) for f in E.FEEDS}
    o_share = spec["outsider_share"]
    out_counts = {f: max(2, int(round(reg_counts[f] * o_share[f] / (1 - o_share[f])))) for f in E.FEEDS}
    outs = E.outsider_events(streams[4], city, win, out_counts)
    events = E.assemble([*planted, outs], first_id=1 + part * 1_000_000_000)
    lap(f"events{suffix}")

    # ---- truth (independent rules on clean events) and its self-checks
    truth, flags = T.compute(events, city.households, city.persons, rules, win)
    _check_plan(city, truth)
    if spec.get("robust_check"):
        problems = T.check_robust(
            events, city.households, city.persons, rules, win, truth, sample=spec.get("robust_sample"), rng=streams[9]
        )
        if problems:
            raise RuntimeError(
                "synthetic truth is not robust to threshold/reading variants (generator bug): " + "; ".join(problems)
            )
    lap(f"truth{suffix}")

    # ---- department files
    city = P.City(
        city.villages, city.households, city.persons.with_columns(has_namesake=_namesakes(city)), city.outsiders, ref
    )
    file_infos: list[dict] = []
    records = []
    for i, feed in enumerate(E.FEEDS):
        rng = streams[5 + i]
        ev = F.assign_files(rng, feed, events[feed], win)
        rec = F.build_records(rng, feed, ev, city, win, bool(spec.get("force_noise")), spec["id_noise"][feed])
        rows = dict(rec.group_by("file_key").len().iter_rows())
        specs = F.plan_files(feed, win, rows, formats, spec.get("xlsx_max_rows"), suffix)
        written, infos = F.write_feed(dh.landing_for(feed), feed, rec, specs, rng)
        file_infos += infos
        records.append(_record_rows(feed, written, city, flags[feed]))
        del rec, written
    lap(f"feeds{suffix}")
    file_infos = R.write_registry(dh.landing_for("registry"), city, formats, size, suffix) + file_infos
    lap(f"registry{suffix}")

    if part == 0:
        S.write_truth(dh.truth, surges, truth)
    recs = pl.concat(records, how="vertical_relaxed")
    frames = {
        "households": _households_truth(city, truth, recs, rules),
        "persons": _persons_truth(city),
        "records": recs.drop("hh_idx"),
    }
    if n_parts == 1:  # kept in memory for the name truth (no round trip through the disk)
        return city.villages, file_infos, frames
    for name, frame in frames.items():
        frame.write_parquet(parts_dir / f"{name}-{part:03d}.parquet")
    return city.villages, file_infos, {}


# ---------------------------------------------------------------------------------------------- helpers


def _force_dots(rng, city: P.City, bg: dict, k: int) -> P.City:
    """Tiny cities: make sure a few minority dotted names exist and appear in department records."""
    p = city.persons
    with_events = np.unique(np.concatenate([b["pid"] for b in bg["medical"]] + [np.array([], dtype=np.int64)]))
    minority = city.households["minority_county"].to_numpy()[p["hh_idx"].to_numpy()]
    cand = with_events[
        minority[with_events] & ~p["dot"].to_numpy()[with_events] & (p["role"].to_numpy()[with_events] != P.HEAD)
    ]
    if len(cand) == 0:
        return city
    chosen = rng.choice(cand, size=min(k, len(cand)), replace=False)
    _, index, _ = vocab.given_pool()
    dot, g1, g2 = p["dot"].to_numpy().copy(), p["g1"].to_numpy().copy(), p["g2"].to_numpy().copy()
    pairs = [vocab.DOT_GIVEN[i] for i in rng.integers(0, len(vocab.DOT_GIVEN), len(chosen))]
    dot[chosen] = True
    g1[chosen] = [index[a] for a, _ in pairs]
    g2[chosen] = [index[b] for _, b in pairs]
    persons = P.with_person_text(p.with_columns(dot=pl.Series(dot), g1=pl.Series(g1), g2=pl.Series(g2)))
    return P.City(city.villages, city.households, persons, city.outsiders, city.ref_date)


def _namesakes(city: P.City) -> pl.Series:
    p = city.persons.join(city.households.select("hh_idx", "village_code"), on="hh_idx", how="left")
    return p.select((pl.len().over(["village_code", "name"]) > 1).alias("has_namesake")).to_series()


def _check_plan(city: P.City, truth: pl.DataFrame) -> None:
    j = city.households.select("hh_idx", "scenario", "planned_category").join(
        truth.select("hh_idx", "expected_category"), on="hh_idx"
    )
    bad = j.filter(pl.col("planned_category").fill_null("") != pl.col("expected_category").fill_null(""))
    if len(bad):
        raise RuntimeError(
            f"synthetic truth disagrees with the planted scenarios for {len(bad)} households (generator bug), "
            f"e.g. {bad.head(5).rows()}"
        )


def _record_rows(feed: str, w: pl.DataFrame, city: P.City, flags: pl.DataFrame) -> pl.DataFrame:
    hid = city.households["household_id"]
    empty = pl.lit([], dtype=pl.List(pl.String))

    def tag(cond, name):
        return pl.when(cond).then(pl.lit([name])).otherwise(empty)

    id_tags = [tag(pl.col("id_noise") == render.ID_NOISES.index(k), v) for k, v in F.ID_TAG.items()]
    ns = city.persons["has_namesake"]
    w = w.with_columns(
        has_namesake=pl.when(pl.col("registry"))
        .then(
            ns.gather(pl.Series(w["pid"].clip(0, None)).cast(pl.UInt32)).to_frame().to_series()
            if len(w)
            else pl.lit(False)
        )
        .otherwise(False),
        true_household_id=pl.when(pl.col("registry"))
        .then(hid.gather(w["hh_idx"].clip(0, None).cast(pl.UInt32)) if len(w) else pl.lit(None, dtype=pl.String))
        .otherwise(None),
    )
    noise = pl.concat_list(
        id_tags
        + [
            tag(pl.col("homophone"), "homophone"),
            tag(pl.col("traditional"), "traditional"),
            tag(pl.col("minority_dot"), "minority_dot"),
            tag(pl.col("wrong_village"), "wrong_village"),
            tag(~pl.col("registry"), "not_in_registry"),
            tag(pl.col("registry") & pl.col("has_namesake"), "namesake"),
            tag(pl.lit(feed == "disaster") & pl.col("registry"), "head_only"),
            tag(pl.col("is_dup"), "duplicate_event"),
        ]
    )
    return (
        w.join(flags, on="event_id", how="left")
        .select(
            pl.lit(feed).alias("source"),
            "source_file",
            "source_row",
            pl.col("true_id").alias("true_id_number"),
            "true_household_id",
            noise.alias("noise"),
            (pl.col("registry") & pl.col("id_noise").is_in([0, 1])).alias("id_exact"),
            "event_id",
            pl.col("date").cast(pl.Int32).cast(pl.Date).alias("event_date"),
            "in_window",
            "signal",
            "evidence",
            pl.col("is_dup").alias("is_duplicate"),
            "id_written",
            "id_cell",
            "name_written",
            pl.col("id_noise").is_in([render.ID_NOISES.index(k) for k in USABLE_ID_NOISE]).alias("id_usable"),
            *NAME_TRUTH_INPUTS,
            "hh_idx",
        )
        .sort("source", "source_file", "source_row")
    )


def _name_truth(persons: pl.LazyFrame, records: pl.LazyFrame, truth_dir: Path) -> None:
    """Write persons.parquet and records.parquet with the namesake and outsider columns (docs/ARCHITECTURE.md).
    Names are counted per township over the whole city (all parts), on integer keys (township code, name key)."""
    counts = persons.group_by("_town", "_name_key").agg(_n=pl.len()).collect()
    persons.join(counts.lazy(), on=["_town", "_name_key"], how="left", maintain_order="left").with_columns(
        namesakes_in_township=(pl.col("_n") - 1).cast(pl.Int32)
    ).drop("_n", "_town", "_name_key").sink_parquet(truth_dir / "persons.parquet")

    claimed = counts.rename({"_town": "claimed_town", "_name_key": "clean_name_key"}).lazy()
    registry = pl.col("true_id_number").is_not_null()
    n = pl.col("_n").fill_null(0).cast(pl.Int32)
    kind = (
        pl.when(registry)
        .then(pl.lit(None, dtype=pl.String))
        .when(pl.col("id_usable") & pl.col("outsider_area").is_in(CITY_AREA_CODES))
        .then(pl.lit("valid_id_city"))
        .when(pl.col("id_usable"))
        .then(pl.lit("valid_id_elsewhere"))
        .when(pl.col("claimed_town").is_null())
        .then(pl.lit("address_elsewhere"))
        .when(n > 0)
        .then(pl.lit("no_id_common_name"))
        .otherwise(pl.lit("no_id_local"))
    )
    records.join(claimed, on=list(NAME_TRUTH_INPUTS[:2]), how="left", maintain_order="left").with_columns(
        name_unique_in_township=pl.when(registry).then(n == 1),
        namesakes_in_township=pl.when(registry).then(n - 1).when(pl.col("claimed_town").is_not_null()).then(n),
        outsider_kind=kind,
    ).drop("_n", *NAME_TRUTH_INPUTS).sink_parquet(truth_dir / "records.parquet")


def _households_truth(city: P.City, truth: pl.DataFrame, recs: pl.DataFrame, rules: E.Rules) -> pl.DataFrame:
    # evidence_exact_ids: every evidence event of the household has at least one record with an exact ID
    ev_exact = (
        recs.filter(pl.col("evidence").fill_null(False) & pl.col("hh_idx").ge(0))
        .group_by("event_id")
        .agg(pl.col("hh_idx").first(), exact=pl.col("id_exact").any())
    )
    hh_exact = ev_exact.group_by("hh_idx").agg(evidence_exact_ids=pl.col("exact").all())
    has_rec = recs.filter(pl.col("hh_idx") >= 0).select("hh_idx").unique().with_columns(has_records=pl.lit(True))
    h = city.households
    return (
        h.join(truth, on="hh_idx", how="left")
        .join(hh_exact, on="hh_idx", how="left")
        .join(has_rec, on="hh_idx", how="left")
        .with_columns(
            evidence_exact_ids=pl.col("evidence_exact_ids").fill_null(True),
            scenario=pl.when(pl.col("scenario") != "")
            .then(pl.col("scenario"))
            .when(pl.col("has_records").fill_null(False))
            .then(pl.lit("background"))
            .otherwise(pl.lit("quiet")),
            monitoring_line=pl.lit(rules.line),
            dibao=pl.col("dibao_hh"),
        )
        .select(
            "household_id",
            "county_code",
            "township_code",
            "village_code",
            "county",
            "township",
            "village",
            "household_type",
            "monitoring_category",
            "risk_eliminated",
            "identified_month",
            "eliminated_month",
            "base_per_capita_income",
            "household_size",
            "relocated",
            "resettlement_site",
            "resettlement_village_code",
            "hukou_moved",
            "hukou_county_code",
            "hukou_township_code",
            "unsafe_housing",
            "safe_water",
            "dibao",
            "at_risk",
            "expected_category",
            "expected_risk_types",
            "scenario",
            "evidence_exact_ids",
            "suspect_again",
            "signals",
            "adjusted_per_capita_income",
            "rigid_spending",
            "monitoring_line",
        )
    )


def _persons_truth(city: P.City) -> pl.DataFrame:
    hh = city.households.select(
        "hh_idx", "household_id", "county_code", "county", "township_code", "township", "village_code", "village"
    )
    persons = city.persons.with_columns(_name_key=pl.Series(names.frame_keys(city.persons)))
    return persons.join(hh, on="hh_idx", how="left").select(
        "household_id",
        "person_no",
        "name",
        "id_number",
        "sex",
        pl.col("birth_days").cast(pl.Int32).cast(pl.Date).alias("birth_date"),
        "relation",
        "county_code",
        "township_code",
        "village_code",
        "county",
        "township",
        "village",
        "labour",
        "health",
        "student",
        "dibao",
        "tekun",
        "has_namesake",
        (pl.col("id_number").str.slice(0, 6) != pl.col("county_code")).alias("historic_address_code"),
        pl.col("township_code").cast(pl.Int64).alias("_town"),
        "_name_key",
    )


def _shares(lf: pl.LazyFrame, by: str, cond: pl.Expr) -> dict:
    rows = lf.group_by(by).agg(cond.mean().alias("share")).sort(by).collect().iter_rows()
    return {str(k): round(float(v or 0), 4) for k, v in rows}


def _name_figures(dh: DataHome, spec: dict) -> dict:
    """The namesake knob and what it achieved (persons; records of registry persons)."""
    p = pl.scan_parquet(dh.truth / "persons.parquet")
    r = pl.scan_parquet(dh.truth / "records.parquet").filter(pl.col("true_id_number").is_not_null())
    got = p.select(
        town=(pl.col("namesakes_in_township") > 0).mean(),
        village=pl.col("has_namesake").mean(),
        townships=pl.col("township_code").n_unique(),
        persons=pl.len(),
    ).collect()
    return {
        "namesake_level": spec["namesake_level"],
        "namesake_target": spec["namesake_share"],
        "namesake_share": round(float(got["town"].item() or 0), 4),
        "namesake_share_village": round(float(got["village"].item() or 0), 4),
        "records_namesake_share": round(
            float(r.select((~pl.col("name_unique_in_township")).mean()).collect().item() or 0), 4
        ),
        "persons_per_township": round(got["persons"].item() / max(1, got["townships"].item())),
    }


def _manifest(dh: DataHome, head: dict, spec: dict, n_villages: int, files, timings, cpu, t0) -> dict:
    """Counts read back from the truth files (streaming), so that parts add up."""
    hh = pl.scan_parquet(dh.truth / "households.parquet")
    recs = pl.scan_parquet(dh.truth / "records.parquet")
    persons = pl.scan_parquet(dh.truth / "persons.parquet").select(pl.len()).collect().item()

    def counts(lf: pl.LazyFrame, col: str) -> dict:
        return {str(k): int(v) for k, v in lf.group_by(col).len().sort(col).collect().iter_rows()}

    at_risk = hh.filter("at_risk")
    types = at_risk.select(pl.col("expected_risk_types").explode().alias("t")).drop_nulls()
    noise = recs.select(pl.col("noise").explode().alias("n")).drop_nulls()
    by_source = counts(recs, "source")
    n_hh = hh.select(pl.len()).collect().item()
    exact = recs.filter(pl.col("true_id_number").is_not_null()).select(pl.col("id_exact").mean()).collect().item()
    return {
        **head,
        "counts": {
            "households": n_hh,
            "persons": persons,
            "villages": n_villages,
            "records": sum(by_source.values()),
            **{f"records_{f}": by_source.get(f, 0) for f in E.FEEDS},
            "files": len(files),
            "at_risk_households": at_risk.select(pl.len()).collect().item(),
            "id_exact_share": round(float(exact or 0), 4),
        },
        "names": _name_figures(dh, spec),
        "ids": {
            "no_usable_id_share": _shares(recs, "source", ~pl.col("id_usable")),
            "no_usable_id_share_all": round(float(recs.select((~pl.col("id_usable")).mean()).collect().item() or 0), 4),
            "rates": spec["id_noise"],
        },
        "outsiders": {
            "records": counts(recs.filter(pl.col("outsider_kind").is_not_null()), "source"),
            "by_kind": counts(recs.filter(pl.col("outsider_kind").is_not_null()), "outsider_kind"),
        },
        "scenarios": counts(hh, "scenario"),
        "surges": pl.read_parquet(dh.truth / "surges.parquet").select("surge_id", "kind", "area_code").rows(),
        "categories": counts(at_risk, "expected_category"),
        "risk_types": counts(types, "t"),
        "noise": counts(noise, "n"),
        "files": files,
        "elapsed_seconds": {**timings, "total": round(time.perf_counter() - t0, 3)},
        "cpu_seconds": {**cpu, "total": round(sum(cpu.values()), 3)},
    }
