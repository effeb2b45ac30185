"""Safe outputs (SPEC §9): inert cell text and sanitised file names.

- ``safe_text``: text that came from an input and starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
  (also their full-width forms, which some spreadsheet programs fold) gets a visible leading apostrophe, so that
  neither Excel nor a program that re-exports the cell as CSV treats it as a formula. Workbooks are also written
  with ``write_string`` only, never ``write`` / ``write_formula``, for input text.
- ``safe_filename``: one path component, no separators, no ``..``, no control or reserved characters.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
_RESERVED = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')


def safe_text(value: object) -> object:
    """Neutralise one cell value; non-strings are returned unchanged."""
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def is_inert(value: object) -> bool:
    return not (isinstance(value, str) and value.startswith(FORMULA_PREFIXES))


def safe_filename(name: object, default: str = "未命名", max_len: int = 100) -> str:
    """A string usable as ONE file-name component: '../x/y' → '_x_y', '..' never survives."""
    s = unicodedata.normalize("NFKC", str(name or ""))
    s = _RESERVED.sub("_", s)
    while ".." in s:
        s = s.replace("..", "_")
    s = s.strip(" .")
    if s.upper().split(".")[0] in {
        "CON",
        "PRN",
        "AUX",
        "NUL",
        *(f"COM{i}" for i in range(1, 10)),
        *(f"LPT{i}" for i in range(1, 10)),
    }:
        s = "_" + s
    s = s[:max_len].strip(" .")
    return s or default


def child_path(folder: Path, name: str) -> Path:
    """``folder / safe_filename(name)``, checked to stay inside ``folder``."""
    folder = Path(folder)
    path = folder / safe_filename(name)
    if path.resolve().parent != folder.resolve():
        raise ValueError(f"unsafe output file name {name!r}")
    return path
