"""The evaluation split is held out in content, not only in phrasing (issue 14, item 4).

- every content table is split once, deterministically (same rows in any process), about a fifth held out;
- eval records (`synth_records(eval_split=True)`) share no content with a training pool, per task, while
  a second training draw does share it (so the measure can see leakage when there is some);
- references still verify on held-out draws (each task's own scorer gives them 1.0);
- a split the held-out content cannot fill warns, naming the short task;
- the built-in eval records and the held-out rows are those of the committed digests (issue 31: the content
  moved from Python literals to content/*.jsonl without moving a row across the partition).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import random
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from mtsft.tasks import all_tasks, get
from mtsft.tasks.builtin import brainstorming, chitchat, classification, code_specs, content_math, content_passages
from mtsft.tasks.builtin import creative_writing, extraction, open_qa, partition, rewriting, tables, translation
from mtsft.tasks.synth import TASK_WEIGHTS, ShortSplitWarning, synth_records

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("eval_leakage", ROOT / "bench" / "eval_leakage.py")
eval_leakage = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(eval_leakage)

TABLES = {
    "math kinds": content_math.KINDS, "code specs": code_specs.SPECS, "capitals": open_qa.ALL_CAPITALS,
    "facts": open_qa.ALL_FACTS, "authors": open_qa.ALL_AUTHORS, "sentences": translation.ALL_SENTENCES,
    "chitchat topics": chitchat.ALL_TOPICS, "brainstorm topics": brainstorming.IDEAS,
    "creative topics": creative_writing.ALL_TOPICS, "rewriting rows": rewriting.ALL_ROWS,
    "reviews": classification.ALL_SUBJECTS, "rc stories": content_passages.RC_STORIES,
    "summaries": content_passages.SUM_TEXTS, "extraction frames": extraction.FRAMES, "people": tables.PEOPLE,
    "cities": tables.CITIES, "orgs": tables.ORGS,
}


DIGESTS = json.loads((ROOT / "tests" / "data" / "builtin_eval_digests.json").read_text())


def _records_digest(records: list[dict]) -> str:
    h = hashlib.sha256()
    for r in records:
        h.update(json.dumps([r["id"], [[m["role"], m["content"]] for m in r["messages"]]], ensure_ascii=False).encode())
        h.update(b"\n")
    return h.hexdigest()


@pytest.mark.parametrize(("n", "seed"), [(48, 1), (240, 0)])  # 48 at seed 1: what `mtsft run --profile demo` draws
def test_builtin_eval_records_are_those_of_the_committed_digest(n, seed):
    records = synth_records(n, seed=seed, clean=True, eval_split=True)
    assert len(records) == n
    assert _records_digest(records) == DIGESTS["eval_records"][f"n{n}_seed{seed}"]


def test_held_out_rows_are_those_of_the_committed_digest():
    keys = json.dumps(_held_keys(), ensure_ascii=False, sort_keys=True)
    assert hashlib.sha256(keys.encode()).hexdigest() == DIGESTS["held_out_keys"]


def test_the_content_digest_joins_the_judge_and_classifier_cache_keys(monkeypatch):
    from mtsft.data import classify
    from mtsft.eval.judge import model as judge_model
    from mtsft.tasks.builtin import content

    monkeypatch.setenv("MTSFT_JUDGE_CACHE", "1")
    keys = judge_model.cache_file(), classify._cache_path(["capital of france?"], ["open_qa"])
    assert len(content.digest()) == 64 and keys[0] is not None
    monkeypatch.setattr(judge_model, "content_digest", lambda: "edited")
    monkeypatch.setattr(content, "digest", lambda: "edited")
    edited = judge_model.cache_file(), classify._cache_path(["capital of france?"], ["open_qa"])
    assert edited[0] != keys[0] and edited[1] != keys[1]


def test_a_bad_content_row_names_its_file_and_line(tmp_path, monkeypatch):
    from mtsft.tasks.builtin import content

    (tmp_path / "broken.jsonl").write_text('["ok", "好"]\n["cut off", \n', encoding="utf-8")
    monkeypatch.setattr(content.resources, "files", lambda package: tmp_path)
    with pytest.raises(ValueError, match=r"broken\.jsonl:2: not a JSON row"):
        content.rows("broken")


def test_no_python_module_under_tasks_exceeds_800_lines():
    tasks_dir = ROOT / "src" / "mtsft" / "tasks"
    long = {str(p.relative_to(tasks_dir)): n for p in tasks_dir.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 800}
    assert not long, f"content belongs in tasks/builtin/content/*.jsonl: {long}"


@pytest.mark.parametrize("name", sorted(TABLES))
def test_each_table_is_split_into_disjoint_parts_with_about_a_fifth_held_out(name):
    table = TABLES[name]
    train, held = partition.split(table)
    assert held and train
    assert len(train) + len(held) == len(table)
    assert not {id(r) for r in train} & {id(r) for r in held}
    assert 0.15 <= len(held) / len(table) <= 0.3, (name, len(held), len(table))
    assert partition.split(table) == (train, held)  # cached, same answer


def _held_keys() -> dict[str, list[str]]:
    return {name: sorted(partition.row_key(r) for r in partition.split(t)[1]) for name, t in TABLES.items()}


def test_partition_is_the_same_in_another_process_with_another_hash_seed():
    script = ("import json, sys; sys.path.insert(0, %r); import test_heldout_content as t; "
              "print(json.dumps(t._held_keys()))") % str(Path(__file__).parent)
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True,
                         cwd=ROOT)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == _held_keys()


def test_held_out_draws_use_only_held_out_rows():
    held_caps = {row[0] for row in partition.split(open_qa.ALL_CAPITALS)[1]}
    train_caps = {row[0] for row in partition.split(open_qa.ALL_CAPITALS)[0]}
    rng = random.Random(0)
    asked = [open_qa.draw_fact(rng, "en", held_out=True)[0] for _ in range(400)]
    caps = {q.removeprefix("What is the capital of ").rstrip("?") for q in asked if q.startswith("What is the capital")}
    assert caps and caps <= held_caps and not caps & train_caps
    rng = random.Random(0)
    kinds = {partition.row_key(partition.choose(rng, content_math.KINDS, True)) for _ in range(300)}
    assert kinds == {partition.row_key(k) for k in partition.split(content_math.KINDS)[1]}


@pytest.fixture(scope="module")
def pool_content():
    pool = synth_records(6000, seed=11, clean=True)
    return {eval_leakage.content(r) for r in pool}


def test_eval_content_never_appears_in_training_data(pool_content):
    evals = synth_records(480, seed=3, eval_split=True)
    by_task: dict[str, list[bool]] = {}
    for r in evals:
        by_task.setdefault(r["task"], []).append(eval_leakage.content(r) in pool_content)
    assert set(by_task) == set(TASK_WEIGHTS)
    rates = {t: sum(v) / len(v) for t, v in by_task.items()}
    assert all(rate <= 0.05 for rate in rates.values()), rates


def test_the_leakage_measure_sees_leakage_between_two_training_draws(pool_content):
    # Without the partition, training content recurs: the same measure must see it (else the test above
    # would pass for a measure that never matches anything).
    other = synth_records(600, seed=12, clean=True)
    leaked = {}
    for r in other:
        leaked.setdefault(r["task"], []).append(eval_leakage.content(r) in pool_content)
    rates = {t: sum(v) / len(v) for t, v in leaked.items()}
    assert rates["math"] > 0.5 and rates["open_qa"] > 0.5 and rates["code"] > 0.5, rates


def test_content_masks_digits_and_reads_the_classified_text():
    r = get("classification").generate(random.Random(5), "en", held_out=True)
    text = eval_leakage.content(r)
    assert text and text in eval_leakage.mask(r["messages"][0]["content"]) and text != eval_leakage.mask(r["reference"]["answer"])
    assert eval_leakage.mask("Paid 120 yuan, 3.5 km") == "Paid # yuan, # km"


CODE_DRAWS = 12


@pytest.mark.parametrize("name", sorted(t.name for t in all_tasks() if t.name in TASK_WEIGHTS))
def test_references_still_verify_on_held_out_draws(name):
    task = get(name)
    n = CODE_DRAWS if name == "code" else 60
    for i in range(n):
        lang = ("en", "zh")[i % 2]
        record = task.generate(random.Random(f"verify-{name}-{i}"), lang, held_out=True)
        assert record["meta"]["held_out"] is True
        reference = [m["content"] for m in record["messages"] if m["role"] == "assistant"][-1]
        assert task.score(reference, record) >= 0.99, (name, record)


def test_every_held_out_code_spec_passes_its_own_tests_in_the_sandbox():
    from mtsft.sandbox import run_tests

    rng = random.Random(1)
    for make in partition.split(code_specs.SPECS)[1]:
        spec = make(rng)
        result = run_tests(spec["solution"], spec["tests"], timeout=10)
        assert result.fraction == 1.0, spec["name"]


def test_a_split_the_held_out_content_cannot_fill_warns_naming_the_short_task():
    with pytest.warns(ShortSplitWarning, match=r"brainstorming: \d+ of 250"):
        records = synth_records(3000, seed=0, langs=("en",), eval_split=True)
    assert len(records) < 3000


def test_a_split_that_fits_does_not_warn_and_has_the_count_asked():
    with warnings.catch_warnings():
        warnings.simplefilter("error", ShortSplitWarning)
        records = synth_records(2000, seed=0, eval_split=True)
    assert len(records) == 2000


def test_content_tables_are_several_times_larger_than_before():
    # before issue 14: 8 math kinds, 18 code specs, 55 facts, 7 chitchat topics, 8 brainstorm topics,
    # 6 creative topics, 9 rewriting rows, 3 stories, 5 summary kinds, 3 extraction frames, 30 sentences
    facts = (len(open_qa.ALL_CAPITALS) + len(open_qa.ALL_ELEMENTS) + len(open_qa.ALL_AUTHORS)
             + len(open_qa.ALL_FACTS) + len(open_qa.CONTINENTS))
    assert len(content_math.KINDS) >= 40 and len(code_specs.SPECS) >= 90 and facts >= 275
    assert len(chitchat.ALL_TOPICS) >= 35 and len(brainstorming.IDEAS) >= 40 and len(creative_writing.ALL_TOPICS) >= 30
    assert len(rewriting.ALL_ROWS) + 6 >= 44 and len(extraction.FRAMES) >= 15 and len(translation.ALL_SENTENCES) >= 140
