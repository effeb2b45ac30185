"""The ``fangpin`` command: generate a synthetic city, run screening rounds, ingest drops, show status.

Written for bureau analysts: help, progress, summaries and errors in Chinese (option names stay as typed). Every
argument is checked before a run starts; a user error is one line naming the option and what is expected, exit code
2, no traceback and no Dagster run. A run that fails prints its cause and exits 1.

Runs go through the code location's jobs (``screening_round``, ``ingest``, ``followup``) in the data home's Dagster
instance, tagged with the round, kind, county and push date, so the Dagster UI lists them under their job.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import logging
import logging.handlers
import os
import re
import sys
import time
import uuid

from fangpin.domain.rounds import KIND_NAMES
from fangpin.home import ALL_FEEDS, DataHome, GroupError, apply_umask
from fangpin.lock import HomeBusy
from fangpin.settings import ConfigError

MATCH_METHODS = {  # warehouse.linkage.METHODS, as an analyst would say them
    "id_exact": "证件号码一致",
    "id_repaired": "证件号码修正后一致",
    "fuzzy": "模糊匹配（姓名、出生日期、住址）",
    "review": "待核实（可能是同一人）",
    "unmatched": "未匹配",
}
FILE_STATUS = {"loaded": "已入库", "blocked": "未通过校验", "quarantined": "无法读取（已隔离）"}
ROUND_STATUS = {"published": "已发布", "screening": "未完成"}
FAILURE_NAMES = {"file": "文件", "rule": "规则", "config": "配置项"}  # what a failed step's dg.Failure names
CJK = re.compile(r"[\u4e00-\u9fff]")


class CliError(Exception):
    """A problem the user can fix; the message (one line) says what is expected."""


def _home(args) -> DataHome:
    home = DataHome.at(args.home)
    if home.root.exists() and not home.root.is_dir():
        raise CliError(f"--home {home.root} 是一个文件：应为数据目录（文件夹）")
    return home


def _prepare_dagster(home: DataHome) -> None:
    """The home's Dagster instance (dagster.yaml shared with the UI: pipelines.instance), and this process's
    DAGSTER_HOME / FANGPIN_HOME pointing at it."""
    from pipelines.instance import ensure_instance

    home.ensure()
    ensure_instance(home.root, set_env=True)


def _check_configuration(home: DataHome) -> None:
    """Every configuration file in force, checked against its schema before a run starts: a bad value stops the
    command with one line (file, key, what is expected; exit code 2) instead of a run that fails, or publishes, on it."""
    from fangpin.domain import divisions
    from fangpin.settings import check_all

    try:
        check_all(home.root)
        divisions.check(home.root)
    except (ConfigError, divisions.DivisionsError) as exc:
        raise CliError(str(exc)) from None


def _feed_names(home: DataHome | None = None) -> dict[str, str]:
    """feed → the department that sends it (routing.yaml), plus the registry and county feedback."""
    import yaml

    from fangpin.settings import ConfigError, load

    names = {"registry": "户籍", "feedback": "县级核实反馈"}
    try:
        departments = load("routing", home.root if home else None).get("departments") or {}
    except (ConfigError, yaml.YAMLError):  # the run that needs routing.yaml reports it; here feeds keep their names
        departments = {}
    for dept in departments.values():
        for feed in dept.get("feeds") or []:
            names.setdefault(feed, dept.get("name", feed))
    return names


# ------------------------------------------------------------------------------------------------ argument checks


def _round_id(value: str):
    """--round: a quarterly or ad-hoc round id (fangpin.domain.rounds)."""
    from fangpin.domain.rounds import parse_round

    try:
        return parse_round(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"轮次编号 {value!r} 无效，应为 2026Q4 这样的季度编号（年份 + Q1…Q4），"
            "或 20261115、2026-11-adhoc 这样的临时轮次编号"
        ) from None


def _quarter_round(value: str) -> str:
    """--round of `generate`: a quarterly round id only."""
    m = re.fullmatch(r"(\d{4})-?[Qq]([1-4])", value.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"{value!r} 无效，应为 2026Q4 这样的季度编号（模拟数据按季度生成）")
    return f"{m.group(1)}Q{m.group(2)}"


def _iso_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} 不是有效日期，应为 年-月-日，例如 2026-10-09") from None


def _county(value: str) -> str:
    from assets.rounds import resolve_county

    try:
        return resolve_county(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive(value: str) -> float:
    try:
        x = float(value)
    except ValueError:
        x = -1.0
    if not x > 0:
        raise argparse.ArgumentTypeError(f"{value!r} 无效，应为大于 0 的数，例如 0.1 或 10")
    return x


def _integer(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} 无效，应为整数，例如 20261") from None


def _rules_for_year(home: DataHome, year: int, option: str) -> None:
    """The rules configuration must have the year's monitoring line before anything runs."""
    from fangpin.settings import ConfigError, config_path, rules_for

    try:
        rules_for("4502", year, home.root)
    except ConfigError:
        raise CliError(
            f"{option}：规则配置 {config_path('rules', home.root)} 中没有 {year} 年的监测线"
            f"（regions.4502.{year}.monitoring_line）：请先补上该年的监测线和各项阈值"
        ) from None


# ------------------------------------------------------------------------------------------------ running a job


def _run_job(
    home: DataHome,
    job_name: str,
    *,
    run_config: dict | None = None,
    tags: dict | None = None,
    partition_key: str | None = None,
    verbose: bool = False,
):
    """Run one of the code location's jobs in process, in the home's Dagster instance, with progress on stdout."""
    _prepare_dagster(home)
    import dagster as dg

    from assets.resources import engine_name
    from fangpin.progress import RunProgress
    from pipelines.definitions import definitions_for
    from pipelines.jobs import repository_tags

    engine = engine_name()  # now, not when the definitions were first imported (a test may change the variable)
    job = definitions_for(engine).resolve_job_def(job_name)
    run_id = str(uuid.uuid4())
    progress = RunProgress(sys.stdout, feed_names=_feed_names(home))
    home_config = {"config": {"home": str(home.root)}}
    with dg.DagsterInstance.get() as instance:
        instance.add_event_listener(run_id, progress)
        try:
            return job.execute_in_process(
                run_config={
                    **(run_config or {}),
                    "resources": {"fangpin": home_config, "warehouse": home_config},
                    # Dagster's own log is for the UI; on the command line the progress lines say what happens, and a
                    # failure is explained once, after the run (no stack traces for a clerk).
                    "loggers": {"console": {"config": {"log_level": "INFO" if verbose else "CRITICAL"}}},
                },
                instance=instance,
                partition_key=partition_key,
                raise_on_error=False,
                run_id=run_id,
                tags={**repository_tags(), "fangpin/source": "cli", "fangpin/engine": engine, **(tags or {})},
            )
        finally:
            progress.close()


def _failure_messages(result) -> list[str]:
    from fangpin.progress import stage_label

    names = _feed_names()
    msgs = []
    for ev in result.all_events:
        if ev.is_step_failure and ev.step_failure_data and ev.step_failure_data.error:
            where = stage_label(ev.step_key, names)
            user = ev.step_failure_data.user_failure_data
            if user is not None and user.description:  # a dg.Failure: its description and what it names
                named = [
                    f"{FAILURE_NAMES[k]} {getattr(v, 'value', v)}"
                    for k, v in (user.metadata or {}).items()
                    if k in FAILURE_NAMES and getattr(v, "value", v)
                ]
                msgs.append(
                    f"{where}：{_chinese_part(user.description)}" + (f"［{'；'.join(named)}］" if named else "")
                )
                continue
            err = ev.step_failure_data.error
            while err.cause is not None and "dagster" in (err.cls_name or "").lower():
                err = err.cause
            msgs.append(f"{where}：{err.cls_name}: {err.message.strip()}")
    return msgs


def _chinese_part(description: str) -> str:
    """The assets describe a failure as '中文 / English' (the UI serves both): the analyst gets the Chinese half; the
    English one, with the file and key, stays in the run's log."""
    text = description.strip()
    head = text.split(" / ", 1)[0]
    return head if CJK.search(head) else text


def _report_failure(what: str, result, home: DataHome) -> int:
    print(f"{what}失败（Dagster 运行 {result.run_id[:8]}）：", file=sys.stderr)
    for msg in _failure_messages(result) or ["（没有步骤报告原因）"]:
        print(f"  {msg}", file=sys.stderr)
    print(f"  详情：fangpin status --home {home.root}，或在 Dagster 界面查看该运行（README）", file=sys.stderr)
    return 1


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
        raise CliError(f"--namesake-share：{exc}；应为 realistic、stress 或 0 到 1 之间的比例，例如 0.3") from None
    home = _home(args)
    _rules_for_year(home, int(args.round[:4]), "--round")
    if args.force:
        clear_generated(home.root)
    elif home.landing.exists() and any(p.is_file() for p in home.landing.rglob("*")):
        raise CliError(f"{home.landing} 中已有文件：加 --force 先清除原有的模拟城市，或换一个空的 --home")
    print(f"正在生成模拟城市（规模 {args.size}，随机种子 {args.seed}）到 {home.root} …", flush=True)
    started = time.time()
    try:
        manifest = generate(
            home.root,
            size=args.size,
            seed=args.seed,
            round_id=args.round,
            scale=args.scale,
            namesake_share=args.namesake_share,
            surges=False if args.no_surges else None,
        )
    except ValueError as exc:
        raise CliError(f"{exc}（换一个空的 --home，或加 --force 替换其中的模拟城市）") from None
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
    surges = manifest.get("surges")
    if surges is not None:
        print(f"  规模性风险：埋设 {len(surges)} 处（真值 surges.parquet）" if surges else "  规模性风险：未埋设")
    print(f"  落地文件：{home.landing}")
    print(f"  真值（流水线从不读取）：{home.truth}")
    return 0


def _round_plan(args, home: DataHome) -> dict:
    """Everything a round needs, checked before anything runs: CliError on the first problem."""
    from pipelines.partitions import has_quarter, quarter_key, quarter_partitions

    info = args.round
    quarter = quarter_key(info.round_id)
    if not has_quarter(quarter):
        keys = quarter_partitions.get_partition_keys()
        raise CliError(f"--round {info.round_id}：所在季度 {quarter} 不在可运行的范围内（{keys[0]} 至 {keys[-1]}）")
    if not home.landing_for("registry").is_dir() or not any(home.landing_for("registry").glob("*")):
        raise CliError(
            f"{home.landing_for('registry')} 中没有户籍文件：请放入户籍导出文件，"
            f"或先运行 fangpin generate --home {home.root} 生成模拟城市"
        )
    _rules_for_year(home, info.reference_date.year, "--round")
    return {
        "info": info,
        "kind": args.kind or info.default_kind,
        "pushed_on": args.pushed_on or dt.date.today(),
        "county": args.county,
    }


def cmd_screen(args) -> int:
    home = _home(args)
    plan = _round_plan(args, home)
    from pipelines.partitions import partition_key, round_partition_tags
    from pipelines.schedules import round_run_config, round_tags

    info, kind, pushed_on, county = plan["info"], plan["kind"], plan["pushed_on"], plan["county"]
    where = _county_name(county) + "（单县重跑）" if county else "全部县"
    print(f"{info.round_id} 轮{KIND_NAMES[kind]}开始：{where}，推送日期 {pushed_on}，数据目录 {home.root}", flush=True)
    # One run over the round's partitions (county × quarter): all counties as one partition range, or one county.
    tags = round_tags(info.round_id, kind, pushed_on, county)
    if not county:
        tags |= round_partition_tags(info.round_id)
    started = time.time()
    result = _run_job(
        home,
        "screening_round",
        run_config=round_run_config(info.round_id, kind, pushed_on),
        tags=tags,
        partition_key=str(partition_key(info.round_id, county)) if county else None,
        verbose=args.verbose,
    )
    if not result.success:
        return _report_failure(f"{info.round_id} 轮排查", result, home)
    _print_round_summary(home, info.round_id, kind, time.time() - started, county, result.run_id)
    return 0


def _county_name(code: str | None) -> str:
    from fangpin.domain import divisions

    return divisions.county_name(code)


def _print_round_summary(
    home: DataHome, round_id: str, kind: str, elapsed: float, county: str | None, run_id: str
) -> None:
    import polars as pl

    out = home.round_dir(round_id)
    where = f"，{_county_name(county)}重跑" if county else ""
    print(f"{round_id} 轮{KIND_NAMES.get(kind, kind)}完成{where}，用时 {elapsed:.1f} 秒（Dagster 运行 {run_id[:8]}）")
    sus = out / "suspects.parquet"
    if sus.exists():
        df = pl.read_parquet(sus)
        if county and "county_code" in df.columns:
            from warehouse.rules import county_scope

            df = df.filter(pl.col("county_code").is_in(county_scope([county]) or [county]))
        print(f"  疑似风险户：{df.height:,} 户")
        if df.height:
            for cat, n in df.group_by("suspect_category").len().sort("len", descending=True).iter_rows():
                print(f"    {cat}：{n:,}")
            pending = int(df["pending_namesake"].fill_null(False).sum()) if "pending_namesake" in df.columns else 0
            if pending:
                print(f"    其中同名待确认：{pending:,} 户（部门记录可能属于同名的另一户，请核实时确认是否本户）")
    lk = out / "links.parquet"
    if lk.exists():
        links = pl.read_parquet(lk, columns=["match_method"])
        print(f"  部门记录：{links.height:,} 条，与户籍人员的匹配情况：")
        counts = dict(links.group_by("match_method").len().iter_rows())
        for method in [*MATCH_METHODS, *sorted(set(counts) - set(MATCH_METHODS))]:
            if counts.get(method):
                print(f"    {MATCH_METHODS.get(method, method)}：{counts[method]:,}")
    rj = out / "rejected.parquet"
    if rj.exists():
        n = pl.read_parquet(rj).height
        print(f"  拒收的行或文件：{n:,}" + (f"（原因见回执：{home.reports / 'ingest'}）" if n else ""))
    files = sorted(p for p in out.glob("*") if p.is_file())
    print(f"  输出目录：{out}（{len(files)} 个文件）")
    groups: dict[str, list[str]] = {}
    for p in files:  # one line per kind of workbook (疑似风险户清单_<县>.xlsx, …), other files by name
        kind = p.name.split("_", 1)[0] if p.suffix == ".xlsx" and "_" in p.stem else p.name
        groups.setdefault(kind, []).append(p.name)
    for name, members in groups.items():
        print(f"    {name}：{len(members)} 个" if len(members) > 1 else f"    {members[0]}")


def cmd_ingest(args) -> int:
    home = _home(args)
    print(f"入库：{home.landing} 中的新文件", flush=True)
    result = _run_job(home, "ingest", tags={"fangpin/kind": "ingest"}, verbose=args.verbose)
    if not result.success:
        return _report_failure("入库", result, home)
    _print_ingest_status(home)
    print(f"  给各部门的回执：{home.reports / 'ingest'}")
    return 0


def cmd_followup(args) -> int:
    home = _home(args)
    as_of = args.as_of or dt.date.today()
    if not home.warehouse_path.exists():
        raise CliError(f"{home.root} 中还没有入库的数据：请先运行 fangpin screen --round 2026Q4 --home {home.root}")
    cfg = {"as_of": as_of.isoformat()}
    print(f"闭环跟踪（截至 {as_of}）开始：数据目录 {home.root}", flush=True)
    started = time.time()
    result = _run_job(
        home,
        "followup",
        run_config={"ops": {op: {"config": cfg} for op in ("followup_outputs", "official_forms", "registry_quality")}},
        tags={"fangpin/kind": "followup", "fangpin/as-of": as_of.isoformat()},
        verbose=args.verbose,
    )
    if not result.success:
        return _report_failure("闭环跟踪", result, home)
    print(f"闭环跟踪（截至 {as_of}）完成，用时 {time.time() - started:.1f} 秒")
    for sub, what in (("followup", "跟踪清单"), ("forms", "表册"), ("registry_checks", "户籍数据核查")):
        folder = home.out / sub / as_of.isoformat()
        if folder.exists():
            n = sum(1 for p in folder.rglob("*") if p.is_file())
            print(f"  {what}：{folder}（{n} 个文件）")
    print(f"  核实反馈的回执：{home.reports / 'ingest' / 'feedback'}")
    return 0


def _print_ingest_status(home: DataHome) -> None:
    if not _warehouse(home).exists():
        print("  还没有入库的文件")
        return
    with _warehouse_session(home) as wh:
        rows = wh.rows("core/status.ingested")
    names = _feed_names(home)
    print("  已入库的文件（来源、状态、文件数、入库行数、拒收行数）：")
    for feed, status, n, acc, rej in rows:
        print(
            f"    {_pad(names.get(feed, feed), 14)}{_pad(FILE_STATUS.get(status, status), 20)}{n:>5}{acc:>11,}{rej:>9,}"
        )


def _pad(text: str, width: int) -> str:
    """Left-align ``text`` in ``width`` terminal columns (a Chinese character takes two)."""
    cols = sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
    return text + " " * max(1, width - cols)


def _warehouse(home: DataHome):
    """The warehouse resource of this deployment's engine (FANGPIN_ENGINE) on ``home``."""
    from assets.resources import resources_for

    return resources_for(home=str(home.root))["warehouse"]


def _warehouse_session(home: DataHome):
    """A read-only step runner on the home's warehouse."""
    return _warehouse(home).session(read_only=True)


def cmd_status(args) -> int:
    home = _home(args)
    print(f"数据目录：{home.root}")
    if not home.root.exists():
        print("  （尚不存在：先运行 fangpin generate 生成模拟城市，或把文件放入 landing/ 下的投放文件夹）")
        return 0
    names = _feed_names(home)
    print("  投放文件夹（待入库和已入库的文件）：")
    for feed in ALL_FEEDS + ("feedback",):
        folder = home.landing_for(feed)
        files = [p for p in folder.glob("*") if p.is_file()] if folder.exists() else []
        print(f"    {_pad(names.get(feed, feed), 14)}{_pad(f'landing/{feed}', 24)}{len(files):>5} 个文件")
    if _print_writer_state(home):
        return 0
    _print_ingest_status(home)
    if _warehouse(home).exists():
        with _warehouse_session(home) as wh:
            n_persons, n_hh = wh.rows("core/status.registry")[0]
            dept = wh.rows("core/status.records")
            rounds = wh.rows("core/status.rounds")
            counts = dict(wh.rows("core/status.suspects")) if wh.exists("suspect") else {}
        print(f"  户籍：{n_persons:,} 人，{n_hh:,} 户")
        for feed, n in dept:
            print(f"  {names.get(feed, feed)}：{n:,} 条部门记录")
        print("  最近的轮次：" if rounds else "  还没有运行过排查")
        for rid, kind, ref, status, fin in rounds:
            done = f"完成于 {fin:%Y-%m-%d %H:%M}" if fin else "未完成"
            print(
                f"    {_pad(rid, 18)}{_pad(KIND_NAMES.get(kind, kind), 14)}基准日 {ref}  "
                f"{ROUND_STATUS.get(status, status or '')}  疑似风险户 {counts.get(rid, 0):,} 户  {done}"
            )
    return 0


# ------------------------------------------------------------------------------------------------ one writer per home

#: commands that write the data home: each holds its writer lease (fangpin.lock) while it runs
WRITERS = ("generate", "screen", "ingest", "followup")
EXIT_BUSY = 75  # EX_TEMPFAIL: the home is busy, try again later


def _writer_lease(args, argv: list[str]):
    """The home's writer lease for a writing command, waiting up to ``--wait`` seconds with one message saying who
    holds it; a no-op for reading commands."""
    import contextlib

    from fangpin import lock

    if args.command not in WRITERS:
        return contextlib.nullcontext()

    def tell(holder) -> None:
        who = holder.describe() if holder else "另一个进程"
        print(
            f"fangpin {args.command}: 数据目录正被占用：{who}正在写入；等待其结束（最多 {args.wait:.0f} 秒，Ctrl-C 取消）…",
            file=sys.stderr,
            flush=True,
        )

    return lock.writer(_home(args).root, " ".join(["fangpin", *argv]), wait=args.wait, on_wait=tell)


def _print_writer_state(home: DataHome) -> bool:
    """``fangpin status`` while another process writes the home (DuckDB then refuses even a read-only open): who,
    since when, and the run's progress from the Dagster run storage. True when the warehouse cannot be read now."""
    from fangpin import lock

    for dead in lock.dead_runs(home.root):
        print(
            f"  Dagster 运行 {dead.run_id[:8]}（pid {dead.pid}，{dead.since} 起）未正常结束：进程已不在，下次运行时标记为失败"
        )
    holder = lock.current_holder(home.root)
    if holder is None:
        blocked = _warehouse_locked_by(home)
        if blocked:
            print(f"  仓库文件正被另一个程序占用（{blocked}），运行结束后再查看")
        return bool(blocked)
    print(f"  正在运行：{holder.describe()}")
    if holder.run_id:
        from pipelines.instance import run_progress

        progress = run_progress(home.root, holder.run_id)
        if progress:
            print(f"  进度：{progress}")
    print("  入库与排查结果在本次运行结束后可查看（运行期间仓库文件只允许一个进程打开）")
    return True


def _warehouse_locked_by(home: DataHome) -> str | None:
    """The holder DuckDB names when the warehouse cannot be opened read-only, else None."""
    from warehouse import engine

    holder = engine.locked_by(home.warehouse_path)
    return None if holder is None else (holder or "未知进程")


# ------------------------------------------------------------------------------------------------ parser


class UsageError(Exception):
    """A command line argparse rejected; the message is already one Chinese line."""


_ARGPARSE_MESSAGES = [  # argparse's English messages (Python 3.11) → what an analyst reads
    (r"the following arguments are required: (.+)", "缺少必填的选项 {0}"),
    (r"unrecognized arguments: (.+)", "无法识别的参数 {0}"),
    (r"ambiguous option: (\S+) could match (.+)", "选项 {0} 有歧义，可能是 {1}"),
    (r"argument (?:COMMAND|命令): invalid choice: (\S+) \(choose from (.+)\)", "没有命令 {0}，可用的命令：{1}"),
    (r"argument (\S+): invalid choice: (\S+) \(choose from (.+)\)", "{0} 的取值 {1} 无效，应为其中之一：{2}"),
    (r"argument (\S+): expected one argument", "{0} 后面缺少取值"),
    (r"argument (\S+): (.+)", "{0}：{1}"),  # our own type checks, already in Chinese
]


class _Formatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        return super().add_usage(usage, actions, groups, prefix="用法：" if prefix is None else prefix)


class _Parser(argparse.ArgumentParser):
    """argparse with Chinese help headings and one-line Chinese errors (raised, not printed: ``main`` reports)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _Formatter)
        kwargs["add_help"] = False
        kwargs["allow_abbrev"] = False  # `--verbos` must be an error, not --verbose: a typo must never start a round
        super().__init__(*args, **kwargs)
        self._optionals.title = "选项"
        self._positionals.title = "参数"
        self.add_argument("-h", "--help", action="help", help="显示本帮助后退出")

    def error(self, message: str):
        for pattern, text in _ARGPARSE_MESSAGES:
            m = re.fullmatch(pattern, message)
            if m:
                message = text.format(*m.groups())
                break
        raise UsageError(message)

    def format_help(self) -> str:
        # the sub-command group would repeat its metavar as a line of its own under its heading
        return super().format_help().replace("命令:\n  命令\n", "命令:\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="fangpin",
        description="防贫监测帮扶：多部门数据风险排查。所有数据放在一个数据目录里：--home DIR，"
        "未指定时用环境变量 FANGPIN_HOME，再没有则用 ./var。",
    )
    sub = p.add_subparsers(dest="command", metavar="命令", title="命令")

    def add_home(sp):
        sp.add_argument("--home", metavar="DIR", help="数据目录（默认：$FANGPIN_HOME，否则 ./var）")

    def add_wait(sp):
        sp.add_argument(
            "--wait",
            type=float,
            default=600.0,
            metavar="SECONDS",
            help="另一个进程正在写入数据目录时最多等待的秒数（默认 600；0 = 立即退出）",
        )

    def add_verbose(sp):
        sp.add_argument(
            "-v", "--verbose", action="store_true", help="同时显示 Dagster 和本系统的运行日志（英文，供技术人员排查）"
        )

    g = sub.add_parser(
        "generate",
        help="生成柳州市的模拟城市（各部门投放文件 + 标准答案），用于演示和测试",
        description="把模拟的户籍和部门文件写入数据目录的投放文件夹 landing/，标准答案写入 truth/（流水线从不读取）。",
    )
    add_home(g)
    add_wait(g)
    g.add_argument(
        "--size",
        choices=["tiny", "demo", "city", "province"],
        default="demo",
        help="规模：tiny（测试用，约 120 户）、demo（约 5,000 户，默认）、city（约 35 万户）、province（city 的 10 倍）",
    )
    g.add_argument(
        "--seed", type=_integer, default=20261, help="随机种子：同样的种子和规模生成同样的城市（默认 20261）"
    )
    g.add_argument(
        "--namesake-share",
        default="realistic",
        metavar="LEVEL|SHARE",
        help="名册人员中在本乡镇有同名同姓者的比例：realistic（现实水平 0.20，默认）、stress（压力测试 0.45）或一个比例，例如 0.3",
    )
    g.add_argument("--round", type=_quarter_round, default="2026Q4", help="模拟事件围绕的季度轮次（默认 2026Q4）")
    g.add_argument("--scale", type=_positive, default=1.0, help="户数乘以此倍数，例如 0.1 或 10（默认 1）")
    g.add_argument(
        "--no-surges",
        action="store_true",
        help="不埋设规模性风险（疫情、滑坡、工厂停产等集中发生的风险；demo 及以上规模默认埋设），用于检验误报",
    )
    g.add_argument("--force", action="store_true", help="先清除此数据目录中已生成的模拟城市及由它产生的全部结果")
    g.set_defaults(func=cmd_generate)

    s = sub.add_parser(
        "screen",
        help="运行一轮排查（入库 → 匹配 → 筛查 → 发布清单），作为 Dagster 作业 screening_round",
        description="运行一轮排查：新文件入库，部门记录与户籍匹配，按监测线和风险规则筛查，"
        "发布各县疑似风险户清单、部门任务清单和汇总到 <数据目录>/out/<轮次>/。",
    )
    add_home(s)
    add_wait(s)
    s.add_argument(
        "--round",
        required=True,
        type=_round_id,
        metavar="ROUND",
        help="轮次编号，例如 2026Q4（基准日 = 该季度第一天）；临时轮次如 20261115-medical",
    )
    s.add_argument(
        "--kind",
        choices=["full", "priority", "incremental"],
        help="排查类型：full 集中全面排查、priority 重点区域排查、incremental 增量排查"
        "（默认：第二、四季度 full，第一、三季度 priority）",
    )
    s.add_argument(
        "--pushed-on",
        type=_iso_date,
        metavar="YYYY-MM-DD",
        help="清单推送日期，例如 2026-10-09（默认今天）：核实期限按工作日从这天算起",
    )
    s.add_argument(
        "--county",
        type=_county,
        metavar="COUNTY",
        help="只重跑一个县（代码或名称，例如 450225 或 融水）：只替换该县的行和清单，其他县的文件不动",
    )
    add_verbose(s)
    s.set_defaults(func=cmd_screen)

    i = sub.add_parser(
        "ingest",
        help="把投放文件夹中的新文件入库（文件夹监听所做的事）",
        description="归档、读取、校验并入库投放文件夹中的新文件，给各部门写回执。",
    )
    add_home(i)
    add_wait(i)
    add_verbose(i)
    i.set_defaults(func=cmd_ingest)

    fu = sub.add_parser(
        "followup",
        help="闭环跟踪：县级核实反馈入库、期限、名册和表册",
        description="把 landing/feedback/ 中各县的核实结果入库，更新每户的监测记录，"
        "写出逾期清单、合规情况、风险消除候选户、资金分配因素、表册（名册、一览表、村级档案清单）"
        "和户籍数据核查，放在 <数据目录>/out/ 下。",
    )
    add_home(fu)
    add_wait(fu)
    fu.add_argument(
        "--as-of", type=_iso_date, metavar="YYYY-MM-DD", help="按哪一天判断期限，例如 2027-01-20（默认今天）"
    )
    add_verbose(fu)
    fu.set_defaults(func=cmd_followup)

    st = sub.add_parser(
        "status",
        help="投放的文件、入库的行数、最近的轮次",
        description="显示数据目录的概况：投放文件、入库情况、户籍和部门记录数、最近的轮次。",
    )
    add_home(st)
    st.set_defaults(func=cmd_status)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    command = "fangpin"
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help()
            return 2
        command = f"fangpin {args.command}"
        apply_umask()  # before anything is written: personal data is never world-readable (fangpin.home)
        home = _home(args)  # every command has --home
        # the command's home is this process's (and its workers'): the divisions table and Dagster read it from here
        os.environ["FANGPIN_HOME"] = str(home.root)
        if args.command in ("screen", "ingest", "followup"):
            _check_configuration(home)  # before a word of progress: a bad value is the only line printed
        with _python_logs(home, getattr(args, "verbose", False)), _writer_lease(args, argv):
            return args.func(args)
    except UsageError as exc:
        command = _command_of(argv)
        print(f"{command}：{exc}（用法见 {command} --help）", file=sys.stderr)
        return 2
    except (CliError, ConfigError, GroupError) as exc:
        print(f"{command}：{exc}", file=sys.stderr)
        return 2
    except HomeBusy as exc:
        print(f"{command}：{exc}；稍后再试，或用 --wait 秒数 等得更久", file=sys.stderr)
        return EXIT_BUSY


#: the modules' own log records during a command (English, for technicians), in the data home's Dagster folder
LOG_FILE = "fangpin.log"


class _HomeLog(logging.handlers.RotatingFileHandler):
    """A log file in a private folder of the home, created with its folder on the first record only (``fangpin
    status`` on a home that does not exist must not create one)."""

    def _open(self):
        os.makedirs(os.path.dirname(self.baseFilename), exist_ok=True)
        return super()._open()


#: the loggers of this project's packages: with ``--verbose`` their INFO records are shown too (other libraries' stay at
#: WARNING — Dagster's storage migrations log a dozen INFO lines per command)
OWN_LOGGERS = ("fangpin", "assets", "sources", "warehouse", "quality", "pipelines")


@contextlib.contextmanager
def _python_logs(home: DataHome, verbose: bool):
    """Where the modules' log records (``logging``, English) go while a command runs: ``<home>/dagster/fangpin.log``,
    and with ``--verbose`` also the terminal. Without a handler Python prints warnings on stderr by itself
    (``logging.lastResort``): English lines such as "quarantined medical/x.xlsx: truncated" among an analyst's
    Chinese output, which already says the same in Chinese (the receipts). Restored afterwards: tests call
    :func:`main` many times in one process."""
    root = logging.getLogger()
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    added: list[logging.Handler] = [
        _HomeLog(home.dagster_home / LOG_FILE, maxBytes=5 << 20, backupCount=2, encoding="utf-8", delay=True)
    ]
    if verbose:
        added.append(logging.StreamHandler(sys.stderr))
    own = [logging.getLogger(name) for name in OWN_LOGGERS]
    levels = [lg.level for lg in own]
    for h in added:
        h.setLevel(logging.INFO if verbose else logging.WARNING)
        h.setFormatter(fmt)
        root.addHandler(h)
    if verbose:
        for lg in own:
            lg.setLevel(logging.INFO)
    try:
        yield
    finally:
        for h in added:
            root.removeHandler(h)
            h.close()
        for lg, level in zip(own, levels, strict=True):
            lg.setLevel(level)


def _command_of(argv: list[str] | None) -> str:
    words = sys.argv[1:] if argv is None else argv
    cmd = next((w for w in words if not w.startswith("-")), None)
    return f"fangpin {cmd}" if cmd in ("generate", "screen", "ingest", "followup", "status") else "fangpin"


def console() -> int:
    """The ``fangpin`` command: :func:`main`, then a quick exit.

    A reader that stops early (``fangpin status | head -1``) closes the pipe: the rest of the output is dropped
    without a BrokenPipeError (a round keeps running: its progress lines stop, see fangpin.progress).
    Ctrl-C ends with one line, exit code 130.

    At exit CPython's final garbage collection walks every object the run created — Dagster's, Great Expectations',
    pandas' — which took 1.5–2 s after a city round. By then every file and connection is closed (context managers),
    so the remaining objects are frozen out of that collection. Only here, not in :func:`main`: tests call ``main``
    many times in one process."""
    try:
        rc = main()
        sys.stdout.flush()
    except BrokenPipeError:
        rc = 0
        # stdout's buffer still holds what the reader did not take: point it at /dev/null so the interpreter's own
        # flush at exit has nowhere to fail
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except KeyboardInterrupt:
        print("\nfangpin：已中断", file=sys.stderr)
        rc = 130
    sys.stderr.flush()
    gc.freeze()
    return rc


if __name__ == "__main__":
    sys.exit(console())
