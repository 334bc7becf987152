"""`mtsft eval run`: one generation-and-scoring path, predictions and scores on disk, runs side by side."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from mtsft.cli import app
from mtsft.eval.evaluate import EvalRunConfig, bootstrap_ci, evaluate_records, load_suite
from mtsft.records import write_jsonl

FIELDS = {"id", "task", "lang", "suite", "prompt", "prediction", "reference", "score", "metric", "violations",
          "looks_like"}


def small_suite(tmp_path, n_per_task=2):
    cfg = EvalRunConfig(per_task=1, langs=["en"], seed=3)
    records = load_suite("builtin", cfg)
    by_task: dict[str, list] = {}
    for r in records:
        by_task.setdefault(r["task"], []).append(r)
    picked = [r for rs in by_task.values() for r in rs[:n_per_task]]
    path = tmp_path / "suite.jsonl"
    write_jsonl(path, picked)
    return path, picked


def test_eval_run_writes_predictions_and_scores_with_metric_and_intervals(tmp_path):
    path, records = small_suite(tmp_path)
    result = CliRunner().invoke(app, ["eval", "run", "--model", "tiny", "--suite", str(path), "--out",
                                      str(tmp_path / "ev"), "--set", "max_new_tokens=4", "--set", "progress=false"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(x) for x in (tmp_path / "ev" / "suite" / "predictions.jsonl").read_text().splitlines()]
    assert len(rows) == len(records) and all(FIELDS <= set(r) for r in rows)
    scores = json.loads((tmp_path / "ev" / "suite" / "scores.json").read_text())
    assert set(scores["tasks"]) == {r["task"] for r in records}
    assert all("metric" in t and "ci95" in t for t in scores["tasks"].values())
    assert scores["run"]["tag_mode"] == "none" and "suite" in result.output


def test_compare_lines_up_runs_and_reports_the_change(tmp_path):
    from mtsft.diagnose.compare import compare_runs

    path, records = small_suite(tmp_path, n_per_task=1)
    cfg = EvalRunConfig(model="tiny", max_new_tokens=2, progress=False, bootstrap=20)
    for name in ("a", "b"):
        evaluate_records(load_suite(str(path), cfg), cfg, tmp_path / name / "suite", log=lambda *_: None)
    pred = tmp_path / "b" / "suite" / "predictions.jsonl"
    rows = [json.loads(x) for x in pred.read_text().splitlines()]
    task = rows[0]["task"]
    rows[0]["score"] = (rows[0]["score"] or 0.0) + 0.5       # one prompt answered better in run b
    pred.write_text("".join(json.dumps(r) + "\n" for r in rows))
    table = {(r["suite"], r["task"]): r for r in compare_runs([tmp_path / "a", tmp_path / "b"])}
    assert table[("suite", task)]["delta"] == pytest.approx(0.5) and table[("suite", task)]["paired"]
    assert table[("suite", "overall")]["delta"] == pytest.approx(0.5 / len(rows))
    out = CliRunner().invoke(app, ["eval", "run", "--compare", str(tmp_path / "a"), "--compare", str(tmp_path / "b")])
    assert out.exit_code == 0 and "+0.500" in out.output, out.output


def test_bootstrap_interval_contains_the_mean_and_narrows_with_more_records():
    assert bootstrap_ci([1.0] * 10, 200) == [1.0, 1.0]
    few = bootstrap_ci([0.0, 1.0] * 5, 500)
    many = bootstrap_ci([0.0, 1.0] * 200, 500)
    assert few[0] <= 0.5 <= few[1] and many[0] <= 0.5 <= many[1]
    assert (many[1] - many[0]) < (few[1] - few[0])
    assert bootstrap_ci([0.3], 100) is None


def test_a_suite_record_without_a_task_is_a_clear_error(tmp_path):
    path = tmp_path / "x.jsonl"
    write_jsonl(path, [{"id": "1", "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}],
                        "task": None, "lang": "en", "source": "t", "reference": None, "meta": {}}])
    with pytest.raises(ValueError, match="no task"):
        load_suite(str(path), EvalRunConfig())


def test_the_vllm_backend_is_optional_and_says_why_it_cannot_run(monkeypatch):
    from mtsft.eval import vllm_backend
    from mtsft.eval.evaluate import EvalRunConfig

    assert EvalRunConfig().backend == "transformers"
    assert vllm_backend.pick_backend("transformers") == "transformers"
    monkeypatch.setattr(vllm_backend, "vllm_usable", lambda: (False, "vllm is not installed (pip install vllm)"))
    assert vllm_backend.pick_backend("auto") == "transformers"           # falls back quietly
    with pytest.raises(RuntimeError, match="backend vllm: vllm is not installed"):
        vllm_backend.pick_backend("vllm")
    with pytest.raises(ValueError, match="expected one of"):
        vllm_backend.pick_backend("onnx")
    monkeypatch.setattr(vllm_backend, "vllm_usable", lambda: (True, ""))
    assert vllm_backend.pick_backend("auto") == "vllm"


def test_generation_dispatches_to_a_vllm_generator_with_the_rendered_prompts(tokenizer):
    from mtsft.eval.evaluate import EvalRunConfig, generate_answers
    from mtsft.eval.vllm_backend import VllmGenerator

    class FakeVllm(VllmGenerator):
        def __init__(self):            # no engine: records what generation asks for
            self.calls = []

        def generate(self, prompts, *, max_new_tokens):
            self.calls.append((list(prompts), max_new_tokens))
            return [f"answer {i}" for i in range(len(prompts))]

    records = [{"task": "translation", "lang": "en", "messages": [{"role": "user", "content": "Translate: hi"},
                                                                   {"role": "assistant", "content": "你好"}]},
               {"task": "math", "lang": "en", "messages": [{"role": "user", "content": "1+1?"},
                                                            {"role": "assistant", "content": "2"}]}]
    fake = FakeVllm()
    answers = generate_answers(fake, tokenizer, records, EvalRunConfig(), "none")
    assert answers == ["answer 0", "answer 0"]                      # one call per token cap, order kept
    assert sorted(cap for _, cap in fake.calls) == [160, 256]       # transform and reasoning families
    assert all("Translate: hi" in p[0] or "1+1?" in p[0] for p, _ in fake.calls)


@pytest.mark.parametrize("precision, dtype", [("fp32", "float32"), ("bf16", "bfloat16")])
def test_eval_precision_sets_the_generating_weights_dtype_and_is_recorded(tmp_path, precision, dtype):
    path, _ = small_suite(tmp_path, n_per_task=1)
    cfg = EvalRunConfig(model="tiny", max_new_tokens=2, progress=False, bootstrap=0, precision=precision)
    result = evaluate_records(load_suite(str(path), cfg), cfg, tmp_path / "out", log=lambda *_: None)
    assert result["run"]["dtype"] == dtype


def test_eval_precision_auto_follows_the_measured_rule(monkeypatch):
    import torch

    from mtsft import precision

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(precision, "cpu_bf16_is_faster", lambda: False)
    assert precision.resolve_precision("auto") == "fp32"
    monkeypatch.setattr(precision, "cpu_bf16_is_faster", lambda: True)
    assert precision.torch_dtype(precision.resolve_precision("auto")) == torch.bfloat16
