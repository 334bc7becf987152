"""`mtsft export`: the model card (front matter, tasks, mixture, config, this run's eval scores) and GGUF."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml

from mtsft.export import export_gguf, export_run, find_scores, model_card

TASKS = ("translation", "math", "open_qa")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A 2-step LoRA run of the tiny model, trained with system task tags on three tasks."""
    from mtsft.train.config import load_train_config
    from mtsft.train.loop import train

    root = tmp_path_factory.mktemp("exp")
    data = root / "data.jsonl"
    with open(data, "w", encoding="utf-8") as f:
        for i in range(30):
            task = TASKS[i % 3]
            lang = "zh" if i % 2 else "en"
            f.write(json.dumps({"id": str(i), "messages": [{"role": "user", "content": f"{task} q{i}"},
                                                           {"role": "assistant", "content": f"a{i}"}],
                                "task": task, "lang": lang, "source": "t", "reference": None, "meta": {}}) + "\n")
    cfg = load_train_config(None, ["model=tiny", "precision=fp32", "threads=1", "max_length=64", "batch_size=2",
                                   "report_to=[]", "eval.fraction=0.2", "max_steps=2", "task_tags=system",
                                   f"data={data}", f"out={root / 'run'}"])
    train(cfg, log=lambda *_: None)
    return root / "run"


def write_scores(folder, adapter, suite="builtin", score=0.25):
    folder.mkdir(parents=True, exist_ok=True)
    tasks = {t: {"n": 4, "score": score + i / 10, "format_ok": 0.75, "metric": m, "ci95": [0.1, 0.6]}
             for i, (t, m) in enumerate(zip(TASKS, ("chrF (sacrebleu)", "gsm8k exact match", "SQuAD F1")))}
    data = {"tasks": tasks, "overall": {"n": 12, "score": score, "format_ok": 0.75},
            "run": {"model": "tiny", "adapter": str(adapter), "suites": [suite], "tag_mode": "system", "records": 12}}
    (folder / "scores.json").write_text(json.dumps(data), encoding="utf-8")
    return folder / "scores.json"


def front_matter(text):
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])


def test_card_lists_base_tasks_mixture_config_and_this_runs_scores(run, tmp_path):
    write_scores(run / "eval" / "builtin", run, score=0.25)
    other = write_scores(run.parent / "other_eval" / "builtin", run.parent / "someone_else", score=0.9)
    card = model_card(run, merged=True)
    meta = front_matter(card)
    assert meta["library_name"] == "transformers" and meta["pipeline_tag"] == "text-generation"
    assert {"mtsft", "lora", "merged"} <= set(meta["tags"]) and set(meta["language"]) == {"en", "zh"}
    results = meta["model-index"][0]["results"]
    got = {r["task"]["name"]: (r["metrics"][0]["type"], r["metrics"][0]["value"]) for r in results}
    assert got == {"translation": ("chrF (sacrebleu)", 0.25), "math": ("gsm8k exact match", 0.35),
                   "open_qa": ("SQuAD F1", 0.45)}  # this run's eval, not the other run's 0.9
    assert "| translation | chrF (sacrebleu) | 4 | 0.250 | 0.100–0.600 | 75% |" in card
    assert "| math | 10 | 33.3% |" in card  # the data mixture, counted from the run's data file
    assert "| task_tags | system |" in card and "r=16" in card
    assert "task tags" in card.lower() and "Task: translation" in card
    assert str(other) not in card


def test_newest_eval_of_the_run_wins_and_scores_flag_overrides(run, tmp_path):
    old = write_scores(run / "eval_a" / "builtin", run, score=0.1)
    new = write_scores(run / "eval_b" / "builtin", run, score=0.5)
    os.utime(old, (1, 1))
    assert find_scores(run)["builtin"][0] == new
    explicit = write_scores(tmp_path / "mine" / "real", "/not/this/run", suite="real", score=0.05)
    assert list(find_scores(run, tmp_path / "mine")) == ["real"]
    assert find_scores(run, explicit)["real"][1]["overall"]["score"] == 0.05
    with pytest.raises(FileNotFoundError):
        find_scores(run, tmp_path / "nothing")


def test_card_without_eval_says_how_to_get_one(run, tmp_path):
    bare = tmp_path / "bare"
    shutil.copytree(run, bare, ignore=shutil.ignore_patterns("eval*"))
    card = model_card(bare, merged=False)
    assert "model-index" not in front_matter(card) and front_matter(card)["library_name"] == "peft"
    assert "No evaluation of this run was found" in card and "mtsft eval run" in card


@pytest.mark.slow  # a subprocess export plus transformers' GGUF reader rebuilding the tokenizer: about a minute
def test_cli_export_writes_model_card_and_a_gguf_that_loads_back_the_same(run, tmp_path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    write_scores(run / "eval" / "builtin", run, score=0.25)
    out = tmp_path / "exported"
    proc = subprocess.run([sys.executable, "-m", "mtsft", "export", str(run), "--merge", "--out", str(out), "--gguf"],
                          capture_output=True, text=True, timeout=600, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert proc.returncode == 0, proc.stderr
    card = (out / "README.md").read_text(encoding="utf-8")
    assert front_matter(card)["model-index"] and "eval scores from builtin" in proc.stdout
    gguf_files = list((out / "gguf").glob("*.gguf"))
    assert len(gguf_files) == 1
    hf = AutoModelForCausalLM.from_pretrained(out)
    tok = AutoTokenizer.from_pretrained(out)
    back = AutoModelForCausalLM.from_pretrained(gguf_files[0].parent, gguf_file=gguf_files[0].name)
    tok_back = AutoTokenizer.from_pretrained(gguf_files[0].parent, gguf_file=gguf_files[0].name)
    text = "Translate: 我喜欢猫。 def f(x): return x ** 2"
    assert tok(text)["input_ids"] == tok_back(text)["input_ids"]
    msgs = [{"role": "user", "content": "hi 你好"}]
    assert tok.apply_chat_template(msgs, tokenize=False) == tok_back.apply_chat_template(msgs, tokenize=False)
    ids = tok.apply_chat_template(msgs, add_generation_prompt=True, return_tensors="pt", return_dict=True)["input_ids"]
    with torch.no_grad():
        assert torch.allclose(hf(ids).logits, back(ids).logits, atol=1e-5)
        a = hf.generate(ids, max_new_tokens=8, do_sample=False)
        b = back.generate(ids, max_new_tokens=8, do_sample=False)
    assert a.tolist() == b.tolist()  # the same greedy answer


def test_gguf_refuses_an_unsupported_architecture_clearly(tmp_path):
    from transformers import GPT2Config, GPT2LMHeadModel

    from mtsft.export import UnsupportedArchitecture

    GPT2LMHeadModel(GPT2Config(n_layer=1, n_embd=32, n_head=2, vocab_size=100)).save_pretrained(tmp_path / "gpt2")
    with pytest.raises(UnsupportedArchitecture, match="supports LlamaForCausalLM.*convert_hf_to_gguf"):
        export_gguf(tmp_path / "gpt2", log=lambda *a: None)


def test_export_run_no_merge_copies_adapter_with_card(run, tmp_path):
    out = export_run(run, tmp_path / "adapter", merge=False, log=lambda *a: None)
    assert (out / "adapter_config.json").exists()
    assert front_matter((out / "README.md").read_text(encoding="utf-8"))["library_name"] == "peft"
