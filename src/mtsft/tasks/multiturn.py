"""The built-in multi-turn suite: conversations that switch task from turn to turn, held out in content.

A user asks an assistant to translate a sentence, then asks it a question, then has it label a review. Each
switch is a chance for the last turn's task to leak into the next one (the question answered by translating
it). `multiturn_records` builds such conversations by chaining held-out single-turn records of different
tasks (`synth_records(..., clean=True, eval_split=True)`: held-out instruction templates and held-out
content only), so every turn keeps its own task, reference and verifier:

    {"id": "multiturn-1-0", "messages": [user 1, assistant 1, user 2, assistant 2, user 3, assistant 3],
     "task": <turn 3's task>, "reference": <turn 3's reference>, "lang": "en",
     "meta": {"held_out": true, "turns": [{"task", "reference", "lang", "meta"}, ...]}}   # one per assistant turn

The record's own `task` and `reference` are its last turn's, so a stage that knows nothing of `meta.turns`
still reads a valid single-turn-scored record. `mtsft.records.turn_specs` validates `meta.turns`.

`turn_record` and `turn_prompt` split such a conversation for evaluation: the record a turn's verifier
scores (that turn's own request and reference, nothing before it) and the conversation the model answers
(earlier turns with the reference answers, or the model's own earlier answers).
"""

from __future__ import annotations

import random

from mtsft.records import turn_specs

SOURCE = "mtsft-synth:multiturn"
TURNS = 3   # user turns per conversation: every consecutive pair a different task, so 2 switches at least


def _single_turn(record: dict) -> bool:
    """A record of one user turn and one answer, no system prompt: a link a conversation can chain."""
    return [m["role"] for m in record["messages"]] == ["user", "assistant"] and record.get("reference") is not None


def _pools(n_convs: int, seed: int, lang: str, turns: int) -> dict[str, list[dict]]:
    """Held-out single-turn records of `lang`, by task: twice what `n_convs` conversations need, over the
    built-in tasks in equal shares (a few tasks also make two-turn records; those are left out)."""
    import warnings

    from mtsft.tasks.synth import ShortSplitWarning, synth_records

    with warnings.catch_warnings():  # a short task only narrows the choice; the conversations still fill
        warnings.simplefilter("ignore", ShortSplitWarning)
        # its own draw (a string seed): content apart from the single-turn built-in suite's, same partition
        drawn = synth_records(2 * n_convs * turns + 24, seed=f"multiturn-{seed}-{lang}",  # type: ignore[arg-type]
                              langs=(lang,), clean=True, eval_split=True)
    pools: dict[str, list[dict]] = {}
    for r in drawn:
        if _single_turn(r):
            pools.setdefault(r["task"], []).append(r)
    return pools


def multiturn_records(n: int, seed: int = 1, langs=("zh", "en"), turns: int = TURNS) -> list[dict]:
    """`n` conversations of `turns` user turns each, every turn a different task (so `turns - 1` switches),
    languages alternating over `langs` (each conversation in one language). Same seed, same file."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if turns < 3:
        raise ValueError(f"turns must be >= 3 (two task switches at least), got {turns}")
    langs = tuple(langs)
    if not langs or any(lang not in ("zh", "en") for lang in langs):
        raise ValueError(f"langs must be a non-empty subset of zh,en, got {','.join(langs) or 'nothing'}")
    per_lang = {lang: sum(1 for i in range(n) if langs[i % len(langs)] == lang) for lang in langs}
    pools = {lang: _pools(k, seed, lang, turns) for lang, k in per_lang.items() if k}
    out = []
    for i in range(n):
        lang = langs[i % len(langs)]
        rng = random.Random(f"multiturn-{seed}-{i}")
        available = sorted(t for t, rs in pools[lang].items() if rs)
        if len(available) < turns:
            raise ValueError(f"multiturn: only {len(available)} tasks left with held-out {lang} records for "
                             f"conversation {i}; ask for fewer conversations or turns")
        links = [pools[lang][task].pop(rng.randrange(len(pools[lang][task]))) for task in rng.sample(available, turns)]
        out.append(chain(links, id=f"multiturn-{seed}-{i}", lang=lang))
    return out


def chain(links: list[dict], *, id: str, lang: str) -> dict:
    """One conversation of the single-turn records `links`, in order, each turn's task and reference kept."""
    messages = [m for r in links for m in r["messages"]]
    turns = [{"task": r["task"], "reference": r["reference"], "lang": r.get("lang"),
              "meta": {**r.get("meta", {}), "source_id": r.get("id")}} for r in links]
    return {"id": id, "messages": messages, "task": links[-1]["task"], "lang": lang, "source": SOURCE,
            "reference": links[-1]["reference"], "meta": {"held_out": True, "turns": turns}}


def switches(record: dict) -> int:
    """How many times the task changes from one assistant turn to the next."""
    tasks = [t["task"] for t in turn_specs(record) or []]
    return sum(a != b for a, b in zip(tasks, tasks[1:]))


def _assistant_positions(record: dict) -> list[int]:
    return [i for i, m in enumerate(record["messages"]) if m["role"] == "assistant"]


def turn_prompt(record: dict, k: int, own: list[str] | None = None) -> list[dict]:
    """The conversation the model answers at assistant turn `k` (0-based): every message before it, the
    earlier assistant turns being the references, or `own` (the model's own earlier answers, one per
    earlier turn) when given."""
    at = _assistant_positions(record)
    messages = [dict(m) for m in record["messages"][:at[k]]]
    if own is not None:
        if len(own) < k:
            raise ValueError(f"turn {k + 1} of {record.get('id')}: {k} earlier answers needed, {len(own)} given")
        for j, pos in enumerate(at[:k]):
            messages[pos] = {"role": "assistant", "content": own[j]}
    return messages


def turn_record(record: dict, k: int) -> dict:
    """What assistant turn `k` (0-based) of a multi-turn record is scored as: a single-turn record of that
    turn's own request and reference answer (a verifier reads the request it answered, nothing before it),
    with the turn's task, reference and language, and in `meta` its position (`turn`, 1-based), the turn
    count (`turns`), the task of the turn before (`prev_task`, None on the first) and the conversation's id."""
    specs = turn_specs(record)
    at = _assistant_positions(record)
    spec = specs[k]
    request = next(m for m in reversed(record["messages"][:at[k]]) if m["role"] == "user")
    meta = {**(record.get("meta") or {}), **(spec.get("meta") or {})}
    meta.pop("turns", None)
    meta.update(turn=k + 1, turns=len(specs), prev_task=specs[k - 1]["task"] if k else None,
                conversation=record.get("id"))
    return {"id": f"{record.get('id')}#{k + 1}", "messages": [dict(request), dict(record["messages"][at[k]])],
            "task": spec["task"], "lang": spec.get("lang") or record.get("lang"), "source": record.get("source"),
            "reference": spec.get("reference"), "meta": meta}
