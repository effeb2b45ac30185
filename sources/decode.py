"""What kind of file is this, and which text encoding — never guessed silently wrong.

Format by content, not by extension: ``PK`` zip → XLSX; OLE compound file ``D0 CF 11 E0`` → password-protected
OOXML (it holds ``EncryptionInfo``/``EncryptedPackage`` streams) or a legacy .xls; ``<html``/``<table`` → a web page
saved as ".xls" (common in government systems); else text (CSV/TSV).

Text: a BOM decides (UTF-8, UTF-16); else strict UTF-8; else GB18030 (a superset of GBK and GB2312). A file that mixes
UTF-8 and GBK lines (two exports concatenated) is decoded line by line — each line's bytes are valid in exactly one of
them in practice — and the report says so. A UTF-8 or GBK line with a few damaged bytes is decoded with U+FFFD and
the reader rejects that row ("编码损坏"); if too many lines are damaged the file is quarantined.

Mojibake (text already garbled before it was saved) is recognised in the header region by its fingerprints:
UTF-8 bytes decoded as GBK and re-saved ("濮撳悕" for 姓名), GBK bytes decoded as Latin-1 ("ÐÕÃû"), "锟斤拷",
replacement characters, or Chinese turned into question marks.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

from sources.errors import UnreadableFile

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENC_MARKERS = ("EncryptionInfo".encode("utf-16-le"), "EncryptedPackage".encode("utf-16-le"))
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0002ffff]")
_LATIN1_MOJI = re.compile(r"[\u00c0-\u00ff]")
_NONASCII_RUN = re.compile(r"[^\x00-\x7f]{2,}")
_BAD_PATTERNS = ("锟斤拷", "烫烫烫", "屯屯屯", "\ufffd\ufffd")
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f]")


@dataclass
class Decoded:
    text: str
    encoding: str  # utf-8 | utf-8-sig | gbk | gb18030 | utf-16 | mixed(utf-8+gb18030)
    notes: list[str] = field(default_factory=list)
    damaged_lines: int = 0
    #: the text's UTF-8 bytes when the file already was exactly that (no re-encoding for the CSV parser)
    raw: bytes | None = field(default=None, repr=False)


def sniff(data: bytes) -> str:
    """'empty' | 'xlsx' | 'zip' | 'encrypted' | 'ole' | 'html' | 'text'."""
    blank = b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"
    # the head decides for any real file; only an all-blank head costs a look at the whole (copying) buffer
    if not data or (not data[:4096].strip(blank) and not data.strip(blank)):
        return "empty"
    if data[:4] == b"PK\x03\x04" or data[:4] == b"PK\x05\x06":
        return "xlsx" if b"xl/" in data[:200_000] or b"[Content_Types].xml" in data[:200_000] else "zip"
    if data[:8] == OLE_MAGIC:
        if any(m in data for m in _ENC_MARKERS):
            return "encrypted"
        return "ole"
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<html", b"<!doctype html", b"<table", b"<meta", b"<head")) or (
        head.startswith(b"<?xml") and b"urn:schemas-microsoft-com:office:spreadsheet" in data[:4096]
    ):
        return "html"
    return "text"


def _control_share(data: bytes) -> float:
    sample = data[:65536]
    return len(_CONTROL.findall(sample)) / max(1, len(sample))


def _damaged_utf8(line: bytes) -> bool:
    """A line that is not valid UTF-8: damaged UTF-8 (a few bad bytes amid valid Chinese) or another encoding?
    GBK bytes read as UTF-8 give almost only replacement characters; damaged UTF-8 gives mostly valid Chinese."""
    u = line.decode("utf-8", "replace")
    bad = u.count("\ufffd")
    good = len(_CJK.findall(u))
    return good >= 2 * bad


def _per_line(data: bytes) -> Decoded:
    lines = data.split(b"\n")
    out: list[str] = []
    n_utf8 = n_gbk = n_damaged = 0
    for raw in lines:
        try:
            s = raw.decode("utf-8")
            if not raw.isascii():
                n_utf8 += 1
            out.append(s)
            continue
        except UnicodeDecodeError:
            pass
        if _damaged_utf8(raw):
            out.append(raw.decode("utf-8", "replace"))
            n_damaged += 1
            continue
        try:
            out.append(raw.decode("gb18030"))
            n_gbk += 1
        except UnicodeDecodeError:
            out.append(raw.decode("gb18030", "replace"))
            n_damaged += 1
    notes: list[str] = []
    if n_utf8 and n_gbk:
        enc = "mixed(utf-8+gb18030)"
        notes.append(f"文件中混用了UTF-8（{n_utf8}行）和GBK（{n_gbk}行）两种编码，已逐行识别")
    elif n_gbk:
        enc = "gb18030"
    else:
        enc = "utf-8"
    if n_damaged:
        notes.append(f"有{n_damaged}行含有损坏的字节（编码损坏），这些行不能导入")
    return Decoded("\n".join(out), enc, notes, n_damaged)


def decode_text(data: bytes) -> Decoded:
    """Bytes of a CSV/TSV file → text. Raises UnreadableFile(binary|encoding|empty)."""
    if data.startswith(codecs.BOM_UTF8):
        body = data[3:]
        try:
            return Decoded(body.decode("utf-8"), "utf-8-sig", raw=body)
        except UnicodeDecodeError:
            d = _per_line(body)
            d.encoding = "utf-8-sig" if d.encoding == "utf-8" else d.encoding
            return _check_damage(d, data)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return Decoded(data.decode("utf-16"), "utf-16", ["文件为UTF-16编码（Excel“Unicode文本”），已识别"])
        except UnicodeDecodeError as exc:
            raise UnreadableFile(
                "encoding",
                "文件声明为UTF-16编码，但内容无法按UTF-16读取（文件可能已损坏）。请重新导出。",
                detail=str(exc),
            ) from None
    nuls = data.count(b"\x00")
    if nuls > max(16, len(data) // 1000) or _control_share(data) > 0.01:
        # UTF-16 without BOM is the only text with many NULs; anything else with NULs is not a table
        if data[:65536].count(b"\x00") > 0.3 * min(len(data), 65536) and len(data) % 2 == 0:
            for enc in ("utf-16-le", "utf-16-be"):
                try:
                    text = data.decode(enc)
                except UnicodeDecodeError:
                    continue
                if _CJK.search(text[:2000]) or text[:200].isprintable():
                    return Decoded(text, enc, ["文件为UTF-16编码（无BOM），已识别"])
        raise UnreadableFile(
            "binary",
            "文件内容不是文本表格（含有大量二进制字节，可能已损坏或不是CSV/Excel文件）。请从原系统重新导出CSV或xlsx文件。",
        )
    decoded = _decode(data)
    return _mark_nuls(decoded, nuls) if nuls else decoded


def _mark_nuls(d: Decoded, nuls: int) -> Decoded:
    """A few NUL bytes (a glitch in an export or a transfer) cost the rows they are in, not the file: they become the
    replacement character, which the reader rejects row by row as damaged."""
    d.text = d.text.replace("\x00", "\ufffd")
    d.raw = None
    d.damaged_lines += nuls
    d.notes.append(f"文件中有{nuls}个空字符（NUL，导出或传输时损坏），所在的行不能导入，其余行照常读取")
    return d


def _decode(data: bytes) -> Decoded:
    """Text without BOM and without (many) NUL bytes: UTF-8, else GB18030/GBK, else line by line."""
    try:
        return Decoded(data.decode("utf-8"), "utf-8", raw=data)
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        return _check_damage(_per_line(data), data)
    # Valid GB18030 as a whole — but are some lines really UTF-8 (concatenated exports, one damaged UTF-8 byte)?
    if _has_utf8_line(data):
        return _check_damage(_per_line(data), data)
    try:
        text.encode("gbk")
        return Decoded(text, "gbk")
    except UnicodeEncodeError:
        return Decoded(text, "gb18030", ["文件含有GBK以外的生僻字，已按GB18030识别"])


_UTF8_CJK2 = re.compile(rb"[\xe3-\xe9][\x80-\xbf]{2}[\xe3-\xe9][\x80-\xbf]{2}")


def _has_utf8_line(data: bytes, max_hits: int = 2000) -> bool:
    """Is some line of this (GB18030-decodable) file valid UTF-8 with Chinese in it? Only lines with a UTF-8-looking
    pair of CJK characters are checked, so a plain GBK file costs one regex scan."""
    seen: set[int] = set()
    for i, m in enumerate(_UTF8_CJK2.finditer(data)):
        if i >= max_hits:
            break
        start = data.rfind(b"\n", 0, m.start()) + 1
        if start in seen:
            continue
        seen.add(start)
        end = data.find(b"\n", m.end())
        if _is_utf8(data[start : end if end >= 0 else len(data)]):
            return True
    return False


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def _check_damage(d: Decoded, data: bytes) -> Decoded:
    n_lines = max(1, d.text.count("\n") + 1)
    if d.damaged_lines > max(3, 0.05 * n_lines):
        code = "binary" if d.damaged_lines > 0.3 * n_lines else "encoding"
        if code == "binary":
            raise UnreadableFile(
                "binary",
                "文件内容不是文本表格（大部分内容无法按任何中文编码读取，可能已损坏或不是CSV/Excel文件）。请从原系统重新导出。",
            )
        raise UnreadableFile(
            "encoding",
            f"文件编码无法识别：{d.damaged_lines}行（共{n_lines}行）含有无法按UTF-8或GBK读取的字节。请从原系统重新导出，"
            "或在Excel中“另存为”xlsx文件。",
        )
    return d


def mojibake_reason(sample: str) -> str | None:
    """A Chinese sentence when the text (a file's first rows) looks garbled, else None."""
    if not sample:
        return None
    runs = [r for r in _NONASCII_RUN.findall(sample.replace("\ufffd", " ")) if len(r) >= 2]
    if runs:
        # UTF-8 bytes read as GBK and saved again: re-encoding as GBK gives back valid UTF-8 Chinese
        back = 0
        for r in runs:
            try:
                u = r.encode("gb18030").decode("utf-8")
            except (UnicodeEncodeError, UnicodeDecodeError):
                continue
            if _CJK.search(u):
                back += 1
        if back >= 1 and back >= 0.3 * len(runs):
            return "文件中的中文是乱码（UTF-8编码的文字被当作GBK读取后又保存了，例如“姓名”变成了“濮撳悕”）。"
    cjk = len(_CJK.findall(sample))
    latin = len(_LATIN1_MOJI.findall(sample))
    if latin >= 4 and latin > cjk:
        return "文件中的中文是乱码（GBK编码的文字被当作西文读取后又保存了，例如“姓名”变成了“ÐÕÃû”）。"
    for pat in _BAD_PATTERNS:
        if pat in sample:
            return f"文件中的中文是乱码（出现“{pat}”等字样，文件在导出或转存时编码已被破坏）。"
    if cjk == 0 and re.search(r"\?{2,}", sample) and sample.count("?") >= 4:
        return "文件中的中文变成了问号（“??”），导出时使用了不支持中文的编码。"
    if sample.count("\ufffd") >= 3:
        return "文件中的中文是乱码（含有无法识别的字符“\ufffd”）。"
    return None


def mojibake_advice() -> str:
    return "请从原系统重新导出，或在Excel中“另存为”“CSV UTF-8”或xlsx文件后再放入文件夹。"
