"""Relevance and degeneracy measures (mtsft.tasks.relevance) and held-out sanity checks of the open-ended
verifiers built on them: fresh seeds and held-out draws, not the named cases in tests/verifier_cases, so a
verifier tuned to its case list but wrong in general fails here."""

from __future__ import annotations

import random
import re
import statistics

import pytest

from mtsft import tasks
from mtsft.eval.prediction_scores import score_predictions, scores_table
from mtsft.records import response
from mtsft.tasks import relevance as R

OPEN_TASKS = ["brainstorming", "creative_writing", "chitchat", "summarization", "rewriting"]
N = 40  # held-out draws per task and language


# ---- the measures ---------------------------------------------------------------------------------------

def test_has_word_folds_inflections_but_not_other_words():
    assert R.has_word("She kept all his letters.", "letter")
    assert R.has_word("A gull cried over the tide.", "gulls")
    assert not R.has_word("She sat by the window.", "wind")
    assert R.has_word("远处的灯塔亮了", "灯塔") and not R.has_word("远处的灯亮了", "灯塔")


def test_units_drop_function_words_and_keep_chinese_content_bigrams():
    assert R.units("The puppy is at the door") == {"puppy", "door"}
    zh = R.units("我们领养了一只小狗")
    assert "小狗" in zh and "领养" in zh and "了" not in zh and "我们" not in zh


def test_anchors_need_more_than_one_shared_chinese_character():
    # one shared character (小) is weak evidence; a shared word (小狗) is not
    assert R.anchors("地铁两个小时后恢复运营", "我们刚领养了一只小狗") < 0.3
    assert R.anchors("小狗一定很可爱", "我们刚领养了一只小狗") >= 1


def test_copies_and_echoes():
    source = "The printer is out of order again; could someone please arrange for it to be repaired?"
    assert R.containment(source, "Please polish this.\n" + source) == 1.0
    assert R.is_echo("Please polish this.\n" + source, "Please polish this.\n" + source)
    assert not R.is_echo("Please repair the printer.", source)  # short, so not an echo even if copied out
    assert R.similarity("Please have the printer repaired.", source) < 0.6


def test_degeneracy_and_fluency_separate_salad_from_prose():
    assert R.non_degenerate("puppy puppy puppy puppy puppy") == 0.0
    assert R.non_degenerate("\n".join(["The waves roll by the sea,"] * 4)) == 0.0
    assert R.non_degenerate("The waves roll in beneath a silver sky, and the lighthouse sweeps the bay.") == 1.0
    assert R.fluency("waves lighthouse sea gulls tide salt") == 0.0
    assert R.fluency("小狗，狗狗，宠物，可爱，领养") == 0.0
    assert R.fluency("The waves roll in beneath a silver sky, and the lighthouse sweeps the bay.") == 1.0
    assert R.fluency("恭喜恭喜！这么小一定特别可爱又活泼吧？给她起名字了吗？") == 1.0


def test_template_slot_reads_the_topic_back_out_of_a_prompt():
    templates = {"en": ["Give me {n} {topic}.", "Throw out {n} {topic} for me, one per line."]}
    assert R.template_slot("Throw out 4 ways to reduce plastic waste for me, one per line.", templates) == \
        "ways to reduce plastic waste"
    assert R.template_slot("Something else entirely", templates) is None


# ---- held-out sanity: fresh seeds, held-out draws --------------------------------------------------------

def _draws(name: str, lang: str) -> tuple[object, list[dict]]:
    task = tasks.get(name)
    rng = random.Random(f"relevance-heldout-{name}-{lang}")
    return task, [task.generate(rng, lang, held_out=True) for _ in range(N)]


def _mean(task, pairs) -> float:
    return statistics.mean(task.score(out, rec) for rec, out in pairs)


def _valid_variant(name: str, record: dict) -> str:
    """The reference said another way a verifier must accept: another list style, a lead-in, a title."""
    out, en = response(record), record["lang"] == "en"
    if name == "brainstorming":
        return "\n".join("- " + line.split(". ", 1)[1] for line in out.splitlines())
    if name == "summarization":
        return ("In short, " if en else "总之，") + out
    if name == "chitchat":
        return ("Oh, " if en else "哇，") + out
    if name == "creative_writing":
        return ("Untitled\n\n" if en else "《无题》\n") + out
    return re.sub(r"[.。]$", "!" if en else "！", out)


def _other_content(records: list[dict]) -> list[tuple[dict, str]]:
    """Each record paired with the reference of another record whose answer shares little content with its
    own answer and no content word with its conversation (a template's fixed words may be shared; the topic,
    required words, names and numbers not): an answer of the right shape about the wrong thing."""
    pairs = []
    for i, rec in enumerate(records):
        own = re.sub(r"\d", "", response(rec))
        for j in range(1, len(records)):
            other = response(records[(i + j) % len(records)])
            if (R.unit_recall(re.sub(r"\d", "", other), own) < 0.3 and R.similarity(other, response(rec)) < 0.5
                    and R.anchors(re.sub(r"\d", "", other), R.conversation(rec)) < 1):
                pairs.append((rec, other))
                break
    return pairs


def _first_part_repeated(text: str) -> str:
    first = next(p for p in re.split(r"(?<=[.。!！?？\n])", text) if p.strip())
    return "\n".join([first.strip()] * 4)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name", OPEN_TASKS)
def test_held_out_references_and_their_valid_variants_score_high(name, lang):
    task, records = _draws(name, lang)
    refs = _mean(task, [(r, response(r)) for r in records])
    variants = _mean(task, [(r, _valid_variant(name, r)) for r in records])
    print(f"\n{name} {lang}: references {refs:.3f}, valid variants {variants:.3f}")
    assert refs >= 0.95 and variants >= 0.8


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name", OPEN_TASKS)
def test_held_out_wrong_content_and_repetition_score_low(name, lang):
    task, records = _draws(name, lang)
    pairs = _other_content(records)
    assert len(pairs) >= N // 2, "too few records with unrelated content to compare"
    wrong = _mean(task, pairs)
    repeated = _mean(task, [(r, _first_part_repeated(response(r))) for r in records])
    print(f"\n{name} {lang}: another record's answer {wrong:.3f}, first line repeated {repeated:.3f}")
    assert wrong <= 0.1 and repeated <= 0.1


@pytest.mark.parametrize("name", ["summarization", "rewriting"])
def test_source_handed_back_scores_zero_on_held_out_draws(name):
    for lang in ("en", "zh"):
        task, records = _draws(name, lang)
        assert max(task.score(r["reference"]["source"], r) for r in records) <= 0.2


# ---- the metric name travels with every score table ------------------------------------------------------

def test_scores_table_and_json_name_the_metric_per_task():
    records = []
    for name in OPEN_TASKS:
        task = tasks.get(name)
        rng = random.Random(name)
        for _ in range(2):
            r = task.generate(rng, "en")
            r["prediction"] = response(r)
            records.append(r)
    result = score_predictions(records, workers=1)
    for name in OPEN_TASKS:
        metric = result["tasks"][name]["metric"]
        assert metric == tasks.get(name).metric and metric != "verifier"
    assert [c.header for c in scores_table(result).columns][:2] == ["task", "metric"]
