"""The data home: one folder holding all state (SPEC §3).

``--home DIR`` on the command line, else ``$FANGPIN_HOME``, else ``./var``.
Landing, out and truth folders are contracts; the rest is ours to lay out.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: Department feeds the pipeline knows, in screening order. Further feeds are configuration (aliases.yaml).
CORE_FEEDS = ("medical", "disaster", "civil_affairs", "employment")
OPTIONAL_FEEDS = ("property",)
ALL_FEEDS = ("registry",) + CORE_FEEDS + OPTIONAL_FEEDS


def resolve_home(home: str | os.PathLike | None = None) -> Path:
    raw = home or os.environ.get("FANGPIN_HOME") or "./var"
    return Path(raw).expanduser().resolve()


@dataclass(frozen=True)
class DataHome:
    root: Path

    @classmethod
    def at(cls, home: str | os.PathLike | None = None) -> DataHome:
        return cls(resolve_home(home))

    # contract folders (SPEC §3)
    @property
    def landing(self) -> Path:
        return self.root / "landing"

    def landing_for(self, feed: str) -> Path:
        return self.landing / feed

    @property
    def out(self) -> Path:
        return self.root / "out"

    def round_dir(self, round_id: str) -> Path:
        return self.out / round_id

    # ground truth of a synthetic city: outside landing, never read by the pipeline
    @property
    def truth(self) -> Path:
        return self.root / "truth"

    # ours to lay out
    @property
    def archive(self) -> Path:
        return self.root / "archive"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def reports(self) -> Path:
        """Per-file acceptance reports for department clerks."""
        return self.root / "reports"

    @property
    def warehouse_dir(self) -> Path:
        return self.root / "warehouse"

    @property
    def warehouse_path(self) -> Path:
        return self.warehouse_dir / "fangpin.duckdb"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster"

    @property
    def config_dir(self) -> Path:
        """Optional per-home overrides of the packaged configuration files."""
        return self.root / "config"

    def ensure(self) -> DataHome:
        for feed in ALL_FEEDS + ("feedback",):
            self.landing_for(feed).mkdir(parents=True, exist_ok=True)
        for p in (self.out, self.archive, self.quarantine, self.reports, self.warehouse_dir, self.dagster_home):
            p.mkdir(parents=True, exist_ok=True)
        return self
