"""One CLI grammar (issue 31.3): every command's `--help` shows `-o/--out`, `-c/--config` and `--set` unless it
is exempt for a stated reason; old flag and key spellings keep working; progress lines carry no Rich markup
into a plain log."""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
from types import SimpleNamespace

import pytest
import typer
from typer.testing import CliRunner

from mtsft.cli import app

runner = CliRunner()

# Commands that write nothing a path could name.
NO_OUT = {
    "chat": "answers go to the terminal, or one JSON line each to stdout; /save names its own file",
    "serve": "answers go to HTTP clients; it writes no file",
}
# Commands without a config class: their few flags are the whole setting, there is nothing to keep in a file.
NO_CONFIG = {
    "data synth": "--n, --seed, --lang, --clean and --eval are the whole setting of the generator",
    "data import": "its flags describe the input files (format, column mapping), not a setting to keep",
    "data analyze": "a read-only measurement with two switches (--tokenizer, --near)",
    "eval score": "scores a file with each task's own verifier: nothing to set",
    "export": "the run it exports carries its own config",
}


def leaf_commands(command=None, path=()):
    """(path, click command) for every command, walking groups recursively."""
    command = command or typer.main.get_command(app)
    if isinstance(getattr(command, "commands", None), dict):
        for name, sub in sorted(command.commands.items()):
            yield from leaf_commands(sub, (*path, name))
    else:
        yield path, command


COMMANDS = {" ".join(path): path for path, _ in leaf_commands()}


def help_flags(path) -> set[str]:
    """The option flags a command's --help lists (the first column of its option rows)."""
    result = runner.invoke(app, [*path, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    flags = set()
    for line in result.output.splitlines():
        row = re.match(r"^[│|]?\s*\*?\s*((?:--?[\w-]+\s+)+)", line)
        if row:
            flags |= set(row.group(1).split())
    return flags


def test_the_walk_sees_every_command_and_the_exemptions_name_real_ones():
    assert {"data synth", "data curate", "train", "export", "eval run", "eval score", "diagnose", "iterate",
            "run", "chat", "serve"} <= set(COMMANDS)
    assert set(NO_OUT) <= set(COMMANDS) and set(NO_CONFIG) <= set(COMMANDS)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_help_shows_out_config_and_set(name):
    flags = help_flags(COMMANDS[name])
    if name not in NO_OUT:
        assert {"-o", "--out"} <= flags, f"{name}: no -o/--out in --help ({sorted(flags)})"
    else:
        assert "--out" not in flags, f"{name} writes to --out now: drop its exemption"
    if name not in NO_CONFIG:
        assert {"-c", "--config", "--set"} <= flags, f"{name}: no -c/--config or --set in --help ({sorted(flags)})"


def test_out_means_one_kind_of_thing_per_family():
    """Every --out's help starts by saying what it is: a file or a folder, and which."""
    for path, command in leaf_commands():
        name = " ".join(path)
        out = next((p for p in command.params if "--out" in getattr(p, "opts", [])), None)
        if out is not None:
            assert re.match(r"Output (file|folder)\b", out.help or ""), f"{name}: --out help {out.help!r}"


def test_held_out_files_are_eval_data_for_curate_as_for_run():
    assert "--eval-data" in help_flags(("data", "curate")) and "--eval-data" in help_flags(("run",))
    assert "--eval" not in help_flags(("data", "curate"))      # the old spelling is hidden
    assert "--eval" in help_flags(("data", "synth"))           # synth's --eval is a flag of its own
    assert "--difficulty-model" in help_flags(("data", "curate"))


def test_the_tag_setting_has_one_name():
    for name in ("chat", "serve", "eval run"):
        assert "--task-tags" in help_flags(COMMANDS[name]), name


# ---- old spellings keep working, with a warning --------------------------------------------------------------

@pytest.fixture
def curated(monkeypatch):
    """`mtsft data curate` up to the call of the chain: what it would curate with."""
    import mtsft.data.curate as curate

    calls = {}

    def fake(inputs, cfg, out, *, eval_files, log):
        calls.update(cfg=cfg, eval_files=eval_files)
        return SimpleNamespace(inputs=0, kept=[], upsampled=0, rejected=[], review=[], checks=[], ok=True)

    monkeypatch.setattr(curate, "curate_files", fake)
    return calls


def test_curate_eval_data_and_difficulty_model_reach_the_chain(curated, tmp_path):
    r = runner.invoke(app, ["data", "curate", "in.jsonl", "-o", str(tmp_path / "o"), "--eval-data", "a.jsonl",
                            "--eval-data", "b.jsonl", "--difficulty-model", "tiny"])
    assert r.exit_code == 0, r.output
    assert curated["eval_files"] == ["a.jsonl", "b.jsonl"] and curated["cfg"].difficulty_model == "tiny"
    assert "deprecated" not in r.output


def test_curate_old_eval_and_model_spellings_still_work_with_a_warning(curated, tmp_path):
    r = runner.invoke(app, ["data", "curate", "in.jsonl", "-o", str(tmp_path / "o"), "--eval", "a.jsonl",
                            "--model", "tiny"])
    assert r.exit_code == 0, r.output
    assert curated["eval_files"] == ["a.jsonl"] and curated["cfg"].difficulty_model == "tiny"
    warnings = [line for line in r.output.splitlines() if line.startswith("warning:")]
    assert warnings == ["warning: --eval is deprecated: use --eval-data",
                        "warning: --model is deprecated: use --difficulty-model"]


def test_analyze_writes_its_page_to_out_and_html_still_works(tmp_path):
    from mtsft.records import write_jsonl

    data = tmp_path / "in.jsonl"
    write_jsonl(data, [{"id": f"r{i}", "task": "open_qa", "lang": "en", "messages": [
        {"role": "user", "content": f"question {i}?"}, {"role": "assistant", "content": f"answer {i}"}]}
        for i in range(3)])
    r = runner.invoke(app, ["data", "analyze", str(data), "--no-near", "-o", str(tmp_path / "a.html")])
    assert r.exit_code == 0 and (tmp_path / "a.html").is_file(), r.output
    r = runner.invoke(app, ["data", "analyze", str(data), "--no-near", "--html", str(tmp_path / "b.html")])
    assert r.exit_code == 0 and (tmp_path / "b.html").is_file(), r.output
    assert "warning: --html is deprecated: use -o/--out" in r.output


def test_old_config_keys_still_load_under_their_new_names(tmp_path):
    """Earlier runs' config.yaml hold eval.tag_mode and curate.model."""
    from mtsft.config import load_config
    from mtsft.eval.evaluate import EvalRunConfig
    from mtsft.run import RunConfig

    saved = tmp_path / "config.yaml"
    saved.write_text("eval:\n  tag_mode: system\ncurate:\n  model: tiny\n")
    cfg = load_config(RunConfig, saved)
    assert cfg.eval.task_tags == "system" and cfg.curate.difficulty_model == "tiny"
    assert load_config(EvalRunConfig, None, ["task_tags=prefix"]).task_tags == "prefix"
    dumped = cfg.model_dump(mode="json", by_alias=True)
    assert dumped["eval"]["task_tags"] == "system" and "tag_mode" not in dumped["eval"]
    assert dumped["curate"]["difficulty_model"] == "tiny" and "model" not in dumped["curate"]


# ---- chat and serve take --config and --set ------------------------------------------------------------------

@pytest.fixture
def served(monkeypatch):
    import mtsft.serve.api as api
    import mtsft.serve.session as session

    calls = {}
    monkeypatch.setattr(session, "load", lambda *a, **k: calls.update(load=k) or "loaded")
    monkeypatch.setattr(api, "serve", lambda loaded, **kw: calls.update(kw))
    monkeypatch.delenv("MTSFT_API_KEY", raising=False)
    return calls


def test_serve_reads_its_config_file_then_set_then_flags(served, tmp_path):
    recipe = tmp_path / "serve.yaml"
    recipe.write_text("max_batch: 8\nport: 9000\ntask_tags: system\nallow_host: [chat.example.com]\n")
    r = runner.invoke(app, ["serve", "-c", str(recipe), "--set", "max_queue=7", "--port", "9001"])
    assert r.exit_code == 0, r.output
    assert (served["max_batch"], served["max_pending"], served["port"]) == (8, 7, 9001)
    assert served["allowed_hosts"] == ("chat.example.com",) and served["load"]["task_tags"] == "system"


def test_serve_config_typo_is_one_line_naming_the_file(served, tmp_path):
    recipe = tmp_path / "serve.yaml"
    recipe.write_text("max_bacth: 8\n")
    r = runner.invoke(app, ["serve", "-c", str(recipe)])
    assert r.exit_code == 2 and "unknown key 'max_bacth'" in r.output and str(recipe) in r.output
    assert "port" not in served


def test_chat_takes_config_and_set(monkeypatch, tmp_path):
    import mtsft.serve.chat as chat
    import mtsft.serve.session as session

    seen = {}
    monkeypatch.setattr(session, "load", lambda *a, **k: seen.update(load=k) or "loaded")
    monkeypatch.setattr(chat, "run_script", lambda s, stdin, show_task: seen.update(session=s, show=show_task) or 0)
    recipe = tmp_path / "chat.yaml"
    recipe.write_text("temperature: 0.7\nshow_task: true\nsystem: be brief\n")
    r = runner.invoke(app, ["chat", "-c", str(recipe), "--set", "max_new_tokens=9", "--task-tags", "prefix"])
    assert r.exit_code == 0, r.output
    s = seen["session"]
    assert (s.temperature, s.max_new_tokens, s.system, seen["show"]) == (0.7, 9, "be brief", True)
    assert seen["load"]["task_tags"] == "prefix"


# ---- progress lines: markup on a terminal, plain text elsewhere ----------------------------------------------

def _log_in_child(env_extra: dict) -> str:
    code = "from mtsft.logs import print_log; print_log('[bold cyan]== eval_seen[/]')"
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE")}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**env, **env_extra}, check=True).stdout


def test_a_plain_log_prints_no_markup_and_a_terminal_gets_colour():
    assert _log_in_child({}) == "== eval_seen\n"                 # a pipe, as `mtsft iterate > log` writes
    coloured = _log_in_child({"FORCE_COLOR": "1"})                # what a terminal gets
    assert "\x1b[" in coloured and "== eval_seen" in coloured and "[bold cyan]" not in coloured


@pytest.mark.parametrize("entry", ["run_pipeline", "iterate"])
def test_the_stage_log_by_default_strips_markup_in_a_plain_log(capsys, tmp_path, entry):
    """`mtsft iterate` runs each version's pipeline in a child with run_pipeline's default log: it printed
    `[bold cyan]== eval_seen[/]` literally into a non-tty log."""
    from mtsft.iterate import iterate
    from mtsft.run import run_pipeline, run_stage

    log = inspect.signature({"run_pipeline": run_pipeline, "iterate": iterate}[entry]).parameters["log"].default
    run_stage(tmp_path, "eval_seen", {}, [], lambda folder: {}, force=False, log=log)
    out = capsys.readouterr().out
    assert "== eval_seen" in out and "[bold cyan]" not in out and "[/]" not in out
