"""The built-in data set: records from every built-in task's generator, messy on purpose.

Collected instruction data is skewed and dirty, and curation needs real work to measure itself on, so by
default `synth_records` gives:
- skewed task counts (the most frequent task 12x the rarest, `TASK_WEIGHTS`);
- injected defects at a few percent each (`DEFECT_RATES`), each marked in `meta.defect` (and linked with
  `meta.duplicate_of` / `meta.conflict_with` / `meta.true_task`) so tests can check curation finds them.
`clean=True` injects no defects (same skewed counts); `eval_split=True` gives a clean, task-balanced split
drawn only from the held-out instruction templates and the held-out content (facts, problem kinds, code
specs, topics, sentences, entities: a fixed partition of every content table, `builtin/partition.py`), so
no eval record's content is one training draws use.

When a task's prompt space is exhausted (every new draw repeats a prompt already produced) it yields fewer
records than asked; `synth_records` then warns (`ShortSplitWarning`) naming each short task, how many it
gave and how many it was asked for, rather than returning fewer records silently.

Each record is generated from its own RNG seeded by (seed, index): the same seed gives the same file, and
a record's content does not depend on how many others were drawn. Prompts are unique among clean records
(a collision is redrawn), so every duplicate or conflict in the output is an injected, marked one.
"""

from __future__ import annotations

import copy
import random
import warnings
from collections import Counter

from mtsft.text import detect_lang

# relative frequency of each built-in task in the messy default set (max/min = 12)
TASK_WEIGHTS = {"math": 12, "chitchat": 10, "translation": 8, "code": 7, "open_qa": 6, "classification": 5,
                "summarization": 4, "rewriting": 3, "brainstorming": 2.5, "reading_comprehension": 2,
                "extraction": 1.5, "creative_writing": 1}
# share of all records per defect (chatty_code: share of code records)
DEFECT_RATES = {"exact_duplicate": 0.03, "near_duplicate": 0.03, "conflict": 0.02, "empty_answer": 0.01,
                "truncated_answer": 0.02, "wrong_language": 0.02, "mislabeled": 0.02, "repetition": 0.01,
                "refusal": 0.01, "chatty_code": 0.25}
ADDED = ("exact_duplicate", "near_duplicate", "conflict")  # new records pointing at an original
REFUSALS = {"en": "I'm sorry, but I can't help with that request.", "zh": "抱歉，我无法帮助处理这个请求。"}
CHATTY = {"en": ("Sure! Here's the code you asked for:\n\n", "\n\nHope this helps! Let me know if you have any questions."),
          "zh": ("好的！下面是你要的代码：\n\n", "\n\n希望对你有帮助，有问题随时问我。")}
NEAR_EDITS = {"en": [lambda s: s + " Thanks!", lambda s: "Hi, " + s, lambda s: "Hello! " + s,
                     lambda s: s + " (short answer please)"],
              "zh": [lambda s: s + "谢谢！", lambda s: "你好，" + s, lambda s: "请帮忙：" + s, lambda s: s + "（简单回答就行）"]}
# a mislabeled record gets the label of a task it is easily confused with
CONFUSABLE = {"open_qa": "reading_comprehension", "reading_comprehension": "open_qa", "translation": "rewriting",
              "rewriting": "summarization", "summarization": "rewriting", "brainstorming": "creative_writing",
              "creative_writing": "brainstorming", "chitchat": "open_qa", "code": "math", "math": "code",
              "classification": "extraction", "extraction": "classification"}


def _allocate(total: int, weights: dict[str, float]) -> dict[str, int]:
    """Largest-remainder split of `total` by weight (counts add up to `total` exactly)."""
    norm = sum(weights.values())
    exact = {t: total * w / norm for t, w in weights.items()}
    counts = {t: int(x) for t, x in exact.items()}
    for t in sorted(exact, key=lambda t: counts[t] - exact[t])[: total - sum(counts.values())]:
        counts[t] += 1
    return counts


def _prompt_key(record: dict) -> tuple:
    return tuple(m["content"] for m in record["messages"] if m["role"] != "assistant")


def _last_answer_index(record: dict) -> int:
    return max(i for i, m in enumerate(record["messages"]) if m["role"] == "assistant")


def _generate_unique(task, rng: random.Random, lang: str, held_out: bool, seen: set, tries: int = 200):
    """(record, rng state it was drawn from); redraws on a prompt already produced."""
    for _ in range(tries):
        state = rng.getstate()
        record = task.generate(rng, lang, held_out=held_out)
        key = _prompt_key(record)
        if key not in seen:
            seen.add(key)
            return record, state
    return None, None


class ShortSplitWarning(UserWarning):
    """synth_records produced fewer records than asked: a task's distinct prompts ran out."""


def _draw_clean(n_by_task: dict[str, int], seed: int, langs, held_out: bool,
                missing: Counter | None = None) -> list[tuple[dict, tuple]]:
    from mtsft.tasks import get

    order = [t for t, k in n_by_task.items() for _ in range(k)]
    random.Random(f"order-{seed}").shuffle(order)
    seen: set = set()
    out = []
    for i, name in enumerate(order):
        rng = random.Random(f"{seed}-{i}")
        lang = rng.choice(list(langs))
        record, state = _generate_unique(get(name), rng, lang, held_out, seen)
        if record is not None:  # a task whose prompt space is exhausted yields fewer records
            out.append((record, state))
        elif missing is not None:
            missing[name] += 1
    return out


def _warn_short(missing: Counter, n_by_task: dict[str, int], what: str) -> None:
    if not missing:
        return
    parts = [f"{t}: {n_by_task[t] - k} of {n_by_task[t]} (only {n_by_task[t] - k} distinct prompts found)"
             for t, k in sorted(missing.items())]
    asked, got = sum(n_by_task.values()), sum(n_by_task.values()) - sum(missing.values())
    warnings.warn(f"synth {what}: asked for {asked} records, produced {got}; these tasks ran out of distinct "
                  f"{'held-out ' if what == '--eval' else ''}content x templates: " + "; ".join(parts) +
                  ". Ask for fewer records (or grow the task's content tables).", ShortSplitWarning, stacklevel=3)


def synth_records(n: int, seed: int = 0, langs=("zh", "en"), clean: bool = False,
                  eval_split: bool = False) -> list[dict]:
    """`n` records in the schema; see the module docstring for what `clean` and `eval_split` change."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    langs = tuple(langs)
    if not langs or any(lang not in ("zh", "en") for lang in langs):
        raise ValueError(f"langs must be a non-empty subset of zh,en, got {','.join(langs) or 'nothing'}")
    missing: Counter = Counter()
    if eval_split:
        n_by_task = _allocate(n, {t: 1.0 for t in TASK_WEIGHTS})
        drawn = _draw_clean(n_by_task, seed, langs, held_out=True, missing=missing)
        _warn_short(missing, n_by_task, "--eval")
        return _with_ids([r for r, _ in drawn], f"synth-eval-{seed}")
    n_added = 0 if clean else sum(round(n * DEFECT_RATES[d]) for d in ADDED)
    n_by_task = _allocate(n - n_added, TASK_WEIGHTS)
    drawn = _draw_clean(n_by_task, seed, langs, held_out=False, missing=missing)
    _warn_short(missing, n_by_task, "training")
    records = [r for r, _ in drawn]
    for i, r in enumerate(records):
        r["id"] = f"base-{i}"
    if not clean:
        records = _inject_defects(drawn, n, random.Random(f"defects-{seed}"))
    return _with_ids(records, f"synth-{seed}")


def _with_ids(records: list[dict], prefix: str) -> list[dict]:
    """Final ids by position; links in meta follow the renaming."""
    new_id = {r["id"]: f"{prefix}-{i}" for i, r in enumerate(records)}
    for r in records:
        r["id"] = new_id.get(r["id"], r["id"])
        for link in ("duplicate_of", "conflict_with"):
            if link in r["meta"]:
                r["meta"][link] = new_id[r["meta"][link]]
    return records


# ---- defects ----------------------------------------------------------------------------------------

def _inject_defects(drawn: list[tuple[dict, tuple]], n: int, rng: random.Random) -> list[dict]:
    from mtsft.tasks import get

    records = [r for r, _ in drawn]
    state_of = {r["id"]: s for r, s in drawn}
    free = list(range(len(records)))
    rng.shuffle(free)

    def take(count: int, ok=lambda r: True) -> list[dict]:
        chosen = [i for i in free if ok(records[i])][:count]
        for i in chosen:
            free.remove(i)
        return [records[i] for i in chosen]

    code_records = [r for r in records if r["task"] == "code"]
    for r in take(round(len(code_records) * DEFECT_RATES["chatty_code"]), lambda r: r["task"] == "code"):
        _set_answer(r, CHATTY[r["lang"]][0] + _answer(r) + CHATTY[r["lang"]][1], "chatty_code")
    for r in take(round(n * DEFECT_RATES["empty_answer"])):
        _set_answer(r, "", "empty_answer")
    for r in take(round(n * DEFECT_RATES["truncated_answer"]), lambda r: len(_answer(r)) >= 20):
        cut = int(len(_answer(r)) * rng.uniform(0.3, 0.7))
        _set_answer(r, _answer(r)[:cut], "truncated_answer")
    for r in take(round(n * DEFECT_RATES["wrong_language"]), lambda r: r["task"] != "code"):
        _make_wrong_language(r, state_of[r["id"]], get(r["task"]))
    for r in take(round(n * DEFECT_RATES["repetition"]), lambda r: len(_answer(r)) >= 8):
        chunk = _answer(r)[: max(8, len(_answer(r)) // 3)]
        _set_answer(r, _answer(r) + (" " + chunk) * rng.randint(5, 9), "repetition")
    for r in take(round(n * DEFECT_RATES["refusal"])):
        _set_answer(r, REFUSALS[r["lang"]], "refusal")
    for r in take(round(n * DEFECT_RATES["mislabeled"]), lambda r: r["task"] in CONFUSABLE):
        r["meta"].update(defect="mislabeled", true_task=r["task"])
        r["task"] = CONFUSABLE[r["task"]]

    originals = [records[i] for i in free]  # still clean: added records point at these
    added = _added_defects(originals, records, n - len(records), rng)
    out = records + added
    rng.shuffle(out)
    return out


def _answer(record: dict) -> str:
    return record["messages"][_last_answer_index(record)]["content"]


def _set_answer(record: dict, text: str, defect: str) -> None:
    record["messages"][_last_answer_index(record)]["content"] = text
    record["meta"]["defect"] = defect


def _make_wrong_language(record: dict, state: tuple, task) -> None:
    """Answer with the same content drawn in the other language (same RNG state, parallel tables)."""
    rng = random.Random()
    rng.setstate(state)
    other = "en" if record["lang"] == "zh" else "zh"
    sibling = task.generate(rng, other, held_out=record["meta"].get("held_out", False))
    answer = _answer(sibling)
    if detect_lang(answer) == task.answer_lang(record):  # parallel draw failed to change language
        answer = _answer(sibling) if other == "en" else REFUSALS["en"]
    _set_answer(record, answer, "wrong_language")


def _added_defects(originals: list[dict], records: list[dict], budget: int, rng: random.Random) -> list[dict]:
    per_kind = dict(zip(ADDED, _split(budget, [DEFECT_RATES[d] for d in ADDED])))
    by_group: dict[tuple, list[dict]] = {}
    for r in records:
        if "defect" not in r["meta"]:
            by_group.setdefault((r["task"], r["lang"]), []).append(r)
    added = []
    for kind, count in per_kind.items():
        for k in range(count):
            orig = rng.choice(originals)
            dup = copy.deepcopy(orig)
            dup["id"] = f"added-{kind}-{k}"
            dup["meta"]["defect"] = kind
            if kind == "conflict":
                others = [o for o in by_group[(orig["task"], orig["lang"])] if _answer(o) != _answer(orig)]
                if not others:
                    continue
                dup["messages"][_last_answer_index(dup)]["content"] = _answer(rng.choice(others))
                dup["meta"]["conflict_with"] = orig["id"]
            else:
                dup["meta"]["duplicate_of"] = orig["id"]
                if kind == "near_duplicate":
                    first_user = next(m for m in dup["messages"] if m["role"] == "user")
                    edited = rng.choice(NEAR_EDITS[orig["lang"]])(first_user["content"])
                    first_user["content"] = edited if edited != first_user["content"] else edited + " "
            added.append(dup)
    return added


def _split(total: int, weights: list[float]) -> list[int]:
    counts = _allocate(total, dict(enumerate(weights))) if total > 0 else {i: 0 for i in range(len(weights))}
    return [counts[i] for i in range(len(weights))]


def synth_stats(records: list[dict]) -> dict:
    """Counts per task, per language and per defect ("clean" for records without one)."""
    return {
        "n": len(records),
        "tasks": dict(Counter(r["task"] for r in records).most_common()),
        "langs": dict(Counter(r["lang"] for r in records).most_common()),
        "defects": dict(Counter(r["meta"].get("defect", "clean") for r in records).most_common()),
        "held_out": sum(bool(r["meta"].get("held_out")) for r in records),
        "hard_negatives": sum(bool(r["meta"].get("hard_negative")) for r in records),
        "multi_turn": sum(sum(m["role"] == "user" for m in r["messages"]) > 1 for r in records),
    }


def stats_table(stats: dict):
    """A rich table of `synth_stats`: per-task, per-language and per-defect counts side by side."""
    from itertools import zip_longest

    from rich.table import Table

    table = Table(title=f"synth: {stats['n']} records ({stats['held_out']} held-out templates and content, "
                        f"{stats['hard_negatives']} hard negatives, {stats['multi_turn']} multi-turn)")
    for col in ("task", "n", "lang", "n ", "defect", "n  "):
        table.add_column(col, justify="right" if col.startswith("n") else "left")
    columns = [list(stats["tasks"].items()), list(stats["langs"].items()), list(stats["defects"].items())]
    for row in zip_longest(*columns, fillvalue=("", "")):
        table.add_row(*(str(x) for pair in row for x in pair))
    return table
