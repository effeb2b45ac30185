"""Landing folders (SPEC §3): what a clerk dropped, without touching it.

``scan`` lists the files waiting in ``<home>/landing/<feed>/``; it never opens, moves or modifies them.
Not read, ever: partial downloads and temporary files (``*.tmp``, ``*.part``, ``*.crdownload``, ``*.download``), Office
and LibreOffice lock files (``~$x.xlsx``, ``.~lock.x.xlsx#``), OS litter (``Thumbs.db``, ``desktop.ini``) and
sub-folders — transient, so no receipt either. Hidden files (``.x``) and symbolic links (a link could point anywhere
on the machine) are not read but listed by :func:`scan_skipped`, so the clerk gets a receipt saying why.

``settle`` keeps back a file that may still be being written: only a file unchanged (size and modification time) for
``settle_seconds`` is read; a younger one is waited for, and one that keeps changing is left for the next run.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

#: Landing folders that are not department drops of this module (county verification results have their own reader).
NOT_DROPS = frozenset({"feedback"})
_SKIP_SUFFIXES = (".tmp", ".part", ".crdownload", ".download", ".partial", ".swp", ".lock")
_SKIP_NAMES = frozenset({"thumbs.db", "desktop.ini", ".ds_store"})


@dataclass(frozen=True)
class DroppedFile:
    feed: str
    path: Path
    size: int
    mtime: float

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class SkippedFile:
    """A drop that is not read but gets a receipt: ``why`` is ``hidden`` or ``link``."""

    feed: str
    path: Path
    why: str

    @property
    def name(self) -> str:
        return self.path.name


def classify(path: Path) -> str | None:
    """None for a file to read; else why not: ``temporary`` | ``litter`` | ``folder`` | ``hidden`` | ``link``."""
    name = path.name
    low = name.lower()
    if name.startswith(("~$", "~", ".~lock.")) or low.endswith(_SKIP_SUFFIXES):
        return "temporary"
    if low in _SKIP_NAMES:
        return "litter"
    if path.is_symlink():
        return "link"
    if name.startswith("."):
        return "hidden"
    if not path.is_file():
        return "folder"
    return None


def is_candidate(path: Path) -> bool:
    """True for a regular, non-hidden, finished file."""
    return classify(path) is None


def _feeds(home: Path, feeds: Iterable[str] | None) -> list[str]:
    landing = Path(home) / "landing"
    if feeds is not None:
        return list(feeds)
    if not landing.is_dir():
        return []
    return sorted(
        p.name
        for p in landing.iterdir()
        if p.is_dir() and not p.is_symlink() and not p.name.startswith(".") and p.name not in NOT_DROPS
    )


def scan(home: Path, feeds: Iterable[str] | None = None) -> list[DroppedFile]:
    """Files waiting in the landing folders, sorted by feed then file name.

    ``feeds=None`` scans every sub-folder of ``<home>/landing`` except ``feedback``. A feed whose folder does not
    exist yields nothing.
    """
    out: list[DroppedFile] = []
    for feed in _feeds(home, feeds):
        folder = Path(home) / "landing" / feed
        if not folder.is_dir():
            continue
        for p in sorted(folder.iterdir(), key=lambda x: x.name):
            if not is_candidate(p):
                continue
            st = p.stat()
            out.append(DroppedFile(feed=feed, path=p, size=st.st_size, mtime=st.st_mtime))
    return out


def scan_skipped(home: Path, feeds: Iterable[str] | None = None) -> list[SkippedFile]:
    """Hidden files and links in the landing folders: not read, but each gets a receipt."""
    out: list[SkippedFile] = []
    for feed in _feeds(home, feeds):
        folder = Path(home) / "landing" / feed
        if not folder.is_dir():
            continue
        for p in sorted(folder.iterdir(), key=lambda x: x.name):
            why = classify(p)
            if why in ("hidden", "link"):
                out.append(SkippedFile(feed, p, why))
    return out


def settle(
    files: list[DroppedFile],
    settle_seconds: float,
    max_wait_seconds: float,
    *,
    now: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[list[DroppedFile], list[DroppedFile]]:
    """(settled, still changing): a file is settled once unchanged for ``settle_seconds``.

    Files younger than that are waited for — all together, at most ``max_wait_seconds`` — and looked at again; one
    whose size or modification time changed meanwhile starts over, one still changing at the end is returned as not
    settled (the next run or sensor tick takes it). The settled keep their order."""
    start = now()
    latest = {f.path: f for f in files}
    pending = {f.path for f in files if now() - f.mtime < settle_seconds}
    while pending:
        wait = max(settle_seconds - (now() - latest[p].mtime) for p in pending)
        if now() - start + wait > max_wait_seconds:
            break
        sleep(max(wait, 0.05))
        for path in list(pending):
            f = latest[path]
            try:
                st = path.stat()
            except FileNotFoundError:  # gone meanwhile: nothing to read
                pending.discard(path)
                latest.pop(path)
                continue
            if (st.st_size, st.st_mtime) != (f.size, f.mtime):
                latest[path] = DroppedFile(f.feed, path, st.st_size, st.st_mtime)
            elif now() - f.mtime >= settle_seconds:
                pending.discard(path)
    settled = [latest[f.path] for f in files if f.path in latest and f.path not in pending]
    return settled, [latest[p] for p in sorted(pending)]


def file_hash(path: Path) -> str:
    """SHA-256 (hex) of the file's bytes, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
