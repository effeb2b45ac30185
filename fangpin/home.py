"""The data home: one folder holding all state (SPEC §3).

``--home DIR`` on the command line, else ``$FANGPIN_HOME``, else ``./var``.
Landing, out and truth folders are contracts; the rest is ours to lay out.

Privacy of the files (SPEC §9): every entry point (the command line, the Dagster code location, its sensors) calls
:func:`apply_umask`, so whatever the program creates — warehouse, archive, quarantine, outputs, receipts, Dagster
storage — has no world access: 0600 files and 0700 folders, or 0660/2770 shared with the group named by
``$FANGPIN_GROUP``. :meth:`DataHome.ensure` also takes world access away from the private folders of a home
created before (their files are then out of reach whatever their own mode).
"""

from __future__ import annotations

import grp
import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("fangpin.home")

#: Department feeds the pipeline knows, in screening order. Further feeds are configuration (aliases.yaml).
CORE_FEEDS = ("medical", "disaster", "civil_affairs", "employment")
OPTIONAL_FEEDS = ("property",)
ALL_FEEDS = ("registry",) + CORE_FEEDS + OPTIONAL_FEEDS


#: ``$FANGPIN_GROUP``: a group name (or numeric id) that shares the data home; unset = the owner alone
GROUP_ENV = "FANGPIN_GROUP"
PRIVATE_UMASK = 0o077  # files 0600, folders 0700
GROUP_UMASK = 0o007  # files 0660, folders 0770


class GroupError(ValueError):
    """``$FANGPIN_GROUP`` names a group this machine does not have."""


def shared_group() -> int | None:
    """The gid of ``$FANGPIN_GROUP`` (None when unset). An unknown group is an error: silently falling back to
    owner-only would lock the group out, silently ignoring it would not be what was asked."""
    raw = os.environ.get(GROUP_ENV, "").strip()
    if not raw:
        return None
    if raw.isdigit():
        return int(raw)
    try:
        return grp.getgrnam(raw).gr_gid
    except KeyError:
        raise GroupError(f"{GROUP_ENV}={raw!r}: no such group on this machine (unset it, or name a group)") from None


def apply_umask() -> int:
    """Set this process's umask for personal data (see the module docstring) and return it."""
    mask = GROUP_UMASK if shared_group() is not None else PRIVATE_UMASK
    os.umask(mask)
    return mask


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

    @property
    def private_dirs(self) -> tuple[Path, ...]:
        """Folders holding personal data: never world-accessible (module docstring)."""
        return (self.out, self.archive, self.quarantine, self.reports, self.warehouse_dir, self.dagster_home)

    def ensure(self) -> DataHome:
        for feed in ALL_FEEDS + ("feedback",):
            self.landing_for(feed).mkdir(parents=True, exist_ok=True)
        gid = shared_group()
        for p in self.private_dirs:
            p.mkdir(parents=True, exist_ok=True)
            _restrict(p, gid)
        return self


def _restrict(folder: Path, gid: int | None) -> None:
    """Take world access away from ``folder`` (and group access too when no group shares the home); with a shared
    group, hand the folder to it (group rwx) and set the setgid bit so files created inside belong to it as well.
    A folder owned by someone else is left as it is (logged)."""
    try:
        st = folder.stat()
        mode = stat.S_IMODE(st.st_mode)
        if gid is None:
            want = mode & ~0o077
        else:
            if st.st_gid != gid:
                os.chown(folder, -1, gid)
            want = (mode & ~0o007) | 0o070 | stat.S_ISGID
        if want != mode:
            os.chmod(folder, want)
    except PermissionError:
        log.warning("cannot restrict permissions of %s (owned by another user)", folder)
