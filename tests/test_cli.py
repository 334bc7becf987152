"""The CLI as a new user meets it: help, one-line errors, honest stubs."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from mtsft.cli import app

runner = CliRunner()


def listed_commands(args):
    """Command names in the first column of the help's command panel."""
    out = runner.invoke(app, args, terminal_width=120).output
    return {line.split()[1] for line in out.splitlines() if line.startswith("│ ") and len(line.split()) > 2}


def test_help_lists_every_command_group():
    expected = {"data", "train", "eval", "diagnose", "iterate", "chat", "serve", "export", "run"}
    assert expected <= listed_commands(["--help"])


def test_data_help_lists_its_commands():
    assert {"synth", "import", "analyze", "curate", "classify"} <= listed_commands(["data", "--help"])


def test_import_prints_accounting_and_writes_summary(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"instruction": "q", "output": "a"}\n{broken\n')
    result = runner.invoke(app, ["data", "import", str(src), "--out", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 0, result.output
    assert "total" in result.output
    summary = json.loads((tmp_path / "o.summary.json").read_text())
    assert summary["inputs"] == summary["kept"] + summary["rejected"] == 2


def test_strict_import_exits_2_on_any_rejection(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{broken\n')
    result = runner.invoke(app, ["data", "import", str(src), "--out", str(tmp_path / "o.jsonl"), "--strict"])
    assert result.exit_code == 2


def test_missing_input_is_one_line_error_not_traceback(tmp_path):
    result = runner.invoke(app, ["data", "import", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 2
    assert "error:" in result.output and "Traceback" not in result.output


def test_no_command_is_a_stub_any_more():
    for command in ("diagnose", "iterate", "chat", "serve", "export"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0 and "not built" not in result.output, command
