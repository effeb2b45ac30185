"""No test skips itself when the code it tests is missing (issue 14 item 8): ``pytest.importorskip``, a ``pytest.skip``
in a helper or a ``skipif`` on an import would turn a renamed function into a quiet "skipped" instead of a failure.
Optional tools a test needs are installed by ``make test`` (the browser test fails without them, by design)."""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).parent
SKIPS = re.compile(r"\bimportorskip\s*\(|\bpytest\.skip\s*\(|\bskipif\s*\(|\bpytest\.xfail\s*\(")


def test_no_test_skips_on_missing_code():
    found = [
        f"{path.relative_to(TESTS)}:{n}: {line.strip()}"
        for path in sorted(TESTS.rglob("*.py"))
        if path.name != Path(__file__).name
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if SKIPS.search(line)
    ]
    assert found == [], "\n".join(found)
