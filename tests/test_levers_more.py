"""Issue 30.4, a lever for every verdict: each new lever on a synthetic run with its problem injected. The
config `diagnose --apply` writes changes exactly as stated, and the changed config changes what curation
or training makes of the data (the records added, the prompts rewritten, the rows drawn)."""

from __future__ import annotations

import pytest
import yaml
from typer.testing import CliRunner

from mtsft.cli import app
from mtsft.config import load_config
from mtsft.data.balance import balance_round
from mtsft.diagnose.synthetic import write_synthetic_run
from mtsft.records import read_records, response
from mtsft.run import RunConfig

runner = CliRunner()
# the synthetic run's injected task (write_synthetic_run's `target`) in two of its variants; its share of
# the mixture is 0.25, so a lever's registry records come to 0.25 x levers.hard_negatives (0.25) = 0.0625
TRANSLATION, CLASSIFICATION, CODE = 4, 0, 3
LEVER_SHARE = 0.0625


def _applied(run, tmp_path) -> RunConfig:
    new = tmp_path / "new.yaml"
    result = runner.invoke(app, ["diagnose", str(run), "--set", "crosstalk.judge=looks_like", "--no-perplexity",
                                 "--apply", "--out", str(new)], terminal_width=200)
    assert result.exit_code == 0, result.output
    return load_config(RunConfig, new)                      # what `mtsft run -c new.yaml` does


def _balanced(run, cfg: RunConfig) -> list[dict]:
    """The run's training mixture balanced under the new config: what curation's balance round keeps."""
    return balance_round(read_records(run / "curate" / "kept.jsonl"), cfg.curate.balance, seed=0).kept


def _encoded(records, tokenizer, train_cfg):
    from mtsft.train.examples import Encoded

    return Encoded(records, tokenizer, train_cfg, sorted({r["task"] for r in records}))


def test_crosstalk_adds_hard_negatives_of_the_crossed_pair(tmp_path):
    run = write_synthetic_run(tmp_path / "run", inject="crosstalk", variant=TRANSLATION)   # translation -> open_qa
    cfg = _applied(run, tmp_path)
    assert cfg.curate.balance.hard_negatives == {"translation>open_qa": LEVER_SHARE}
    assert cfg.train.stages is None                         # tags were off: the staged schedule waits for them
    kept = _balanced(run, cfg)
    added = [r for r in kept if r["meta"].get("upsampled", {}).get("how") == "hard_negative"]
    originals = [r for r in kept if "upsampled" not in r["meta"]]
    assert len(added) == round(LEVER_SHARE * (len(kept) - len(added))) > 0
    assert all(r["task"] == "translation" and r["meta"]["hard_negative_of"] == "open_qa" for r in added)
    assert not any("hard_negative_of" in r["meta"] for r in originals)


def test_a_crossed_pair_the_registry_cannot_draw_stays_advice(tmp_path):
    import json

    run = write_synthetic_run(tmp_path / "run", inject="crosstalk", variant=CODE)   # code -> open_qa
    cfg = _applied(run, tmp_path)
    assert cfg.curate.balance.hard_negatives == {}          # no code prompt of the registry reads like open_qa
    lever = next(lv for lv in json.loads((run / "diagnose" / "diagnosis.json").read_text())["levers"]
                 if lv["problem"] == "crosstalk")
    assert "code whose content reads like open_qa" in lever["advice"]
    assert not any(c["path"] == "curate.balance.hard_negatives" for c in lever["changes"])


def test_crosstalk_with_task_tags_on_adds_the_staged_schedule(tmp_path):
    from mtsft.train.epochs import epoch_draws

    run = write_synthetic_run(tmp_path / "run", inject="crosstalk", variant=TRANSLATION)
    (run / "config.yaml").write_text(yaml.safe_dump({"out": str(run), "model": "tiny", "real": False,
                                                     "train": {"task_tags": "system", "lr": 4e-4}}))
    cfg = _applied(run, tmp_path)
    stages = cfg.train.stages
    assert [s.name for s in stages] == ["mixed", "grouped", "hard"]
    assert [s.order for s in stages] == ["shuffled", "grouped", "shuffled"]
    assert stages[1].lr == pytest.approx(2e-4) and stages[2].lr == pytest.approx(1e-4)   # the recipe's, x2
    assert stages[2].tasks == ["translation"] and stages[2].families is None and stages[2].replay == 0.05
    # training follows it: the hard stage draws the crossed task, the others only as its replay
    tasks = [r["task"] for r in read_records(run / "curate" / "kept.jsonl")]
    hard = cfg.train.stage_list()[2]
    drawn = [tasks[i] for group in epoch_draws(tasks, hard, seed=0, epoch=0) for i, _ in group]
    assert drawn.count("translation") == tasks.count("translation")
    assert len(drawn) - drawn.count("translation") == round(0.05 * tasks.count("translation"))


def test_format_adds_format_exemplars_of_the_violating_task(tmp_path):
    from mtsft import tasks

    run = write_synthetic_run(tmp_path / "run", inject="format", variant=TRANSLATION)
    cfg = _applied(run, tmp_path)
    assert cfg.curate.balance.format_exemplars == {"translation": LEVER_SHARE}
    assert cfg.train.label_list is False                    # translation is no label task
    kept = _balanced(run, cfg)
    added = [r for r in kept if r["meta"].get("upsampled", {}).get("how") == "format_exemplar"]
    assert len(added) == round(LEVER_SHARE * (len(kept) - len(added))) > 0
    checker = tasks.get("translation")
    assert all(r["task"] == "translation" and not checker.format_violations(response(r), r) for r in added)


def test_format_on_a_label_task_puts_the_label_list_in_its_prompts(tmp_path, tokenizer):
    run = write_synthetic_run(tmp_path / "run", inject="format", variant=CLASSIFICATION)
    cfg = _applied(run, tmp_path)
    assert cfg.train.label_list is True
    assert cfg.curate.balance.format_exemplars == {"classification": LEVER_SHARE}
    # a review whose request names no label: training sees the registry's label list appended
    review = {"id": "r1", "task": "classification", "lang": "en", "reference": {"label": "negative"},
              "messages": [{"role": "user", "content": "What do you make of this review? It broke in a day."},
                           {"role": "assistant", "content": "negative"}]}
    chat = {"id": "c1", "task": "chitchat", "lang": "en", "reference": None,
            "messages": [{"role": "user", "content": "Hi there, how are you?"},
                         {"role": "assistant", "content": "Fine, thanks."}]}
    for label_list, listed in ((False, False), (True, True)):
        train_cfg = cfg.train.model_copy(update={"label_list": label_list, "task_tags": "none"})
        texts = [tokenizer.decode(e["input_ids"]) for e in _encoded([review, chat], tokenizer, train_cfg).examples]
        assert ("Answer with one of: positive, negative." in texts[0]) is listed
        assert "Answer with one of" not in texts[1]


def test_overfitting_caps_the_memorising_tasks_epochs(tmp_path, tokenizer):
    from mtsft.train.examples import stage_rows

    run = write_synthetic_run(tmp_path / "run", inject="overfit.gap", variant=TRANSLATION)
    cfg = _applied(run, tmp_path)
    assert cfg.train.max_task_epochs == {"translation": 1.0}   # 2 epochs x levers.cut 0.5
    records = [{"id": f"{t}-{i}", "task": t, "lang": "en",
                "messages": [{"role": "user", "content": f"{t} request {i}"}, {"role": "assistant", "content": "ok"}]}
               for t in ("translation", "math") for i in range(6)]
    counts = {}
    for caps in ({}, cfg.train.max_task_epochs):
        train_cfg = cfg.train.model_copy(update={"max_task_epochs": caps, "batching": "padded"})
        encoded = _encoded(records, tokenizer, train_cfg)
        rows, per_epoch = stage_rows(encoded, train_cfg.stage_list()[0], train_cfg, 0)
        names = sorted({r["task"] for r in records})
        counts[bool(caps)] = [names[row["task_ids"][0]] for row in rows]
        assert per_epoch == 12                             # epoch 0 whole either way
    assert counts[False].count("translation") == 12        # two epochs of 6
    assert counts[True].count("translation") == 6          # one epoch: the second draws none of it
    assert counts[True].count("math") == counts[False].count("math") == 12
