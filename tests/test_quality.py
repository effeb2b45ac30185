"""Great Expectations suites per feed (quality/suites.py). GX is imported once for the module (≈ 3 s)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from fangpin import settings
from fangpin.domain.idnumber import make_id

REF = dt.date(2026, 4, 1)
N = 100


@pytest.fixture(scope="module")
def q():
    """The suites module with GX already imported and its context built (paid once for all tests)."""
    from quality import gx_runner, suites

    gx_runner.warm_up()
    return suites


def ids(n: int) -> list[str]:
    return [make_id("450222", dt.date(1960, 1, 1) + dt.timedelta(days=i), i % 1000) for i in range(n)]


def medical(n: int = N, **cols) -> pl.DataFrame:
    base = {
        "source": pl.Series(["medical"] * n),
        "source_file": pl.Series(["医保.xlsx"] * n),
        "source_row": pl.Series(range(3, n + 3), dtype=pl.Int64),
        "event_key": pl.Series([f"k{i}" for i in range(n)]),
        "name": pl.Series(["张三"] * n),
        "id_raw": pl.Series(ids(n)),
        "id_status": pl.Series(["valid"] * n),
        "township": pl.Series(["三防镇"] * n),
        "settle_date": pl.Series([dt.date(2026, 1, 1) + dt.timedelta(days=i % 80) for i in range(n)], dtype=pl.Date),
        "total_cost": pl.Series([5000.0 + i for i in range(n)], dtype=pl.Float64),
        "out_of_pocket": pl.Series([1000.0 + i for i in range(n)], dtype=pl.Float64),
        "visit_type": pl.Series(["住院", "门诊慢特病", "门诊", "住院"] * (n // 4) + ["住院"] * (n % 4)),
    }
    base.update({k: (v if isinstance(v, pl.Series) else pl.Series(v)) for k, v in cols.items()})
    return pl.DataFrame(base)


def registry(n: int = N, **cols) -> pl.DataFrame:
    base = {
        "household_id": pl.Series([f"H{i // 4:06d}" for i in range(n)]),
        "county": pl.Series(["融水苗族自治县"] * n),
        "township": pl.Series(["三防镇"] * n),
        "village": pl.Series(["三防村"] * n),
        "village_code": pl.Series(["450225105201"] * n),
        "name": pl.Series(["李四"] * n),
        "id_raw": pl.Series(ids(n)),
        "id_status": pl.Series(["valid"] * n),
        "id_number": pl.Series(ids(n)),
        "birth_date": pl.Series([dt.date(1960, 1, 1) + dt.timedelta(days=i) for i in range(n)], dtype=pl.Date),
        "relation": pl.Series(["户主", "配偶", "之子", "之女"] * (n // 4)),
        "household_type": pl.Series(["脱贫户", "一般农户"] * (n // 2)),
        "monitoring_category": pl.Series([None, "边缘易致贫户"] * (n // 2), dtype=pl.String),
        "risk_eliminated": pl.Series(["否"] * n),
        "labour": pl.Series(["普通劳动力", "无劳动力"] * (n // 2)),
        "health": pl.Series(["健康", "长期慢性病"] * (n // 2)),
        "per_capita_net_income": pl.Series([9000.0 + i for i in range(n)], dtype=pl.Float64),
        "household_size": pl.Series([4] * n, dtype=pl.Int32),
    }
    base.update({k: (v if isinstance(v, pl.Series) else pl.Series(v)) for k, v in cols.items()})
    return pl.DataFrame(base)


def outcome(v, name, column=None):
    hits = [o for o in v.outcomes if o.name == name and (column is None or o.column == column)]
    assert len(hits) == 1, f"{name}/{column}: {[(o.name, o.column) for o in v.outcomes]}"
    return hits[0]


# ---------------------------------------------------------------------------------------------- medical


def test_clean_medical_passes(q):
    v = q.validate_frame(medical(), "medical", reference_date=REF)
    assert v.success and v.rows == N and v.elapsed_s >= 0
    assert all(o.success for o in v.outcomes), [o for o in v.outcomes if not o.success]
    assert not v.blocking_failures and not v.warnings and not v.skipped
    names = {o.name for o in v.outcomes}
    assert {
        "schema",
        "not_null",
        "value_set",
        "range",
        "range_gross",
        "id_valid_rate",
        "duplicate_rate",
        "date_not_future",
        "date_not_too_old",
    } <= names
    assert outcome(v, "id_valid_rate").expectation_type == "ExpectColumnValuesToBeInSet"
    assert "通过" in q.summary_zh(v)


def test_mostly_invalid_ids_fail_blocking_id_rate(q):
    status = ["valid"] * 20 + ["missing"] * 50 + ["bad_checksum"] * 30
    v = q.validate_frame(medical(id_status=status), "medical", reference_date=REF)
    assert not v.success
    o = outcome(v, "id_valid_rate")
    assert o.blocking and not o.success
    assert o.unexpected_count == 80 and o.unexpected_percent == pytest.approx(80.0)
    assert o.column == "id_status"
    assert "证件号码有效率为 20.0%" in o.description_zh and "低于要求的 60%" in o.description_zh
    assert "共 80 行无效" in o.description_zh and "未填写 50 行" in o.description_zh
    assert [b.key for b in v.blocking_failures] == ["id_valid_rate:id_status"]
    assert "未通过" in q.summary_zh(v, "医保.xlsx") and "医保.xlsx" in q.summary_zh(v, "医保.xlsx")


def test_id_status_derived_from_id_raw_when_absent(q):
    raw = ids(N)
    raw[:70] = ["4.50222E+17"] * 70  # spreadsheet-mangled
    v = q.validate_frame(medical(id_raw=raw).drop("id_status"), "medical", reference_date=REF)
    o = outcome(v, "id_valid_rate")
    assert not o.success and o.unexpected_count == 70
    assert "被表格软件转成了数字 70 行" in o.description_zh


def test_missing_required_column_fails_schema(q):
    v = q.validate_frame(medical().drop("out_of_pocket"), "medical", reference_date=REF)
    assert not v.success
    o = outcome(v, "schema")
    assert o.blocking and not o.success and o.unexpected_count == 1
    assert "out_of_pocket" in o.observed and "个人自付" in o.description_zh
    assert any(s.startswith("not_null:out_of_pocket") for s in v.skipped)
    assert any(s.startswith("range:out_of_pocket") for s in v.skipped)


def test_schema_alternatives_and_absent_id_column(q):
    # id_number instead of id_raw satisfies the [id_raw, id_number] alternative; status is derived from it
    v = q.validate_frame(medical().drop("id_status").rename({"id_raw": "id_number"}), "medical", reference_date=REF)
    assert v.success and outcome(v, "id_valid_rate").unexpected_count == 0
    # no ID column at all: the schema says which one is missing and the ID rate counts every ID as missing
    v = q.validate_frame(medical().drop("id_status", "id_raw"), "medical", reference_date=REF)
    assert "id_raw" in outcome(v, "schema").observed
    o = outcome(v, "id_valid_rate")
    assert not o.success and o.unexpected_count == N and "未填写 100 行" in o.description_zh


def test_value_set_violations_counted(q):
    few = ["急诊"] * 3 + ["住院"] * (N - 3)
    v = q.validate_frame(medical(visit_type=few), "medical", reference_date=REF)
    o = outcome(v, "value_set", "visit_type")
    assert o.success and o.unexpected_count == 3  # below the 5% tolerance: counted, not failing
    assert v.success

    many = ["急诊"] * 7 + ["家庭病床"] * 3 + ["住院"] * (N - 10)
    v = q.validate_frame(medical(visit_type=many), "medical", reference_date=REF)
    o = outcome(v, "value_set", "visit_type")
    assert not o.success and o.blocking and o.unexpected_count == 10
    assert "急诊" in o.description_zh and "住院、门诊慢特病、门诊" in o.description_zh
    assert not v.success


def test_range_warning_does_not_fail_suite(q):
    oop = [1000.0] * N
    oop[0], oop[1] = -5.0, 3_000_000.0
    v = q.validate_frame(medical(out_of_pocket=oop, total_cost=[5_000_000.0] * N), "medical", reference_date=REF)
    warn, gross = outcome(v, "range", "out_of_pocket"), outcome(v, "range_gross", "out_of_pocket")
    assert not warn.success and not warn.blocking and warn.unexpected_count == 2
    assert gross.success and gross.blocking
    assert v.success
    assert [w.key for w in v.warnings] == ["range:out_of_pocket"]
    assert "0–2,000,000" in warn.description_zh


def test_gross_range_violation_blocks(q):
    oop = [-1.0] * 20 + [1000.0] * (N - 20)
    v = q.validate_frame(medical(out_of_pocket=oop), "medical", reference_date=REF)
    assert not outcome(v, "range_gross", "out_of_pocket").success
    assert not v.success
    # the warning on the same column is not repeated next to the blocking failure
    assert "range:out_of_pocket" not in [w.key for w in v.warnings]


def test_future_dates_caught(q):
    dates = [dt.date(2026, 3, 1)] * (N - 5) + [dt.date(2026, 6, 1)] * 5
    v = q.validate_frame(medical(settle_date=pl.Series(dates, dtype=pl.Date)), "medical", reference_date=REF)
    o = outcome(v, "date_not_future", "settle_date")
    assert not o.success and o.blocking and o.unexpected_count == 5
    assert "2026-04-08" in o.description_zh and "2026-06-01" in o.description_zh
    assert not v.success
    # within the tolerance (reference date + 7 days) is fine
    near = [dt.date(2026, 4, 5)] * N
    v = q.validate_frame(medical(settle_date=pl.Series(near, dtype=pl.Date)), "medical", reference_date=REF)
    assert outcome(v, "date_not_future", "settle_date").success


def test_old_dates_warn_only(q):
    dates = [dt.date(2020, 1, 1)] * 10 + [dt.date(2026, 1, 1)] * (N - 10)
    v = q.validate_frame(medical(settle_date=pl.Series(dates, dtype=pl.Date)), "medical", reference_date=REF)
    o = outcome(v, "date_not_too_old", "settle_date")
    assert not o.success and not o.blocking and o.unexpected_count == 10
    assert v.success


def test_duplicate_rate_warns_then_blocks(q):
    keys = [f"k{i}" for i in range(90)] + [f"k{i}" for i in range(10)]
    v = q.validate_frame(medical(event_key=keys), "medical", reference_date=REF)
    warn, gross = outcome(v, "duplicate_rate"), outcome(v, "duplicate_rate_gross")
    assert warn.unexpected_count == 10 and not warn.success and gross.success and v.success
    keys = ["same"] * N
    v = q.validate_frame(medical(event_key=keys), "medical", reference_date=REF)
    gross = outcome(v, "duplicate_rate_gross")
    assert gross.unexpected_count == N - 1 and not gross.success and not v.success


def test_wrong_dtype_fails_column_type(q):
    v = q.validate_frame(medical(out_of_pocket=["1,000元"] * N), "medical", reference_date=REF)
    o = outcome(v, "column_type", "out_of_pocket")
    assert not o.success and o.blocking and "数值" in o.description_zh
    assert any(s.startswith("range:out_of_pocket") for s in v.skipped)
    assert not v.success


def test_empty_frame_passes_with_row_count_warning(q):
    v = q.validate_frame(medical().head(0), "medical", reference_date=REF)
    assert v.success and v.rows == 0
    assert [w.name for w in v.warnings] == ["row_count"]


# ---------------------------------------------------------------------------------------------- other feeds


def test_registry_passes_and_fails(q):
    v = q.validate_frame(registry(), "registry", reference_date=REF)
    assert v.success, [o for o in v.outcomes if not o.success]
    assert not v.warnings

    status = ["valid"] * (N - 2) + ["bad_checksum"] * 2  # 98% < 99%
    v = q.validate_frame(registry(id_status=status), "registry", reference_date=REF)
    assert not v.success and outcome(v, "id_valid_rate").unexpected_count == 2

    ht = ["脱贫户"] * 90 + ["贫困户"] * 10
    codes = ["450225105201"] * 99 + ["4502251052"]
    v = q.validate_frame(registry(household_type=ht, village_code=codes), "registry", reference_date=REF)
    assert outcome(v, "value_set", "household_type").unexpected_count == 10
    assert not outcome(v, "value_set", "household_type").success
    pat = outcome(v, "pattern", "village_code")
    assert pat.unexpected_count == 1 and pat.success  # 1 of 100: exactly at mostly 0.99
    assert not v.success

    dup = ids(N)
    dup[1] = dup[0]
    v = q.validate_frame(registry(id_number=dup), "registry", reference_date=REF)
    o = outcome(v, "duplicate_rate", "id_number")
    assert o.unexpected_count == 1 and not o.success and not o.blocking and "同一人" in o.description_zh
    assert v.success


def test_registry_relation_and_income_are_warnings(q):
    rel = ["户主"] * 90 + ["之表兄"] * 10
    inc = [9000.0] * 99 + [600_000.0]
    v = q.validate_frame(registry(relation=rel, per_capita_net_income=inc), "registry", reference_date=REF)
    assert v.success
    assert {w.key for w in v.warnings} == {"value_set:relation", "range:per_capita_net_income"}


def test_disaster_missing_ids_only_warn(q):
    n = 40
    df = pl.DataFrame(
        {
            "event_key": [f"d{i}" for i in range(n)],
            "name": ["王五"] * n,
            "id_raw": [None] * n,
            "id_status": ["missing"] * n,
            "county": ["融水苗族自治县"] * n,
            "township": ["三防镇"] * n,
            "village": ["三防村"] * n,
            "disaster_type": ["洪涝"] * n,
            "disaster_date": pl.Series([dt.date(2026, 2, 1)] * n, dtype=pl.Date),
            "house_damage": ["倒塌", "严重损坏", "一般损坏", "无"] * (n // 4),
            "direct_loss": pl.Series([8000.0] * n, dtype=pl.Float64),
        },
        schema_overrides={"id_raw": pl.String},
    )
    v = q.validate_frame(df, "disaster", reference_date=REF)
    o = outcome(v, "id_valid_rate")
    assert not o.success and not o.blocking and o.unexpected_count == n
    assert v.success
    # a file with the loss but no damage column is acceptable ([house_damage, direct_loss] alternatives)
    assert q.validate_frame(df.drop("house_damage"), "disaster", reference_date=REF).success
    assert not q.validate_frame(df.drop("house_damage", "direct_loss"), "disaster", reference_date=REF).success


@pytest.mark.parametrize("feed", ["civil_affairs", "employment", "property", "village"])
def test_other_feeds_clean_pass_and_bad_values_fail(q, feed):
    n = 40
    common = {
        "event_key": [f"e{i}" for i in range(n)],
        "name": ["赵六"] * n,
        "id_raw": ids(n),
        "id_status": ["valid"] * n,
    }
    d = pl.Series([dt.date(2026, 3, 1)] * n, dtype=pl.Date)
    frames = {
        "civil_affairs": (
            {
                **common,
                "aid_type": ["农村低保"] * n,
                "approved_on": d,
                "status": ["新增"] * n,
                "amount": pl.Series([500.0] * n),
            },
            "aid_type",
            "城市低保",
        ),
        "employment": (
            {**common, "event": ["返乡"] * n, "event_date": d, "previous_monthly_income": pl.Series([3000.0] * n)},
            "event",
            "退休",
        ),
        "property": ({**common, "property_type": ["车辆"] * n}, None, None),
        "village": (
            {
                "village_code": [f"4502251052{i:02d}" for i in range(n)],
                "village": ["村"] * n,
                "township": ["三防镇"] * n,
                "county": ["融水苗族自治县"] * n,
            },
            None,
            None,
        ),
    }
    data, bad_col, bad_value = frames[feed]
    v = q.validate_frame(pl.DataFrame(data), feed, reference_date=REF)
    assert v.success, [o for o in v.outcomes if not o.success]
    if bad_col:
        data = {**data, bad_col: [bad_value] * n}
        v = q.validate_frame(pl.DataFrame(data), feed, reference_date=REF)
        assert not outcome(v, "value_set", bad_col).success and not v.success


def test_unknown_feed_is_a_config_error(q):
    with pytest.raises(settings.ConfigError, match="known feeds"):
        q.validate_frame(medical(), "housing", reference_date=REF)


def test_thresholds_come_from_configuration(q, tmp_path: Path):
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    text = (settings.PACKAGED / "quality.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "id_valid_rate: {min: 0.60, blocking: true}\n    duplicate_key: event_key\n    date_window:\n"
        "      settle_date: {}",
        "id_valid_rate: {min: 0.10, blocking: true}\n    duplicate_key: event_key\n    date_window:\n"
        "      settle_date: {}",
        1,
    )
    (home / "config" / "quality.yaml").write_text(text, encoding="utf-8")
    status = ["valid"] * 20 + ["missing"] * 80
    assert not q.validate_frame(medical(id_status=status), "medical", reference_date=REF).success
    v = q.validate_frame(medical(id_status=status), "medical", reference_date=REF, home=home)
    assert v.success and "达到要求的 10%" in outcome(v, "id_valid_rate").description_zh


def test_outcomes_frame_and_metadata(q):
    v = q.validate_frame(medical(id_status=["missing"] * N), "medical", reference_date=REF)
    df = q.outcomes_frame(v)
    assert df.height == len(v.outcomes)
    assert df.schema["unexpected_count"] == pl.Int64 and df.schema["blocking"] == pl.Boolean
    row = df.filter(pl.col("name") == "id_valid_rate").row(0, named=True)
    assert row["unexpected_count"] == N and row["success"] is False and row["feed"] == "medical"
    md = q.check_metadata(v)
    assert md["rows"] == N and "id_valid_rate:id_status" in md["blocking_failed"]
    assert md["outcomes_md"].count("\n") == len(v.outcomes) + 1
    assert all(isinstance(x, (str, int, float)) for x in md.values())


def test_small_files_only_warn_on_shares(q):
    """3 of 6 IDs missing is 50%, but on six rows that says little: warn, don't block."""
    df = medical(6, id_status=["valid", "valid", "valid", "missing", "missing", "missing"])
    v = q.validate_frame(df, "medical", reference_date=REF)
    o = outcome(v, "id_valid_rate")
    assert not o.success and not o.blocking
    assert v.success
    big = medical(60, id_status=["valid"] * 30 + ["missing"] * 30)
    assert not q.validate_frame(big, "medical", reference_date=REF).success


def _fake_pyspark(root: Path) -> Path:
    """A stand-in ``pyspark`` package that records its import (the real one is an optional extra)."""
    pkg = root / "pyspark"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("import os\nopen(os.environ['FAKE_PYSPARK_MARK'], 'a').write('imported\\n')\n")
    return root / "imported.txt"


def test_gx_import_leaves_an_installed_pyspark_alone(tmp_path: Path):
    """With the spark extra installed, GX's import would import PySpark too (≈ 0.3 s, and PySpark's warnings in the
    clerks' console); a DuckDB round's GX import must not."""
    import os
    import subprocess
    import sys

    mark = _fake_pyspark(tmp_path)
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "FAKE_PYSPARK_MARK": str(mark), "PYTHONPATH": os.pathsep.join([str(tmp_path), str(root)])}
    code = "import sys; from quality import gx_runner; gx_runner.modules(); assert 'pyspark' not in sys.modules"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert not mark.exists()
    # the stand-in is importable: without the guard, GX would have imported it
    probe = subprocess.run([sys.executable, "-c", "import pyspark"], env=env, timeout=60)
    assert probe.returncode == 0 and mark.read_text() == "imported\n"


def test_pyspark_stays_importable_for_other_threads(tmp_path: Path, monkeypatch):
    import sys
    import threading

    from quality.gx_runner import _without_pyspark

    mark = _fake_pyspark(tmp_path)
    monkeypatch.setenv("FAKE_PYSPARK_MARK", str(mark))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "pyspark", raising=False)
    seen: list[str] = []
    try:
        with _without_pyspark():
            with pytest.raises(ModuleNotFoundError):
                import pyspark  # noqa: F401
            other = threading.Thread(target=lambda: seen.append(__import__("pyspark").__name__))
            other.start()
            other.join()
    finally:
        sys.modules.pop("pyspark", None)  # the stand-in must not stay for later tests (monkeypatch restores a real one)
    assert seen == ["pyspark"] and mark.read_text() == "imported\n"
