"""The one exception of the readers: a file that cannot be read at all (it goes to quarantine)."""

from __future__ import annotations

#: code → short Chinese title (the ``reason`` carries the full sentence for the clerk).
CODES = {
    "empty": "空文件",
    "binary": "不是表格文件",
    "encrypted": "文件有密码",
    "truncated": "文件不完整",
    "corrupt": "文件已损坏",
    "mojibake": "中文乱码",
    "encoding": "编码无法识别",
    "html": "网页格式的“Excel”",
    "unsupported": "不支持的格式",
    "no_header": "找不到表头",
    "missing_columns": "缺少必需的列",
    "wrong_feed": "放错了文件夹",
    "unknown_feed": "未配置的数据类别",
    "too_large": "工作簿过大或异常",
    "reader_crash": "读取时程序中断",
    "reader_memory": "读取时内存超限",
    "reader_timeout": "读取超时",
    "reader_error": "读取程序出错",
    # not read at all, by rule (the receipt says 未导入, not 已隔离)
    "hidden_file": "隐藏文件",
    "link": "快捷方式（链接）",
    "identical_copy": "与已接收的文件完全相同",
}
#: codes of drops that are deliberately not read (no quarantine copy; the receipt explains)
NOT_READ = frozenset({"hidden_file", "link", "identical_copy"})


class UnreadableFile(Exception):
    """``code`` (one of :data:`CODES`) and ``reason`` (Chinese, for the clerk: what is wrong and what to do).

    Also stands for a drop that is not read by rule (:data:`NOT_READ`): its receipt says why."""

    def __init__(
        self,
        code: str,
        reason: str,
        *,
        feed: str | None = None,
        file_name: str | None = None,
        file_hash: str | None = None,
        detail: str | None = None,
        looks_like: str | None = None,
    ):
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason
        self.feed = feed
        self.file_name = file_name
        self.file_hash = file_hash
        self.detail = detail  # technical detail for logs (English, no personal data)
        self.looks_like = looks_like  # wrong_feed: the feed the file looks like

    def __reduce__(self):  # crosses from a reader process to the parent (the default would lose the keywords)
        kw = {k: getattr(self, k) for k in ("feed", "file_name", "file_hash", "detail", "looks_like")}
        return (_rebuild, (self.code, self.reason, kw))

    @property
    def title(self) -> str:
        return CODES.get(self.code, self.code)


def _rebuild(code: str, reason: str, kw: dict) -> UnreadableFile:
    return UnreadableFile(code, reason, **kw)
