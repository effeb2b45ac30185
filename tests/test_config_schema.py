"""Configuration is checked when it is loaded (issue 14 item 4): a wrong value is one line naming the file, the key and
what is expected — through fangpin.settings.load for every reader, and on the command line with exit code 2 and no
traceback, before any run starts."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from fangpin import config_schema, settings
from fangpin.cli import main
from fangpin.settings import PACKAGED, ConfigError

KEY = "regions.4502.2026.monitoring_line"
LINE_2026 = "      monitoring_line: 9000 "


def _override(home: Path, name: str, old: str, new: str) -> Path:
    text = (PACKAGED / f"{name}.yaml").read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur once in the packaged {name}.yaml"
    path = home / "config" / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def _error(home: Path, name: str) -> str:
    with pytest.raises(ConfigError) as info:
        settings.load(name, home)
    msg = str(info.value)
    assert "\n" not in msg, f"a configuration error is one line: {msg!r}"
    return msg


@pytest.mark.parametrize("value", ["-9000", "0", "九千元", '"9,000"', "9000元", "null"])
def test_a_monitoring_line_that_is_not_a_positive_number_names_file_and_key(tmp_path, value):
    path = _override(tmp_path, "rules", LINE_2026, f"      monitoring_line: {value} ")
    msg = _error(tmp_path, "rules")
    assert str(path) in msg and KEY in msg and "大于 0 的数" in msg, msg
    # every reader goes through the same check, so the rules engine cannot run on it either
    with pytest.raises(ConfigError, match=re.escape(KEY)):
        settings.rules_for("450225", 2026, tmp_path)


def test_a_yaml_syntax_error_gives_file_line_and_column(tmp_path):
    path = _override(tmp_path, "rules", LINE_2026, "      monitoring_line 9000 ")
    lines = path.read_text(encoding="utf-8").splitlines()
    broken = next(i for i, line in enumerate(lines, start=1) if line.startswith("      monitoring_line 9000"))
    msg = _error(tmp_path, "rules")
    assert str(path) in msg and "YAML" in msg, msg
    # PyYAML notices the missing colon on the line after it: the message points there and says to look above
    assert f"第 {broken + 1} 行" in msg and "上一行" in msg, msg


@pytest.mark.parametrize(
    ("name", "old", "new", "key", "expected"),
    [
        (
            "rules",
            "severe_hardship_share: 0.5 ",
            "severe_hardship_share: 1.5 ",
            "defaults.severe_hardship_share",
            "不大于 1",
        ),
        ("rules", "lost_wage_months: 6 ", "lost_wage_months: 0 ", "defaults.lost_wage_months", "不小于 1 的整数"),
        ("rules", "lost_wage_months: 6 ", "lost_wage_months: 2.5 ", "defaults.lost_wage_months", "整数"),
        ("rules", "decision_days: 15 ", "decision_days: fifteen ", "deadlines.decision_days", "整数"),
        ("rules", '  "4502":\n', '  "45O2":\n', "regions.45O2", "4 位市代码或 6 位县代码"),
        ("routing", "因学: [education]", "因学: [educaton]", "risk_types.因学[0]", "departments"),
        ("linkage", "accept: 0.80 ", "accept: 0.05 ", "decide.review", "decide.accept"),
        ("linkage", "m_exact: 0.88", "m_exact: 1.0", "name.m_exact", "小于 1"),
        (
            "quality",
            "min: 0.60\n    blocking: true",
            "min: 60\n    blocking: true",
            "defaults.id_valid_rate.min",
            "不大于 1",
        ),
        (
            "quality",
            "village_code: {regex: '^\\d{12}$', mostly: 0.99",
            "village_code: {regex: '^(\\d{12}$', mostly: 0.99",
            "feeds.registry.patterns.village_code.regex",
            "正则表达式",
        ),
        ("aliases", "sex: [性别]", "sex: 性别", "feeds.registry.fields.sex", "列表"),
    ],
)
def test_values_out_of_type_or_range_are_named(tmp_path, name, old, new, key, expected):
    path = _override(tmp_path, name, old, new)
    msg = _error(tmp_path, name)
    assert str(path) in msg and key in msg and expected in msg, msg


def test_the_packaged_files_pass_and_unknown_keys_are_allowed(tmp_path):
    assert {p.name for p in settings.check_all()} >= {f"{n}.yaml" for n in config_schema.SCHEMAS}
    # a helper may add a key to a file before the schema knows it
    _override(tmp_path, "rules", "  lost_wage_months: 6 ", "  new_rule_threshold: [anything]\n  lost_wage_months: 6 ")
    assert settings.load("rules", tmp_path)["defaults"]["new_rule_threshold"] == ["anything"]


def test_a_new_file_is_checked_once_registered(tmp_path, monkeypatch):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "retention.yaml").write_text("keep_months: -1\n", encoding="utf-8")
    assert settings.load("retention", tmp_path) == {"keep_months": -1}  # unregistered: only YAML and a mapping
    monkeypatch.setitem(
        config_schema.SCHEMAS,
        "retention",
        config_schema.Schema(config_schema.Struct({"keep_months": config_schema.Int()})),
    )
    stamp = (tmp_path / "config" / "retention.yaml").stat().st_mtime + 1
    os.utime(tmp_path / "config" / "retention.yaml", (stamp, stamp))  # a changed file is read again
    assert "keep_months 应为不小于 1 的整数" in _error(tmp_path, "retention")
    # and check_all (what the command line runs before a round) reads files only a home has
    with pytest.raises(ConfigError, match="retention.yaml"):
        settings.check_all(tmp_path)


@pytest.mark.parametrize(
    ("command", "value"),
    [(["screen", "--round", "2026Q4"], "-9000"), (["ingest"], "9,000"), (["screen", "--round", "2026Q4"], "9000:")],
)
def test_the_command_line_prints_one_line_and_exits_2(tmp_path, capsys, command, value):
    (tmp_path / "landing" / "registry").mkdir(parents=True)
    (tmp_path / "landing" / "registry" / "名册.csv").write_text("户编号\n", encoding="utf-8")
    path = _override(tmp_path, "rules", LINE_2026, f"      monitoring_line: {value} ")
    code = main([*command, "--home", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 2
    assert "Traceback" not in err and out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert str(path) in err, err
    assert (KEY in err) or ("YAML" in err), err
    # nothing ran: no warehouse, no Dagster run
    assert not (tmp_path / "warehouse" / "fangpin.duckdb").exists()
