"""Task switches inside a conversation (issue 33, item 2).

- the built-in multi-turn suite is held out in content like the single-turn one, and every conversation
  switches task at least twice, in zh and en, each turn keeping a task, a reference and a verifier;
- `eval run` scores every assistant turn; earlier turns are the references, or with `--own-turns` the
  model's own answers (the model is asked something else);
- the crosstalk judge reads each turn against its own request, and `diagnose` reports crosstalk per turn
  position and per previous task: a planted leak (turn 2 answered in turn 1's task) shows there, a clean
  folder shows none;
- `mtsft run`'s data stage writes the suite beside eval.jsonl, as a held-out file.
"""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

import mtsft.eval.evaluate as evaluate
from mtsft import runfiles
from mtsft.cli import app
from mtsft.eval.evaluate import EvalRunConfig, evaluate_records, load_suite
from mtsft.records import RecordError, read_records, write_jsonl
from mtsft.tasks import get
from mtsft.tasks.multiturn import chain, multiturn_records, switches, turn_prompt, turn_record
from mtsft.tasks.synth import synth_records

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("eval_leakage", ROOT / "bench" / "eval_leakage.py")
eval_leakage = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(eval_leakage)
QUIET = lambda *_: None  # noqa: E731


def turns_of(conversations: list[dict]) -> list[dict]:
    return [turn_record(r, k) for r in conversations for k in range(len(r["meta"]["turns"]))]


# ---- the suite ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pool_content():
    return {eval_leakage.content(r) for r in synth_records(4000, seed=11, clean=True)}


def _reused(turn: dict, pool_content: set) -> bool:
    """The turn's content (bench/eval_leakage.py's measure) is in the training pool. A content of under 8
    letters once masked (an extraction answer '{"date": "#-#-#"}') says nothing of where it came from."""
    text = eval_leakage.content(turn)
    return sum(ch.isalpha() for ch in text) >= 8 and text in pool_content


def test_no_multiturn_conversation_reuses_training_content(pool_content):
    turns = turns_of(multiturn_records(96, seed=3))
    by_task: dict[str, list[bool]] = {}
    for t in turns:
        by_task.setdefault(t["task"], []).append(_reused(t, pool_content))
    assert len(by_task) >= 10
    rates = {t: sum(v) / len(v) for t, v in by_task.items()}
    assert all(rate <= 0.05 for rate in rates.values()), rates
    # the same measure sees leakage in conversations chained from training draws (so the check above can fail)
    training = [r for r in synth_records(600, seed=12, clean=True) if len(r["messages"]) == 2]
    leaked = Counter(t["task"] for t in turns_of([chain(training[i:i + 3], id=f"c{i}", lang="en")
                                                  for i in range(0, 300, 3)])
                     if _reused(t, pool_content))
    assert leaked["math"] + leaked["open_qa"] + leaked["code"] > 10, leaked


def test_every_conversation_switches_task_at_least_twice_in_zh_and_en_and_each_turn_verifies():
    records = multiturn_records(24, seed=1)
    assert len(records) == 24 and {r["lang"] for r in records} == {"zh", "en"}
    for r in records:
        assert sum(m["role"] == "user" for m in r["messages"]) >= 3 and switches(r) >= 2
        assert r["task"] == r["meta"]["turns"][-1]["task"] and r["meta"]["held_out"] is True
    for t in turns_of(records):
        assert t["meta"]["held_out"] is True and t["lang"] in ("zh", "en")
        assert get(t["task"]).score(t["messages"][-1]["content"], t) >= 0.99, t  # its own verifier, its own reference
    assert multiturn_records(24, seed=1) == records                               # same seed, same file


def test_malformed_meta_turns_is_an_error_naming_file_and_line(tmp_path):
    good = multiturn_records(2, seed=1)
    bad = json.loads(json.dumps(good[1]))
    bad["meta"]["turns"] = bad["meta"]["turns"][:2]            # 2 entries for 3 assistant turns
    path = tmp_path / "suite.jsonl"
    write_jsonl(path, [good[0], bad])
    with pytest.raises(RecordError, match=r"suite\.jsonl:2: meta\.turns has 2 entries but the conversation has 3"):
        load_suite(str(path), EvalRunConfig())
    bad["meta"]["turns"] = good[1]["meta"]["turns"][:2] + [{"reference": "x"}]
    write_jsonl(path, [bad])
    with pytest.raises(RecordError, match=r"suite\.jsonl:1: meta\.turns\[3\] has no `task`"):
        read_records(path, turns=True)


# ---- scoring every turn ---------------------------------------------------------------------------------

def _spy(monkeypatch) -> list[list[dict]]:
    asked = []
    real = evaluate.generate_answers

    def spy(model, tokenizer, records, cfg, tag_mode):
        asked.append([evaluate.last_prompt(r) for r in records])
        return real(model, tokenizer, records, cfg, tag_mode)

    monkeypatch.setattr(evaluate, "generate_answers", spy)
    return asked


@pytest.mark.parametrize("own_turns", [False, True])
def test_every_turn_is_scored_after_the_reference_turns_or_the_models_own(tmp_path, monkeypatch, tokenizer,
                                                                          tiny_model, own_turns):
    records = [{**r, "meta": {**r["meta"], "suite": "multiturn"}} for r in multiturn_records(2, seed=1, langs=["en"])]
    cfg = EvalRunConfig(model="tiny", max_new_tokens=3, progress=False, bootstrap=0, own_turns=own_turns)
    asked = _spy(monkeypatch)
    result = evaluate_records(records, cfg, tmp_path / "ev", model=tiny_model, tokenizer=tokenizer, log=QUIET)
    rows = runfiles.read_predictions(tmp_path / "ev")
    assert len(rows) == 6 and result["run"]["conversations"] == 2 and result["run"]["own_turns"] is own_turns
    assert [r["turn"] for r in rows] == [1, 2, 3, 1, 2, 3] and len({r["id"] for r in rows}) == 6
    assert [r["prev_task"] for r in rows[:3]] == [None, *[t["task"] for t in records[0]["meta"]["turns"][:2]]]
    assert {r["task"] for r in rows} == set(result["tasks"])     # scored per turn, by each turn's task
    assert len(asked) == (3 if own_turns else 1)                 # own turns: one generation round per position
    first, second = rows[0], rows[1]
    earlier = second["messages"][1]["content"]                   # what the model saw as its first answer
    reference = records[0]["messages"][1]["content"]
    assert earlier == (first["prediction"] if own_turns else reference) and earlier != (
        reference if own_turns else first["prediction"])
    fed = asked[1 if own_turns else 0]
    assert turn_prompt(records[0], 1, [first["prediction"]] if own_turns else None) in fed


def test_eval_run_own_turns_flag_on_the_builtin_multiturn_suite(tmp_path):
    out = tmp_path / "ev"
    result = CliRunner().invoke(app, ["eval", "run", "--model", "tiny", "--suite", "multiturn", "--own-turns",
                                      "--out", str(out), "--set", "multiturn_n=2", "--set", "max_new_tokens=2",
                                      "--set", "progress=false", "--set", "bootstrap=0"])
    assert result.exit_code == 0, result.output
    rows = runfiles.read_predictions(out / "multiturn")
    assert len(rows) == 6 and {r["turn"] for r in rows} == {1, 2, 3}
    assert runfiles.read_scores(out / "multiturn")["run"]["own_turns"] is True


# ---- the judge and the diagnosis --------------------------------------------------------------------------

def _eval_folder(out: Path, records: list[dict], leak_at: int | None, monkeypatch) -> Path:
    """An eval folder of the multi-turn suite answered with the references, except turn `leak_at`, answered
    with the previous turn's reference (the previous task performed again)."""
    def answer(r):
        leak = leak_at is not None and r["meta"].get("turn") == leak_at
        return r["messages"][-3]["content"] if leak else r["messages"][-1]["content"]

    monkeypatch.setattr(evaluate, "generate_answers", lambda m, t, records, c, tag: [answer(r) for r in records])
    cfg = EvalRunConfig(model="none", progress=False, bootstrap=50)
    evaluate_records(records, cfg, out / "multiturn", model=object(), tokenizer=object(), log=QUIET)
    return out


def _oracle_judge(records: list[dict], seen: list):
    """Performed task: the task whose reference the output is (what a perfect judge would say)."""
    task_of = {t["messages"][-1]["content"]: t["task"] for t in turns_of(records)}

    def judge(items, intended):
        seen.extend(items)
        verdicts = []
        for (_, output), task in zip(items, intended):
            performed = task_of.get(output, task)
            verdicts.append(SimpleNamespace(performed_task=performed, crossed=performed != task, confidence=0.95,
                                            reason="oracle"))
        return verdicts
    return judge


@pytest.fixture(scope="module")
def suite():
    return [{**r, "meta": {**r["meta"], "suite": "multiturn"}} for r in multiturn_records(24, seed=5)]


def _diagnose(tmp_path, suite, leak_at, monkeypatch):
    from mtsft.diagnose import DiagnoseConfig, diagnose_run

    base = _eval_folder(tmp_path / "eval_base", suite, None, monkeypatch)
    tuned = _eval_folder(tmp_path / "eval_tuned", suite, leak_at, monkeypatch)
    seen: list = []
    cfg = DiagnoseConfig(bootstrap=200, perplexity=False)
    d = diagnose_run(base=base, tuned=tuned, cfg=cfg, judge=_oracle_judge(suite, seen), log=QUIET)
    return d, seen


def test_a_planted_leak_shows_at_turn_2_and_after_the_previous_task(tmp_path, monkeypatch, suite):
    from mtsft.diagnose.report import write_report

    d, seen = _diagnose(tmp_path, suite, 2, monkeypatch)
    # the judge read each turn against its own request only: one user message, the turn's own
    assert seen and all(len(prompt) == 1 and prompt[0]["role"] == "user" for prompt, _ in seen)
    turns = {r["group"]: r for r in d.finding("crosstalk").extra["turns"]}
    assert turns["turn 2"]["leaked"] == 24 and turns["turn 2"]["rise"] == 1.0 and turns["turn 2"]["status"] == "fires"
    assert turns["turn 1"]["leaked"] == 0 and turns["turn 3"]["leaked"] == 0
    first_tasks = Counter(r["meta"]["turns"][0]["task"] for r in suite)
    for task, k in first_tasks.items():            # every conversation's turn 2 leaked its turn-1 task
        assert turns[f"after {task}"]["leaked"] >= k
    paths = write_report(d, tmp_path / "report")
    page = paths["html"].read_text(encoding="utf-8")
    assert "Task switches: crosstalk per turn" in page and "turn 2" in page and "crosstalk-turns" in page


def test_a_clean_multiturn_folder_shows_no_leak(tmp_path, monkeypatch, suite):
    d, _ = _diagnose(tmp_path, suite, None, monkeypatch)
    turns = d.finding("crosstalk").extra["turns"]
    assert {r["group"] for r in turns} >= {"turn 1", "turn 2", "turn 3"}
    assert all(r["leaked"] == 0 and r["crossed"] == 0 and r.get("status") != "fires" for r in turns)


# ---- the demo's data stage --------------------------------------------------------------------------------

def test_the_run_data_stage_writes_the_multiturn_suite_as_a_held_out_file(tmp_path):
    from mtsft.run import MULTITURN, RunConfig, eval_files, eval_suites, make_data

    cfg = RunConfig(n=12, eval_n=12, real=False, multiturn_n=4, langs=["zh", "en"])
    make_data(cfg, tmp_path)
    assert tmp_path / MULTITURN in eval_files(cfg, tmp_path)       # curation decontaminates against it
    suites = eval_suites(cfg, tmp_path)
    assert len(suites["multiturn"]) == 4 and all(r["meta"]["suite"] == "multiturn" for r in suites["multiturn"])
    off = cfg.model_copy(update={"multiturn_n": 0})
    assert tmp_path / MULTITURN not in eval_files(off, tmp_path) and "multiturn" not in eval_suites(off, tmp_path)
