"""The command line: help everywhere, and errors that name the problem and the fix."""

from __future__ import annotations

import pytest

from fangpin.cli import build_parser, main


@pytest.mark.parametrize("cmd", [[], ["generate"], ["screen"], ["ingest"], ["status"]])
def test_help_everywhere(cmd, capsys):
    with pytest.raises(SystemExit) as exc:
        main(cmd + ["--help"])
    assert exc.value.code == 0
    assert "--home" in capsys.readouterr().out or cmd == []


def test_screen_without_registry_says_what_to_do(tmp_path, capsys):
    code = main(["screen", "--round", "2026Q4", "--home", str(tmp_path / "empty")])
    err = capsys.readouterr().err
    assert code == 2
    assert "no registry files" in err and "fangpin generate" in err


def test_screen_with_a_bad_round_id(tmp_path, capsys):
    reg = tmp_path / "landing" / "registry"
    reg.mkdir(parents=True)
    (reg / "x.csv").write_text("户编号\n", encoding="utf-8")
    code = main(["screen", "--round", "2026Q9", "--home", str(tmp_path)])
    assert code == 2
    assert "2026Q4" in capsys.readouterr().err


def test_screen_for_a_year_without_monitoring_line(tmp_path, capsys):
    reg = tmp_path / "landing" / "registry"
    reg.mkdir(parents=True)
    (reg / "x.csv").write_text("户编号\n", encoding="utf-8")
    code = main(["screen", "--round", "2031Q2", "--home", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert "monitoring_line" in err and "2031" in err


def test_status_on_a_new_home(tmp_path, capsys):
    assert main(["status", "--home", str(tmp_path / "nothing")]) == 0
    assert "does not exist yet" in capsys.readouterr().out


def test_generate_refuses_to_overwrite_without_force(tmp_path, capsys):
    assert main(["generate", "--size", "tiny", "--home", str(tmp_path)]) == 0
    assert main(["generate", "--size", "tiny", "--home", str(tmp_path)]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["generate", "--size", "tiny", "--home", str(tmp_path), "--force"]) == 0


def test_parser_lists_the_commands():
    text = build_parser().format_help()
    for cmd in ("generate", "screen", "ingest", "status"):
        assert cmd in text


def test_the_fangpin_command_passes_on_output_and_exit_code(tmp_path):
    """The installed ``fangpin`` command is ``fangpin.cli:console`` (main, then a quick exit): what it prints and its
    exit code must be main's."""
    import subprocess
    import sys
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    assert (
        tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]["fangpin"]
        == "fangpin.cli:console"
    )
    run = lambda *a: subprocess.run(  # noqa: E731
        [sys.executable, "-c", "import sys; from fangpin.cli import console; sys.exit(console())", *a],
        capture_output=True,
        text=True,
        cwd=root,
    )
    ok = run("status", "--home", str(tmp_path / "new"))
    assert ok.returncode == 0 and ok.stdout.strip()
    bad = run("screen", "--round", "2026Q4", "--home", str(tmp_path / "new"))
    assert bad.returncode == 2 and "fangpin generate" in bad.stderr, "the error and its fix reach the clerk"
