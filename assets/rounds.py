"""Round parameters shared by the screening and publishing assets."""


import datetime as dt

import dagster as dg

from fangpin.domain.rounds import RoundInfo, parse_round


class RoundConfig(dg.Config):
    """Which screening round to run. Empty values take sensible defaults, so a UI launch needs no config."""

    round_id: str = ""   # e.g. 2026Q4; empty → the current quarter
    kind: str = ""       # full | priority | incremental; empty → Q2/Q4 full, Q1/Q3 priority, ad-hoc incremental
    pushed_on: str = ""  # ISO date the lists are pushed; empty → today

    def resolve(self, today: dt.date | None = None) -> tuple[RoundInfo, str, dt.date]:
        today = today or dt.date.today()
        round_id = self.round_id or f"{today.year}Q{(today.month - 1) // 3 + 1}"
        info = parse_round(round_id)
        kind = self.kind or info.default_kind
        if kind not in ("full", "priority", "incremental"):
            raise dg.Failure(f"unknown round kind {kind!r}: use full, priority or incremental")
        pushed_on = dt.date.fromisoformat(self.pushed_on) if self.pushed_on else today
        return info, kind, pushed_on
