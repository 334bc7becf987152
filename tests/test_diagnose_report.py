"""The diagnose command end to end on synthetic runs: report.html/report.md sections and images,
`--apply --out NEW.yaml` loadable by `mtsft run -c`, and general perplexity measured with a model."""

from __future__ import annotations

import base64
import json
import re

import pytest
import yaml
from typer.testing import CliRunner

from mtsft.cli import app
from mtsft.diagnose.synthetic import write_synthetic_run

runner = CliRunner()
SECTIONS = ("summary", "uneven", "crosstalk", "format", "forgetting", "overfit", "levers")


def _diagnose(*args):
    result = runner.invoke(app, ["diagnose", *args, "--set", "crosstalk.judge=looks_like", "--no-perplexity"],
                           terminal_width=200)
    assert result.exit_code == 0, result.output
    return result


def test_report_has_every_section_and_embedded_plots(tmp_path):
    run = write_synthetic_run(tmp_path / "run", inject="crosstalk")
    out = _diagnose(str(run), "--report", str(tmp_path / "rep")).output
    assert "Crosstalk" in out and "fires" in out
    page = (tmp_path / "rep" / "report.html").read_text(encoding="utf-8")
    for section in SECTIONS:
        assert re.search(rf"id='{section}'", page), section
    images = re.findall(r"<img alt='([^']+)' src='data:image/png;base64,([A-Za-z0-9+/=]+)'>", page)
    alts = " | ".join(a for a, _ in images)
    for plot in ("base vs tuned", "heatmap", "violations", "forgetting", "loss curves"):
        assert plot in alts, plot
    for _, b64 in images:
        assert base64.b64decode(b64)[:8] == b"\x89PNG\r\n\x1a\n"
    assert "http://" not in page and "https://" not in page           # self-contained
    assert "crosstalk-ex1" in page                                      # the worst examples, linked
    md = (tmp_path / "rep" / "report.md").read_text(encoding="utf-8")
    for title in ("## Summary", "## Uneven performance", "## Crosstalk: fires", "## Format confusion",
                  "## Forgetting", "## Overfitting to frequent tasks", "## Levers", "### Worst examples"):
        assert title in md, title
    data = json.loads((tmp_path / "rep" / "diagnosis.json").read_text(encoding="utf-8"))
    assert data["fired"] == ["crosstalk"]


def test_the_report_names_its_inputs_relative_to_its_folder_not_by_machine_paths(tmp_path):
    # the shipped docs/report_demo.png showed /tmp/demo_run/eval_tuned: a report is shared, its paths are not
    run = write_synthetic_run(tmp_path / "run", inject="crosstalk")
    _diagnose(str(run.resolve()), "--report", str(tmp_path / "run" / "diagnose"))
    for name in ("report.html", "report.md"):
        text = (tmp_path / "run" / "diagnose" / name).read_text(encoding="utf-8")
        assert str(tmp_path) not in text, name
        assert "../" in text, name


def test_clean_report_says_nothing_to_change(tmp_path):
    run = write_synthetic_run(tmp_path / "run", variant=1)
    _diagnose(str(run))
    md = (run / "diagnose" / "report.md").read_text(encoding="utf-8")
    assert "No problem fired" in md and "fires" not in md


@pytest.mark.parametrize("inject", ["uneven.spread", "crosstalk", "forgetting.ppl", "overfit.gap"])
def test_apply_writes_a_run_config_that_mtsft_run_loads(tmp_path, inject):
    from mtsft.config import load_config
    from mtsft.run import RunConfig

    run = write_synthetic_run(tmp_path / "run", inject=inject)
    new = tmp_path / "new.yaml"
    _diagnose(str(run), "--apply", "--out", str(new))
    cfg = load_config(RunConfig, new)                                  # what `mtsft run -c new.yaml` does
    assert cfg.out == f"{run}_v2" and cfg.model == "tiny"
    assert cfg.train.epochs == 2.0                                     # kept from the run's training config
    if inject == "uneven.spread":
        w = cfg.curate.balance.weights
        assert cfg.curate.balance.strategy == "weights" and set(w) == {"code", "math", "translation",
                                                                         "summarization", "classification"}
        diagnosis = json.loads((run / "diagnose" / "diagnosis.json").read_text())
        table = {r["task"]: r["tuned"] for r in diagnosis["findings"][0]["table"]}
        kept = [json.loads(x)["task"] for x in (run / "curate" / "kept.jsonl").read_text().splitlines()]
        share = {t: kept.count(t) / len(kept) for t in w}
        worst = min(w, key=table.get)
        best = max(w, key=table.get)
        # the worst task's weight grows by levers.max_boost (2x) relative to the best task's
        assert (w[worst] / share[worst]) / (w[best] / share[best]) == pytest.approx(2.0, rel=0.01)
        assert diagnosis["levers"][0]["problem"] == "uneven"
    elif inject == "crosstalk":
        assert cfg.train.task_tags == "system"
        assert cfg.curate.balance.strategy == "weights"
    elif inject == "forgetting.ppl":
        assert cfg.train.lr == pytest.approx(1e-4)
    else:
        truth = json.loads((run / "truth.json").read_text())
        w = cfg.curate.balance.weights
        assert w[truth["target"]] < 0.25 * 0.75                         # the overfitting task is cut
    # the YAML names only what the run set plus the levers, not every default
    assert "dedup" not in (yaml.safe_load(new.read_text()).get("curate") or {})


def test_a_very_uneven_run_gets_a_focus_stage(tmp_path):
    from mtsft.config import load_config
    from mtsft.run import RunConfig

    run = write_synthetic_run(tmp_path / "run", inject="uneven.spread", level=1.5)
    new = tmp_path / "new.yaml"
    runner.invoke(app, ["diagnose", str(run), "--set", "crosstalk.judge=looks_like", "--no-perplexity",
                        "--set", "levers.staged_above=1.2", "--apply", "--out", str(new)])
    cfg = load_config(RunConfig, new)
    names = [s.name for s in cfg.train.stages]
    assert names == ["main", "focus"]
    focus = cfg.train.stages[1]
    assert focus.tasks and focus.replay == pytest.approx(0.1) and focus.lr == pytest.approx(1e-4)


def test_apply_needs_out_and_a_run_is_required(tmp_path):
    result = runner.invoke(app, ["diagnose"])
    assert result.exit_code == 2 and "error:" in result.output
    run = write_synthetic_run(tmp_path / "run")
    result = runner.invoke(app, ["diagnose", str(run), "--apply"])
    assert result.exit_code == 2 and "--out" in result.output


def test_general_perplexity_with_the_tiny_model(tokenizer, tiny_model):
    import torch

    from mtsft.diagnose.perplexity import general_texts, text_nll

    texts = ["The quick brown fox jumps over the lazy dog.", "今天天气很好，我们去公园散步吧。", "2 + 2 = 4"]
    a = text_nll(tiny_model, tokenizer, texts, batch_size=2)
    assert len(a["nll"]) == 3 and all(t > 0 for t in a["tokens"])
    assert 1.0 < a["ppl"] < 10 * len(tokenizer)                         # random weights: about the vocabulary
    alone = text_nll(tiny_model, tokenizer, texts[:1], batch_size=1)    # padding does not change a text's NLL
    assert alone["nll"][0] == pytest.approx(a["nll"][0], rel=1e-4)
    with torch.no_grad():
        for p in tiny_model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    b = text_nll(tiny_model, tokenizer, texts, batch_size=2)
    assert b["tokens"] == a["tokens"] and b["nll"] != a["nll"]
    assert len(general_texts(8)) in (0, 8)                               # the package's texts, when shipped


def test_forgetting_perplexity_measured_with_models(tmp_path):
    """general_perplexity loads base and tuned (here: the tiny model twice, so no change) on the same texts,
    and its output is what the forgetting check reads."""
    from mtsft.diagnose import DiagnoseConfig, diagnose_run
    from mtsft.diagnose.perplexity import general_perplexity, general_texts

    texts = general_texts(6) or ["A general sentence about the weather.", "一段关于天气的普通文字。"] * 3
    ppl = general_perplexity("tiny", None, texts=texts, max_length=64, log=lambda *_: None)
    assert ppl["base"]["nll"] == pytest.approx(ppl["tuned"]["nll"]) and ppl["texts"] == len(texts)
    run = write_synthetic_run(tmp_path / "run")
    (run / "perplexity.json").write_text(json.dumps(ppl))
    cfg = DiagnoseConfig()
    cfg.crosstalk.judge = "looks_like"
    check = diagnose_run(run, cfg=cfg, log=lambda *_: None).finding("forgetting").checks[0]
    assert check.name == "perplexity increase" and check.value == pytest.approx(0.0, abs=1e-6)
    assert check.status == "ok"


def test_apply_changes_the_runs_own_config_when_it_saved_one(tmp_path):
    """A run config found beside the run (or given with --run-config) is the one changed: its data, sizes
    and eval settings survive; only the levers' keys change."""
    from mtsft.config import load_config
    from mtsft.run import RunConfig

    run = write_synthetic_run(tmp_path / "run", inject="crosstalk")
    own = {"out": str(run), "model": "tiny", "data": ["my.jsonl"], "eval_n": 60, "real": False,
           "train": {"max_steps": 8, "task_tags": "none"}, "eval": {"max_new_tokens": 32}}
    (tmp_path / "own.yaml").write_text(yaml.safe_dump(own))
    for args in (["--run-config", str(tmp_path / "own.yaml")], []):
        if not args:
            (run / "config.yaml").write_text(yaml.safe_dump(own))
        new = tmp_path / "new.yaml"
        _diagnose(str(run), "--apply", "--out", str(new), *args)
        cfg = load_config(RunConfig, new)
        assert cfg.data == ["my.jsonl"] and cfg.eval_n == 60 and cfg.real is False
        assert cfg.train.max_steps == 8 and cfg.eval.max_new_tokens == 32
        assert cfg.train.task_tags == "system" and cfg.out == f"{run}_v2"


def test_forgetting_raises_the_run_configs_replay_share(tmp_path):
    from mtsft.config import load_config
    from mtsft.run import RunConfig

    run = write_synthetic_run(tmp_path / "run", inject="forgetting.ppl")
    (run / "config.yaml").write_text(yaml.safe_dump({"out": str(run), "model": "tiny", "real": False}))
    new = tmp_path / "new.yaml"
    _diagnose(str(run), "--apply", "--out", str(new))
    from mtsft.diagnose import DiagnoseConfig

    assert load_config(RunConfig, new).replay == pytest.approx(DiagnoseConfig().levers.replay)


def test_a_tiny_negative_prints_as_zero_not_minus_zero():
    from mtsft.diagnose.report import _ci, _fmt

    assert _fmt(-1e-9) == "0.000" and _fmt(-0.0004, pct=True) == "0.0%"
    assert _ci((-0.0, -1e-12)) == "[0.000, 0.000]"
    assert _fmt(-0.5) == "-0.500"
