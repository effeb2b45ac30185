"""The engine seam holds (issue 13): product code runs SQL only through the step runner.

SQL executed on a raw connection (``con.execute``, ``con.sql``, ``.register``, ``.pl()``, ``duckdb.sql`` …) or a
``duckdb`` import is allowed only in the engines (``warehouse/runner.py``, ``warehouse/engine.py``,
``warehouse/spark.py``). Files not yet moved to the runner are listed in ``NOT_YET_MIGRATED``: the list may only
shrink — a file that is clean must leave it, a new file cannot join it.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("assets", "pipelines", "sources", "quality", "warehouse", "fangpin")
ENGINES = {"warehouse/runner.py", "warehouse/engine.py", "warehouse/spark.py"}

#: The ratchet: files that still run SQL outside the runner. Only ever remove entries.
NOT_YET_MIGRATED: set[str] = set()

RAW_SQL = re.compile(
    r"\b(?:con|conn|connection|self\.con|wh\.con|duckdb)\s*\.\s*"
    r"(?:execute|executemany|sql|query|register|unregister|read_parquet|read_csv|from_arrow|table)\s*\("
    r"|\.pl\(\s*\)|\.fetch(?:all|one|df|_arrow_table)\(|^\s*(?:import duckdb|from duckdb\b)",
    re.MULTILINE,
)


def offenders() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for top in PRODUCT:
        for path in sorted((ROOT / top).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel in ENGINES:
                continue
            text = path.read_text(encoding="utf-8")
            hits = [
                f"{rel}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0).strip()}" for m in RAW_SQL.finditer(text)
            ]
            if hits:
                found[rel] = hits
    return found


def test_no_sql_outside_the_runner_except_the_ratchet():
    found = offenders()
    new = {f: hits for f, hits in found.items() if f not in NOT_YET_MIGRATED}
    assert not new, "SQL executed outside the step runner (use warehouse.runner):\n" + "\n".join(
        h for hits in new.values() for h in hits
    )


def test_the_ratchet_only_shrinks():
    """A migrated file leaves the list (so it cannot slide back unnoticed)."""
    clean = sorted(f for f in NOT_YET_MIGRATED if f not in offenders())
    assert not clean, f"these files no longer run raw SQL: remove them from NOT_YET_MIGRATED: {clean}"


def test_the_pattern_catches_raw_sql():
    samples = [
        'con.execute("DELETE FROM x")',
        "df = con.sql(q).pl()",
        "con.register('v', table)",
        "rows = cur.fetchall()",
        "import duckdb",
        "duckdb.sql('SELECT 1')",
    ]
    assert all(RAW_SQL.search(s) for s in samples)
    assert not RAW_SQL.search('wh.run("rules/30_screen", round_id=r)')
    assert not RAW_SQL.search("sqlglot.parse(text)[0].sql(dialect='spark')")
