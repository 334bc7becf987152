"""Each curation round on tiny hand-made records (fake registry: sentiment, coding, ideas)."""

from __future__ import annotations

import copy

from curate_fakes import fake_registry, generate  # noqa: F401  (fixture)

from mtsft.data.balance import balance_round, select_best
from mtsft.data.common import curate_meta
from mtsft.data.config import BalanceConfig, ConflictsConfig, CurateConfig, DedupConfig, QualityConfig
from mtsft.data.conflicts import conflicts_round
from mtsft.data.dedup import dedup_round
from mtsft.data.difficulty import heuristic_difficulty
from mtsft.data.quality import quality_round, repetition_share
from mtsft.data.validate import validate_round


def _rec(rid, prompt, answer, task="ideas", lang="en", **kw):
    return {"id": rid, "messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}],
            "task": task, "lang": lang, "source": "test", "reference": kw.get("reference"), "meta": {}}


def _reasons(result):
    return {r["id"]: r["meta"]["rejected"]["reason"] for r in result.rejected}


# ---- quality --------------------------------------------------------------------------------------------

def test_quality_rejects_empty_answer_as_empty(fake_registry):
    res = quality_round([_rec("a", "Brainstorm ideas.", "")], QualityConfig(), show=False)
    assert _reasons(res) == {"a": "empty"}


def test_quality_rejects_answer_in_the_other_language(fake_registry):
    rec = _rec("a", "请列出三个关于主题红色的创意点子。", "1. Paint a red picture.\n2. Decorate a red room.\n3. Write a red poem.", lang="zh")
    assert _reasons(quality_round([rec], QualityConfig(), show=False)) == {"a": "wrong_language"}


def test_quality_rejects_refusal_boilerplate(fake_registry):
    rec = _rec("a", "Brainstorm ideas about red.", "I'm sorry, but I cannot help with that request.")
    assert _reasons(quality_round([rec], QualityConfig(), show=False)) == {"a": "refusal"}


def test_quality_rejects_registry_format_violation(fake_registry):
    rec = _rec("a", "Write a Python function.", "Sure! Here it is:\n```python\ndef f(x):\n    return x\n```", task="coding")
    assert _reasons(quality_round([rec], QualityConfig(), show=False)) == {"a": "format:prose_around_code"}


def test_quality_rejects_unclosed_code_fence_as_truncated(fake_registry):
    rec = _rec("a", "Write a Python function.", "```python\ndef f(x):\n    return", task="coding")
    assert _reasons(quality_round([rec], QualityConfig(), show=False)) == {"a": "truncated"}


def test_quality_rejects_over_max_tokens(fake_registry):
    rec = _rec("a", "Brainstorm ideas. " * 200, "1. one.\n2. two.\n3. three.")
    assert _reasons(quality_round([rec], QualityConfig(max_tokens=100), show=False)) == {"a": "too_long"}


def test_quality_rejects_control_characters(fake_registry):
    rec = _rec("a", "Brainstorm ideas.", "1. one\x07.\n2. two.\n3. three.")
    assert _reasons(quality_round([rec], QualityConfig(), show=False)) == {"a": "control_chars"}


def test_repetition_share_is_high_for_looping_text():
    assert repetition_share("the cat sat on the mat " * 10) > 0.7
    assert repetition_share("one two three four five six seven eight nine ten eleven twelve thirteen") == 0.0


def test_quality_scores_kept_records(fake_registry):
    res = quality_round(generate({"sentiment": 4}), QualityConfig(), show=False)
    assert len(res.kept) == 4 and all(0 <= curate_meta(r)["quality"] <= 1 for r in res.kept)


# ---- dedup ----------------------------------------------------------------------------------------------

def test_exact_duplicates_differing_only_in_id_and_case_are_removed():
    a = _rec("a", "Brainstorm ideas about a red kite flying high.", "1. Fly it.\n2. Paint it.\n3. Sell it.")
    b = copy.deepcopy(a)
    b["id"] = "b"
    b["messages"][0]["content"] = "brainstorm  IDEAS about a red kite flying high."
    res = dedup_round([a, b], DedupConfig(), show=False)
    assert [r["id"] for r in res.kept] == ["a"] and _reasons(res) == {"b": "exact_duplicate"}


def test_exact_duplicate_keeps_the_higher_quality_copy():
    a = _rec("a", "Brainstorm ideas about kites.", "1. Fly it.")
    b = copy.deepcopy(a)
    b["id"] = "b"
    curate_meta(a)["quality"], curate_meta(b)["quality"] = 0.2, 0.9
    assert [r["id"] for r in dedup_round([a, b], DedupConfig(), show=False).kept] == ["b"]


def test_near_duplicate_chinese_is_found_by_character_shingles():
    a = _rec("a", "请介绍一下长城的历史和它在中国文化中的重要意义。", "长城始建于春秋战国时期，是中华民族的象征。", lang="zh")
    b = _rec("b", "请介绍一下长城的历史，以及它在中国文化中的重要意义。", "长城始建于春秋战国时期，是中华民族的象征。", lang="zh")
    c = _rec("c", "怎样做一道好吃的红烧肉？", "先把五花肉切块焯水，再加糖色慢炖。", lang="zh")
    res = dedup_round([a, b, c], DedupConfig(), show=False)
    assert _reasons(res) == {"b": "near_duplicate"}


def test_near_dedup_leaves_distinct_records_alone():
    recs = generate({"coding": 40})
    assert not dedup_round(recs, DedupConfig(), show=False).rejected


def test_contaminated_record_is_dropped():
    train = [_rec("a", "What is the capital city of France and why is it famous?", "Paris, for its art."),
             _rec("b", "Name three primary colours used in painting.", "Red, yellow, blue.")]
    evals = [_rec("e", "What is the capital city of France and why is it famous?", "Paris.")]
    res = dedup_round(train, DedupConfig(near=False), eval_records=evals, show=False)
    assert _reasons(res) == {"a": "contaminated"}


# ---- conflicts ------------------------------------------------------------------------------------------

def test_contradictory_short_answers_keep_the_better_record(fake_registry):
    p = "Classify the sentiment (positive or negative): I love this red shirt."
    good = _rec("good", p, "positive", task="sentiment", reference="positive")
    bad = _rec("bad", p, "negative", task="sentiment", reference="positive")
    curate_meta(good)["quality"], curate_meta(bad)["quality"] = 1.0, 0.3
    res = conflicts_round([good, bad], ConflictsConfig(), show=False)
    assert [r["id"] for r in res.kept] == ["good"] and _reasons(res) == {"bad": "contradictory_answers"}


def test_same_instruction_under_two_labels_keeps_the_majority(fake_registry):
    p = "Brainstorm three ideas about the theme red 12."
    recs = [_rec(f"i{k}", p, f"1. idea {k}.\n2. more.\n3. most.") for k in range(2)]
    recs.append(_rec("x", p, "1. idea x.\n2. more.\n3. most.", task="sentiment"))
    res = conflicts_round(recs, ConflictsConfig(contradictory_answers="keep"), show=False)
    assert _reasons(res) == {"x": "cross_label"}


def test_answer_shaped_like_another_task_goes_to_review(fake_registry):
    rec = _rec("a", "Write a Python function that doubles a number.", "1. Use a loop.\n2. Use a lambda.\n3. Ask a friend.", task="coding")
    res = conflicts_round([rec], ConflictsConfig(), show=False)
    assert _reasons(res) == {"a": "answer_shape"} and [r["id"] for r in res.review] == ["a"]


def test_label_mismatch_is_relabelled_when_the_classifier_is_sure(fake_registry):
    rec = _rec("a", "Brainstorm ideas.", "1. a.\n2. b.\n3. c.", task="sentiment")
    curate_meta(rec).update(task_method="label", predicted_task="ideas", predicted_confidence=0.9,
                            label_confidence=0.02)
    res = conflicts_round([rec], ConflictsConfig(), show=False)
    assert res.kept[0]["task"] == "ideas" and curate_meta(res.kept[0])["relabelled_from"] == "sentiment"


# ---- balance --------------------------------------------------------------------------------------------

def test_temperature_balance_brings_ratio_under_three(fake_registry):
    recs = generate({"sentiment": 600, "coding": 50, "ideas": 120})
    res = balance_round(recs, BalanceConfig(strategy="temperature", temperature=3.0))
    counts = {}
    for r in res.kept:
        counts[r["task"]] = counts.get(r["task"], 0) + 1
    assert max(counts.values()) / min(counts.values()) < 3


def test_downsampling_keeps_the_highest_quality_records():
    recs = generate({"sentiment": 10})
    for k, r in enumerate(recs):
        curate_meta(r)["quality"] = k / 10
    keep = select_best(recs, 3, bins=1, seed=0)
    assert keep == {7, 8, 9}


def test_downsampling_keeps_the_difficulty_spread():
    recs = generate({"sentiment": 100})
    for k, r in enumerate(recs):
        curate_meta(r).update(difficulty=k / 100, quality=1.0 - k / 100)  # the easy ones score best
    kept = [recs[i] for i in select_best(recs, 20, bins=4, seed=0)]
    assert max(curate_meta(r)["difficulty"] for r in kept) >= 0.75


def test_upsampling_augments_before_it_repeats(fake_registry):
    recs = generate({"sentiment": 10, "coding": 2})
    res = balance_round(recs, BalanceConfig(strategy="uniform", total=20))
    hows = [a["meta"]["upsampled"]["how"] for a in res.added]
    assert hows[:4] == ["rephrase", "rephrase", "system_prompt", "system_prompt"] and set(hows[4:]) == {"repeat"}


def test_weights_strategy_follows_the_weights(fake_registry):
    recs = generate({"sentiment": 50, "coding": 50})
    res = balance_round(recs, BalanceConfig(strategy="weights", weights={"sentiment": 3, "coding": 1}, total=40))
    assert res.notes["targets"] == {"coding": 10, "sentiment": 30}


# ---- difficulty and validate ----------------------------------------------------------------------------

def test_difficulty_grows_with_reasoning_steps():
    easy = _rec("e", "Add 2 and 3.", "5")
    hard = _rec("h", "Add 2 and 3, show each step, at most 5 lines.", "First, 2 = 2.\nThen 2 + 3 = 5.\nTherefore the answer is 5.")
    assert heuristic_difficulty(hard) > heuristic_difficulty(easy)


def test_validate_flags_a_task_far_from_target():
    kept = generate({"sentiment": 90, "coding": 10})
    checks = {c.name: c for c in validate_round(kept, {"sentiment": 50, "coding": 50}, CurateConfig())}
    assert not checks["distribution"].ok and "coding" in checks["distribution"].detail


def test_validate_flags_exact_duplicates():
    kept = generate({"sentiment": 3})
    kept.append({**copy.deepcopy(kept[0]), "id": "copy"})
    checks = {c.name: c for c in validate_round(kept, {"sentiment": 4}, CurateConfig())}
    assert not checks["no_duplicates"].ok


def test_one_passage_with_different_questions_is_not_a_near_duplicate():
    passage = "长城是中国古代的军事防御工程，始建于春秋战国时期，秦朝统一后连接成万里长城，明朝时又大规模重修。" * 2
    a = _rec("a", f"阅读短文：{passage}\n问题：长城始建于什么时期？", "春秋战国时期", task="reading_comprehension", lang="zh")
    b = _rec("b", f"阅读短文：{passage}\n问题：哪个朝代大规模重修了长城？", "明朝", task="reading_comprehension", lang="zh")
    assert not dedup_round([a, b], DedupConfig(), show=False).rejected


def test_same_template_with_other_numbers_is_not_a_conflict(fake_registry):
    a = _rec("a", "A car travels at 50 km/h for 6 hours. How far does it go?", "300 km", task="sentiment")
    b = _rec("b", "A car travels at 90 km/h for 6 hours. How far does it go?", "540 km", task="sentiment")
    assert not conflicts_round([a, b], ConflictsConfig(), show=False).rejected


def test_follow_up_turn_is_grouped_with_the_turns_before_it(fake_registry):
    def chat(rid, first, answer):
        rec = _rec(rid, first, "First answer.", task="sentiment")
        rec["messages"] += [{"role": "user", "content": "Now make it shorter."}, {"role": "assistant", "content": answer}]
        return rec
    a, b = chat("a", "Rewrite formally: see u at 5", "See you at five."), chat("b", "Rewrite formally: gimme the file", "Send the file.")
    assert not conflicts_round([a, b], ConflictsConfig(), show=False).rejected


def test_upsampling_stops_at_max_upsample(fake_registry):
    recs = generate({"sentiment": 300, "coding": 10})
    res = balance_round(recs, BalanceConfig(strategy="uniform", max_upsample=2.0))
    assert res.notes["targets"]["coding"] == 20


def test_records_near_the_max_length_are_repeated_not_augmented(fake_registry):
    recs = generate({"sentiment": 20, "coding": 2})
    for r in recs:
        curate_meta(r)["tokens"] = 2040
    res = balance_round(recs, BalanceConfig(strategy="uniform", total=20), max_tokens=2048)
    assert {a["meta"]["upsampled"]["how"] for a in res.added} == {"repeat"}


def test_model_difficulty_annotates_ifd_with_a_tiny_model(monkeypatch, tokenizer, tiny_model):
    import mtsft.model as model_mod
    from mtsft.data.difficulty import difficulty_round

    monkeypatch.setattr(model_mod, "load_tokenizer", lambda spec, **kw: tokenizer)
    monkeypatch.setattr(model_mod, "load_model", lambda spec, **kw: tiny_model)
    recs = generate({"sentiment": 3})
    difficulty_round(recs, model_spec="tiny", show=False)
    assert all(r["meta"]["curate"]["ifd"] > 0 and 0 <= r["meta"]["curate"]["difficulty"] <= 1 for r in recs)
