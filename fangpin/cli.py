"""The ``fangpin`` command: generate a synthetic city, run screening rounds, ingest drops, show status.

Errors name the problem and the fix; exit code 2 for usage/configuration problems, 1 for a failed run.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time

from fangpin.home import ALL_FEEDS, DataHome


class CliError(Exception):
    """A problem the user can fix; the message says how."""


def _home(args) -> DataHome:
    return DataHome.at(args.home)


def _prepare_dagster(home: DataHome) -> None:
    """The home's Dagster instance (dagster.yaml shared with the UI: pipelines.instance), and this process's
    DAGSTER_HOME / FANGPIN_HOME pointing at it."""
    from pipelines.instance import ensure_instance

    home.ensure()
    ensure_instance(home.root, set_env=True)


# ------------------------------------------------------------------------------------------------ commands


SOURCE_CN = {"medical": "医保", "disaster": "应急管理", "civil_affairs": "民政", "employment": "人社"}
OUTSIDER_KIND_CN = {
    "valid_id_elsewhere": "证件号为市外地区码",
    "valid_id_city": "证件号为市区地区码",
    "no_id_common_name": "无可用证件号且与本乡镇名册人员同名",
    "no_id_local": "无可用证件号、本乡镇无同名",
    "address_elsewhere": "无可用证件号、地址在市外",
}
LEVEL_CN = {"realistic": "现实水平", "stress": "压力测试", "custom": "自定"}


def cmd_generate(args) -> int:
    from fangpin.synth import clear_generated, generate
    from fangpin.synth.names import namesake_target

    try:
        namesake_target(args.namesake_share)
    except ValueError as exc:
        raise CliError(f"{exc}\n  fix: --namesake-share realistic, stress, or a share such as 0.3") from exc
    home = _home(args)
    if args.force:
        clear_generated(home.root)
    started = time.time()
    try:
        manifest = generate(
            home.root,
            size=args.size,
            seed=args.seed,
            round_id=args.round,
            scale=args.scale,
            namesake_share=args.namesake_share,
        )
    except ValueError as exc:
        raise CliError(
            f"{exc}\n  fix: choose an empty --home, or add --force to replace the generated city there"
        ) from exc
    elapsed = time.time() - started
    c = manifest.get("counts", {})
    names = manifest.get("names", {})
    ids = manifest.get("ids", {})
    outsiders = manifest.get("outsiders", {})
    print(f"已生成合成城市（规模 {args.size}，种子 {args.seed}，用时 {elapsed:.1f} 秒）：{home.root}")
    print(
        f"  名册：{c.get('households', 0):,} 户、{c.get('persons', 0):,} 人、{c.get('villages', 0):,} 个行政村；"
        f"部门记录 {c.get('records', 0):,} 条，文件 {c.get('files', 0)} 个；应识别风险户 {c.get('at_risk_households', 0):,} 户"
    )
    if names:
        print(
            f"  同名：{names['namesake_share']:.1%} 的名册人员在本乡镇有同名同姓者"
            f"（目标 {names['namesake_target']:.1%}，{LEVEL_CN.get(names['namesake_level'], names['namesake_level'])}；"
            f"同村同名 {names['namesake_share_village']:.1%}；平均每乡镇 {names['persons_per_township']:,} 人）"
        )
    if ids:
        per = "、".join(f"{SOURCE_CN.get(k, k)} {v:.1%}" for k, v in ids["no_usable_id_share"].items())
        print(f"  无可用身份证号的部门记录：{per}（全部 {ids['no_usable_id_share_all']:.1%}）")
    if outsiders:
        n = sum(outsiders["records"].values())
        kinds = "、".join(f"{OUTSIDER_KIND_CN.get(k, k)} {v:,}" for k, v in outsiders["by_kind"].items())
        print(f"  名册外人员的部门记录：{n:,} 条（{kinds}）")
    print(f"  落地文件：{home.landing}")
    print(f"  真值（流水线从不读取）：{home.truth}")
    return 0


def _materialize(
    home: DataHome,
    selection: str,
    run_config: dict | None = None,
    verbose: bool = False,
    tags: dict | None = None,
    partition_key: str | None = None,
):
    _prepare_dagster(home)
    import dagster as dg

    from assets.resources import FangpinHome
    from pipelines.definitions import all_assets
    from pipelines.jobs import followup_assets, round_assets

    if selection == "ingest":
        chosen = [a for a in all_assets if a.group_names_by_key and set(a.group_names_by_key.values()) == {"ingest"}]
    elif selection == "followup":
        chosen = followup_assets(all_assets)
    else:
        chosen = round_assets(all_assets)
    instance = dg.DagsterInstance.get()
    return dg.materialize(
        chosen,
        resources={"fangpin": FangpinHome(home=str(home.root))},
        # Dagster's DEBUG event stream is for the UI; on the command line show warnings unless asked.
        run_config={
            **(run_config or {}),
            "loggers": {"console": {"config": {"log_level": "INFO" if verbose else "WARNING"}}},
        },
        instance=instance,
        raise_on_error=False,
        tags={"fangpin/source": "cli", **(tags or {})},
        partition_key=partition_key,
    )


def _failure_messages(result) -> list[str]:
    msgs = []
    for ev in result.all_events:
        if ev.is_step_failure and ev.step_failure_data and ev.step_failure_data.error:
            user = ev.step_failure_data.user_failure_data
            if user is not None and user.description:  # a dg.Failure: its description and what it names
                where = [
                    f"{k}: {getattr(v, 'value', v)}"
                    for k, v in (user.metadata or {}).items()
                    if k in ("file", "rule", "config") and getattr(v, "value", v)
                ]
                msgs.append(f"{ev.step_key}: {user.description.strip()}" + (f" [{'; '.join(where)}]" if where else ""))
                continue
            err = ev.step_failure_data.error
            while err.cause is not None and "dagster" in (err.cls_name or "").lower():
                err = err.cause
            msgs.append(f"{ev.step_key}: {err.message.strip()}")
    return msgs


def cmd_screen(args) -> int:
    from fangpin.domain.rounds import parse_round
    from fangpin.settings import ConfigError, rules_for

    home = _home(args)
    if not home.landing.exists() or not any(home.landing_for("registry").glob("*")):
        raise CliError(
            f"no registry files in {home.landing_for('registry')}\n"
            f"  fix: drop the registry export there, or run `fangpin generate --home {home.root}` for a synthetic city"
        )
    try:
        info = parse_round(args.round)
    except ValueError as exc:
        raise CliError(f"{exc}\n  fix: use a round id like 2026Q4") from exc
    try:
        rules_for("4502", info.reference_date.year, home.root)
    except ConfigError as exc:
        raise CliError(str(exc)) from exc
    county = None
    if args.county:
        from assets.rounds import resolve_county

        try:
            county = resolve_county(args.county)
        except ValueError as exc:
            raise CliError(str(exc)) from exc
    # One run over the round's partitions (quarter × county): all counties as one partition range, or one county.
    from pipelines.partitions import has_quarter, partition_key, quarter_key, quarter_partitions, round_partition_tags
    from pipelines.schedules import round_run_config

    if not has_quarter(quarter_key(info.round_id)):
        keys = quarter_partitions.get_partition_keys()
        raise CliError(
            f"round {info.round_id}: its quarter {quarter_key(info.round_id)} is not a round partition "
            f"(quarters {keys[0]} … {keys[-1]}: from 2025Q1 to the quarter after the current one)\n"
            f"  fix: choose a round in that range"
        )
    tags, key = None, None
    if county:
        key = str(partition_key(info.round_id, county))
    else:
        tags = round_partition_tags(info.round_id)
    started = time.time()
    result = _materialize(
        home,
        "all",
        round_run_config(info.round_id, args.kind or "", args.pushed_on or ""),
        args.verbose,
        tags=tags,
        partition_key=key,
    )
    elapsed = time.time() - started
    if not result.success:
        print("screening round failed:", file=sys.stderr)
        for msg in _failure_messages(result):
            print(f"  {msg}", file=sys.stderr)
        print(f"  details: `fangpin status --home {home.root}` or the Dagster UI (README)", file=sys.stderr)
        return 1
    _print_round_summary(home, info.round_id, elapsed, county)
    return 0


def _print_round_summary(home: DataHome, round_id: str, elapsed: float, county: str | None = None) -> None:
    import polars as pl

    out = home.round_dir(round_id)
    print(f"round {round_id} finished in {elapsed:.1f} s" + (f" (county {county} rerun)" if county else ""))
    sus = out / "suspects.parquet"
    if sus.exists():
        df = pl.read_parquet(sus)
        if county and "county_code" in df.columns:
            from warehouse.rules import county_scope

            df = df.filter(pl.col("county_code").is_in(county_scope([county]) or [county]))
        print(f"  suspected households: {df.height}")
        if df.height:
            for row in df.group_by("suspect_category").len().sort("len", descending=True).iter_rows():
                print(f"    {row[0]}: {row[1]}")
    lk = out / "links.parquet"
    if lk.exists():
        links = pl.read_parquet(lk)
        print(f"  department records: {links.height}")
        for row in links.group_by("match_method").len().sort("len", descending=True).iter_rows():
            print(f"    {row[0]}: {row[1]}")
    rj = out / "rejected.parquet"
    if rj.exists():
        print(f"  rejected rows/files: {pl.read_parquet(rj).height}")
    print(f"  outputs: {out}")
    for p in sorted(out.glob("*")):
        print(f"    {p.name}")


def cmd_ingest(args) -> int:
    home = _home(args)
    result = _materialize(home, "ingest", None, args.verbose)
    if not result.success:
        for msg in _failure_messages(result):
            print(f"  {msg}", file=sys.stderr)
        return 1
    _print_ingest_status(home)
    print(f"  clerk reports: {home.reports / 'ingest'}")
    return 0


def cmd_followup(args) -> int:
    import datetime as dt

    home = _home(args)
    as_of = args.as_of or dt.date.today().isoformat()
    try:
        dt.date.fromisoformat(as_of)
    except ValueError as exc:
        raise CliError(f"--as-of {as_of!r} is not a date\n  fix: use an ISO date like 2027-01-20") from exc
    if not home.warehouse_path.exists():
        raise CliError(
            f"nothing ingested yet in {home.root}\n  fix: run `fangpin screen --round ... --home {home.root}` first"
        )
    cfg = {"as_of": as_of}
    started = time.time()
    result = _materialize(
        home,
        "followup",
        {"ops": {op: {"config": cfg} for op in ("followup_outputs", "official_forms", "registry_quality")}},
        args.verbose,
    )
    if not result.success:
        print("follow-up failed:", file=sys.stderr)
        for msg in _failure_messages(result):
            print(f"  {msg}", file=sys.stderr)
        return 1
    print(f"follow-up as of {as_of} finished in {time.time() - started:.1f} s")
    for sub in ("followup", "forms", "registry_checks"):
        folder = home.out / sub / as_of
        if folder.exists():
            n = sum(1 for p in folder.rglob("*") if p.is_file())
            print(f"  {folder}: {n} files")
    print(f"  feedback receipts: {home.reports / 'ingest' / 'feedback'}")
    return 0


def _print_ingest_status(home: DataHome) -> None:
    from warehouse import engine

    if not home.warehouse_path.exists():
        print("  nothing ingested yet")
        return
    with engine.connect(home.warehouse_path, read_only=True) as con:
        rows = con.sql(
            "SELECT feed, status, count(*), coalesce(sum(rows_accepted),0), coalesce(sum(rows_rejected),0) "
            "FROM ingested_file GROUP BY 1,2 ORDER BY 1,2"
        ).fetchall()
    print("  ingested files (feed, status, files, rows accepted, rows rejected):")
    for feed, status, n, acc, rej in rows:
        print(f"    {feed:<14} {status:<12} {n:>4} {acc:>10} {rej:>8}")


def cmd_status(args) -> int:
    from warehouse import engine

    home = _home(args)
    print(f"data home: {home.root}")
    if not home.root.exists():
        print("  (does not exist yet: run `fangpin generate` or drop files into landing/)")
        return 0
    print("  landing folders (files waiting or already seen):")
    for feed in ALL_FEEDS + ("feedback",):
        folder = home.landing_for(feed)
        files = [p for p in folder.glob("*") if p.is_file()] if folder.exists() else []
        print(f"    {feed:<14} {len(files):>4} files")
    _print_ingest_status(home)
    if home.warehouse_path.exists():
        with engine.connect(home.warehouse_path, read_only=True) as con:
            tables = {r[0] for r in con.sql("SELECT table_name FROM information_schema.tables").fetchall()}
            n_persons, n_hh = con.sql("SELECT count(*), count(DISTINCT household_id) FROM registry_person").fetchall()[
                0
            ]
            print(f"  registry: {n_persons} persons in {n_hh} households")
            for feed, n in con.sql("SELECT source, count(*) FROM dept_record GROUP BY 1 ORDER BY 1").fetchall():
                print(f"  {feed}: {n} department records")
            rounds = con.sql(
                "SELECT round_id, kind, reference_date, status, finished_at FROM round ORDER BY started_at DESC LIMIT 5"
            ).fetchall()
            counts = {}
            if "suspect" in tables:
                counts = dict(con.sql("SELECT round_id, count(*) FROM suspect GROUP BY 1").fetchall())
        print("  last rounds:" if rounds else "  no rounds yet")
        for rid, kind, ref, status, fin in rounds:
            print(
                f"    {rid:<10} {kind:<12} ref {ref}  {status or ''}  suspects {counts.get(rid, 0)}  finished {fin or '-'}"
            )
    return 0


# ------------------------------------------------------------------------------------------------ parser


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="fangpin",
        description="防贫监测帮扶 multi-source risk screening. All state lives in a data home: --home DIR, else $FANGPIN_HOME, else ./var.",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def add_home(sp):
        sp.add_argument("--home", metavar="DIR", help="data home (default: $FANGPIN_HOME, else ./var)")

    def add_verbose(sp):
        sp.add_argument("-v", "--verbose", action="store_true", help="show Dagster's step log")

    g = sub.add_parser(
        "generate",
        help="generate a synthetic Liuzhou city (landing files + ground truth)",
        description="Write a synthetic city into the data home's landing folders, and its ground truth into <home>/truth/ (never read by the pipeline).",
    )
    add_home(g)
    g.add_argument(
        "--size",
        choices=["tiny", "demo", "city", "province"],
        default="demo",
        help="tiny (tests), demo (~5,000 households), city (~350,000), province (10x city)",
    )
    g.add_argument("--seed", type=int, default=20261, help="random seed; same seed and size give the same city")
    g.add_argument("--round", default="2026Q4", help="round the planted events are placed around (default 2026Q4)")
    g.add_argument("--scale", type=float, default=1.0, help="multiply the household count (e.g. 0.1 or 10)")
    g.add_argument(
        "--namesake-share",
        default="realistic",
        metavar="LEVEL|SHARE",
        help="share of registry persons who share their exact name with someone of their township: "
        "realistic (0.20, default), stress (0.45) or a number such as 0.3",
    )
    g.add_argument(
        "--force",
        action="store_true",
        help="first remove a previously generated city and everything derived from it in this home",
    )
    g.set_defaults(func=cmd_generate)

    s = sub.add_parser(
        "screen",
        help="run a screening round through Dagster (ingest → link → flag → publish)",
        description="Materialise all assets in process for one round; outputs go to <home>/out/<round_id>/.",
    )
    add_home(s)
    s.add_argument("--round", required=True, help="round id, e.g. 2026Q4 (reference date = first day of the quarter)")
    s.add_argument(
        "--kind", choices=["full", "priority", "incremental"], help="default: full in Q2/Q4, priority in Q1/Q3"
    )
    s.add_argument("--pushed-on", help="push date (ISO, default today): deadlines are counted from it in working days")
    s.add_argument(
        "--county",
        metavar="CODE_OR_NAME",
        help="rerun one county only (e.g. 450225 or 融水): its rows and workbooks are replaced, other counties' are left as they are",
    )
    add_verbose(s)
    s.set_defaults(func=cmd_screen)

    i = sub.add_parser("ingest", help="ingest new files from the landing folders (what the folder sensors do)")
    add_home(i)
    add_verbose(i)
    i.set_defaults(func=cmd_ingest)

    fu = sub.add_parser(
        "followup",
        help="closing the loop: ingest county feedback, deadlines, roster and official forms",
        description="Ingest verification results from landing/feedback/, update each household's monitoring history, "
        "and write overdue lists, compliance, risk-elimination candidates, the fund factor, the official "
        "forms (名册, 一览表, 村级档案清单) and the registry consistency checks under <home>/out/.",
    )
    add_home(fu)
    fu.add_argument("--as-of", help="the day deadlines are judged on (ISO date, default today)")
    add_verbose(fu)
    fu.set_defaults(func=cmd_followup)

    st = sub.add_parser("status", help="feeds present, rows ingested, last rounds")
    add_home(st)
    st.set_defaults(func=cmd_status)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except CliError as exc:
        print(f"fangpin {args.command}: {exc}", file=sys.stderr)
        return 2


def console() -> int:
    """The ``fangpin`` command: :func:`main`, then a quick exit.

    At exit CPython's final garbage collection walks every object the run created — Dagster's, Great Expectations',
    pandas' — which took 1.5–2 s after a city round. By then every file and connection is closed (context managers),
    so the remaining objects are frozen out of that collection. Only here, not in :func:`main`: tests call ``main``
    many times in one process."""
    rc = main()
    sys.stdout.flush()
    sys.stderr.flush()
    gc.freeze()
    return rc


if __name__ == "__main__":
    sys.exit(console())
