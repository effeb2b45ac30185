"""What a Dagster run is doing, shown on the command line while it runs — read from the run's own event stream.

The command line registers a :class:`RunProgress` as the instance's event listener for the run it launches
(``DagsterInstance.add_event_listener(run_id, …)``): every event the run stores — step started, asset materialised
with its metadata, check evaluated, step finished — passes through it in the run's thread as it happens. Nothing
polls the run.

On a terminal one status line is redrawn (step n of m, stage, seconds so far; a small timer refreshes the seconds
while a long step runs) and every finished step leaves a line saying what it did (files, rows, households). When the
output is not a terminal (a log file, a pipe, cron) the same information comes as plain lines: one when a step starts,
one when it ends. Text is for bureau analysts: Chinese stage names, no step keys or codes.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

#: stage names of the steps (asset names); an ingest step of a feed is named after the department sending it
STAGES = {
    "links": "匹配 · 部门记录与户籍人员",
    "suspects": "筛查 · 疑似风险户",
    "systemic_risk": "研判 · 规模性、系统性风险",
    "round_outputs": "发布 · 清单与汇总",
    "feedback_records": "入库 · 县级核实反馈",
    "monitoring_state": "跟踪 · 监测状态",
    "followup_outputs": "跟踪 · 逾期、合规与风险消除",
    "official_forms": "表册 · 名册、一览表、村级档案清单",
    "registry_quality": "核查 · 户籍数据质量",
    "registry": "入库 · 户籍（防止返贫监测对象信息）",
}
CHECKS = {
    "great_expectations": "数据校验",
    "feedback_validation": "反馈校验",
    "evidence_on_every_suspect": "每户有证据",
    "county_lists_published": "各县清单齐全",
    "flagged_share": "预警村占比",
}


#: the run's own warnings (English, for the Dagster log) that a bureau analyst needs to read: pattern → Chinese text
#: (``str.format`` over the match's groups). Other warnings are shown as they are.
WARNINGS = (
    (
        re.compile(r"run (\S+) was left unfinished by a killed process: marked failed"),
        "运行 {0:.8} 因进程被强行终止而没有完成，已在 Dagster 中标记为失败",
    ),
    (
        re.compile(r"removed (\d+) leftovers of an interrupted write from the Spark warehouse"),
        "已清除 Spark 数据仓库中上次中断写入留下的 {0} 个残留文件",
    ),
)


def warning_text(message: str) -> str:
    """A run warning as the command line shows it: in Chinese where it is one of :data:`WARNINGS`."""
    for pattern, text in WARNINGS:
        m = pattern.fullmatch(message.strip())
        if m:
            return text.format(*m.groups())
    return message


def stage_label(step_key: str, feed_names: dict[str, str] | None = None) -> str:
    """'medical_records' → '入库 · 医保局'; an unknown step keeps its name."""
    if step_key in STAGES:
        return STAGES[step_key]
    if step_key.endswith("_records"):
        feed = step_key.removesuffix("_records")
        return f"入库 · {(feed_names or {}).get(feed, feed)}"
    return step_key


def check_label(check_name: str, feed_names: dict[str, str] | None = None) -> str:
    if check_name.startswith("match_rate_"):
        feed = check_name.removeprefix("match_rate_")
        return f"{(feed_names or {}).get(feed, feed)}匹配率"
    return CHECKS.get(check_name, check_name)


def seconds_text(s: float) -> str:
    """12.34 → '12.3 秒', 185 → '3 分 05 秒'."""
    if s < 60:
        return f"{s:.1f} 秒"
    m, sec = divmod(int(round(s)), 60)
    return f"{m // 60} 小时 {m % 60:02d} 分" if m >= 60 else f"{m} 分 {sec:02d} 秒"


def step_detail(metadata: dict) -> str:
    """What a finished step did, from its materialisation metadata (keys of the assets' MaterializeResult)."""

    def val(key):
        v = metadata.get(key)
        return getattr(v, "value", v)

    if val("rows_loaded") is not None:  # an ingest step
        new = val("new_files") or 0
        if not new:
            return "没有新文件"
        text = f"新文件 {new} 个，入库 {val('rows_loaded') or 0:,} 行"
        if val("rows_rejected"):
            text += f"，拒收 {val('rows_rejected'):,} 行"
        held = (val("blocked_files") or 0) + (val("quarantined_files") or 0)
        if held:
            text += f"，{held} 个文件未入库（见回执）"
        return text
    if val("suspects") is not None:
        return f"疑似风险户 {val('suspects'):,} 户"
    if val("flagged_areas") is not None:  # systemic_risk
        return f"预警区域 {val('flagged_areas'):,} 个，专项调查 {val('survey_households') or 0:,} 户"
    if val("records") is not None:
        return f"部门记录 {val('records'):,} 条"
    if val("files") is not None and isinstance(val("files"), int):
        return f"写出 {val('files')} 个文件"
    return ""


class RunProgress:
    """An event listener (``DagsterInstance.add_event_listener``) that prints a run's progress to ``out``."""

    def __init__(
        self,
        out: TextIO | None = None,
        *,
        tty: bool | None = None,
        feed_names: dict[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        refresh_seconds: float = 1.0,
    ):
        self.out = out if out is not None else sys.stdout
        self.tty = bool(tty if tty is not None else getattr(self.out, "isatty", lambda: False)())
        self.feed_names = feed_names or {}
        self.clock = clock
        self.started = clock()
        self.planned: list[str] = []  # step keys in plan order
        self.done = 0
        self.step: str | None = None
        self.step_started = 0.0
        self.details: dict[str, str] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        if self.tty:
            self._status("准备运行")
            self._ticker = threading.Thread(target=self._tick, args=(refresh_seconds,), daemon=True)
            self._ticker.start()

    # -------------------------------------------------------------------------------- the event stream

    def __call__(self, entry) -> None:
        event = getattr(entry, "dagster_event", None)
        if event is None:
            if getattr(entry, "level", 0) >= logging.WARNING and entry.user_message:
                step = entry.step_key
                if step and entry.user_message.startswith("Dependencies for step"):  # Dagster skips it
                    self.done += 1
                    self._line(
                        f"{self._prefix(self.done)}{stage_label(step, self.feed_names)}：未运行（前面的步骤失败）"
                    )
                else:
                    where = stage_label(step, self.feed_names) if step else "运行"
                    self._line(f"  注意（{where}）：{warning_text(entry.user_message)}")
            return
        kind = event.event_type_value
        step = event.step_key
        if kind in ("ASSET_MATERIALIZATION_PLANNED", "ASSET_CHECK_EVALUATION_PLANNED"):
            if step and step not in self.planned:
                self.planned.append(step)
        elif kind == "STEP_START":
            self.step, self.step_started = step, self.clock()
            if self.tty:
                self._status(self._prefix(self.done + 1) + stage_label(step, self.feed_names) + " …")
            else:
                self._line(self._prefix(self.done + 1) + stage_label(step, self.feed_names) + " …")
        elif kind == "ASSET_MATERIALIZATION" and step and step not in self.details:
            # a partitioned asset reports one materialisation per partition, all with the run's figures: the first
            self.details[step] = step_detail(event.event_specific_data.materialization.metadata or {})
        elif kind == "ASSET_CHECK_EVALUATION":
            ev = event.event_specific_data
            if not ev.passed:
                asset = ev.asset_key.to_user_string()
                self._line(
                    f"  提示：{stage_label(asset, self.feed_names)} 的检查「{check_label(ev.check_name, self.feed_names)}」"
                    "未通过（详情见 Dagster 界面的资产检查）"
                )
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE"):
            self.done += 1
            took = seconds_text(self.clock() - self.step_started)
            label = self._prefix(self.done) + stage_label(step, self.feed_names)
            if kind == "STEP_SUCCESS":
                detail = self.details.get(step, "")
                self._line(f"{label}：{detail}（{took}）" if detail else f"{label}：完成（{took}）")
            else:
                self._line(f"{label}：失败（{took}）")
            self.step = None
            if self.tty:
                self._status(f"进行中 … 已用 {seconds_text(self.clock() - self.started)}")

    def close(self) -> None:
        """Stop the timer and clear the status line (the command prints its summary next)."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=2)
        if self.tty:
            self._write("\r\x1b[2K")

    # -------------------------------------------------------------------------------- output

    def _prefix(self, n: int) -> str:
        return f"[{n}/{len(self.planned)}] " if self.planned else f"[{n}] "

    def _tick(self, every: float) -> None:
        while not self._stop.wait(every):
            if self.step is not None:
                self._status(
                    f"{self._prefix(self.done + 1)}{stage_label(self.step, self.feed_names)} … "
                    f"{seconds_text(self.clock() - self.step_started)}"
                )

    def _status(self, text: str) -> None:
        self._write(f"\r\x1b[2K{text}")

    def _line(self, text: str) -> None:
        self._write(("\r\x1b[2K" if self.tty else "") + text + "\n")

    def _write(self, text: str) -> None:
        with self._lock:
            if self.out is None:
                return
            try:
                self.out.write(text)
                self.out.flush()
            except (BrokenPipeError, ValueError, OSError):
                # the reader went away (`fangpin screen | head`): stop showing progress, let the run finish
                self.out = None
