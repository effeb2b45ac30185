"""Department drops: how files look — readers, header aliases, normalisation, archive/quarantine, clerk reports.

Public API (called by ``assets/ingestion.py``)::

    sources.landing.scan(home, feeds=None) -> list[DroppedFile]          # what waits in <home>/landing/<feed>/
    sources.landing.file_hash(path) -> str                               # sha256 hex
    sources.archive.archive(home, dropped) -> ArchivedFile               # byte copy first, idempotent, atomic
    sources.archive.quarantine(home, archived, reason) -> Path           # + <name>.reason.txt (Chinese)
    sources.read.read_file(path, feed, file_name=, file_hash=, home=) -> ReadResult   # or raises UnreadableFile
    sources.report.write_clerk_report(home, result_or_failure, ...) -> Path          # 回执 .xlsx + .txt

Modules: ``spec`` (aliases.yaml → FeedSpec, header matching), ``decode`` (format sniffing, text encodings, mojibake),
``grid`` (raw cells with physical row numbers, CSV and XLSX), ``normalise`` (staged Polars parsers for dates, amounts,
codes…), ``ids`` (ID-number columns, staged), ``read`` (header search, row classification, typed canonical rows,
row-level rejects, event keys), ``report`` (the clerk's receipt), ``errors`` (UnreadableFile).
"""
