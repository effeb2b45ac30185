"""Archive and quarantine: the dropped bytes, copied before anything else happens to them.

``<home>/archive/<feed>/<sha256-16>__<sanitised name>`` — a byte-for-byte copy, written to a temporary file in the
same folder and renamed into place (atomic), so a crash never leaves a half-written archive entry. Archiving the same
bytes again is a no-op. The landing file is only ever opened for reading.
``<home>/quarantine/<feed>/<sha256-16>__<sanitised name>`` plus ``<same>.reason.txt`` (Chinese) for unreadable files.

File names from drops are never used unsanitised to build paths (SPEC §9): :func:`sanitise_name` keeps the base name
only, drops control and path characters, and bounds the length.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from sources.landing import DroppedFile

_UNSAFE = re.compile(r"[^\w.\-()（）\[\]【】 +,，=@#&~！!、·]", re.UNICODE)
_FEED = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
_MAX_NAME_BYTES = 150


@dataclass(frozen=True)
class ArchivedFile:
    feed: str
    file_name: str  # the name the clerk gave the file (for reports and source_file), not a path
    file_hash: str  # sha256 hex of the archived bytes
    archived_path: Path
    size: int = 0


def sanitise_name(name: str) -> str:
    """A safe file name: no directories, no control or shell-special characters, bounded length, never empty/dot."""
    s = unicodedata.normalize("NFKC", str(name or ""))
    s = s.replace("\\", "/").split("/")[-1]
    s = "".join(ch for ch in s if unicodedata.category(ch)[0] != "C")
    s = _UNSAFE.sub("_", s)
    s = re.sub(r"_{2,}", "_", s).strip(" .")
    if not s:
        s = "file"
    stem, dot, ext = s.rpartition(".")
    if not dot or len(ext) > 10:
        stem, ext = s, ""
    while len((stem + ("." + ext if ext else "")).encode("utf-8")) > _MAX_NAME_BYTES and stem:
        stem = stem[:-1]
    out = stem + ("." + ext if ext else "")
    return out or "file"


def safe_feed(feed: str) -> str:
    if not _FEED.match(str(feed)):
        raise ValueError(f"invalid feed name {feed!r}: lower-case letters, digits and '_' only")
    return str(feed)


def stored_name(file_hash: str, file_name: str) -> str:
    return f"{file_hash[:16]}__{sanitise_name(file_name)}"


def _atomic_write_from(src: Path, dest: Path) -> tuple[str, str]:
    """Copy src into a temp file in dest's folder; return (sha256 of the bytes copied, temp path). Caller renames."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    h = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(prefix=".incoming-", suffix=".tmp", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as out, open(src, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        return h.hexdigest(), tmp
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def archive(home: Path, dropped: DroppedFile) -> ArchivedFile:
    """Copy a dropped file into the archive (idempotent, atomic). The landing file is never modified."""
    feed = safe_feed(dropped.feed)
    folder = Path(home) / "archive" / feed
    folder.mkdir(parents=True, exist_ok=True)
    # Copy first, hash what was copied: the archive holds exactly the bytes the hash names, even if the clerk
    # overwrote the landing file in between.
    digest, tmp = _atomic_write_from(Path(dropped.path), folder / ".probe")
    dest = folder / stored_name(digest, dropped.path.name)
    try:
        if dest.exists() and dest.stat().st_size == os.path.getsize(tmp):
            os.unlink(tmp)  # same bytes already archived
        else:
            os.replace(tmp, dest)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return ArchivedFile(
        feed=feed, file_name=dropped.path.name, file_hash=digest, archived_path=dest, size=dest.stat().st_size
    )


def quarantine(home: Path, archived: ArchivedFile, reason: str) -> Path:
    """Copy an archived file to ``<home>/quarantine/<feed>/`` with a Chinese ``.reason.txt``; return the copy's path."""
    feed = safe_feed(archived.feed)
    folder = Path(home) / "quarantine" / feed
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / stored_name(archived.file_hash, archived.file_name)
    if not (dest.exists() and dest.stat().st_size == Path(archived.archived_path).stat().st_size):
        _, tmp = _atomic_write_from(Path(archived.archived_path), dest)
        os.replace(tmp, dest)
    lines = [
        f"文件：{sanitise_name(archived.file_name)}",
        f"数据类别：{feed}",
        f"文件指纹（SHA-256）：{archived.file_hash}",
        "处理结果：已隔离（整个文件未导入，其他文件不受影响）",
        f"原因：{reason}",
    ]
    text = "\n".join(lines) + "\n"
    reason_path = dest.with_name(dest.name + ".reason.txt")
    fd, tmp = tempfile.mkstemp(prefix=".reason-", suffix=".tmp", dir=folder)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(tmp, reason_path)
    return dest
