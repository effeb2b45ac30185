"""Landing folders (SPEC §3): what a clerk dropped, without touching it.

``scan`` lists the files waiting in ``<home>/landing/<feed>/``; it never opens, moves or modifies them.
Skipped: hidden files (``.x``), partial downloads and temporary files (``*.tmp``, ``*.part``, ``*.crdownload``,
``*.download``), Office lock files (``~$x.xlsx``), OS litter (``Thumbs.db``, ``desktop.ini``), sub-folders and
symbolic links (a link could point anywhere on the machine).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
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


def is_candidate(path: Path) -> bool:
    """True for a regular, non-hidden, finished file."""
    name = path.name
    low = name.lower()
    if name.startswith((".", "~$", "~")) or low in _SKIP_NAMES or low.endswith(_SKIP_SUFFIXES):
        return False
    if path.is_symlink():
        return False
    return path.is_file()


def scan(home: Path, feeds: Iterable[str] | None = None) -> list[DroppedFile]:
    """Files waiting in the landing folders, sorted by feed then file name.

    ``feeds=None`` scans every sub-folder of ``<home>/landing`` except ``feedback``. A feed whose folder does not
    exist yields nothing.
    """
    landing = Path(home) / "landing"
    if feeds is None:
        if not landing.is_dir():
            return []
        feeds = sorted(
            p.name
            for p in landing.iterdir()
            if p.is_dir() and not p.is_symlink() and not p.name.startswith(".") and p.name not in NOT_DROPS
        )
    out: list[DroppedFile] = []
    for feed in feeds:
        folder = landing / feed
        if not folder.is_dir():
            continue
        for p in sorted(folder.iterdir(), key=lambda x: x.name):
            if not is_candidate(p):
                continue
            st = p.stat()
            out.append(DroppedFile(feed=feed, path=p, size=st.st_size, mtime=st.st_mtime))
    return out


def file_hash(path: Path) -> str:
    """SHA-256 (hex) of the file's bytes, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
