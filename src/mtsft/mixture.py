"""A mixture: how many records each task gets, and how an up-sampled record is varied.

Shared by `data curate` (the balance round) and `train` (per-epoch resampling), so both read a mixture
the same way and train the same augmentations: one `MixtureConfig`, one `mixture_counts`, one `augment`.
Also what diagnosis's levers add to a mixture: records drawn from the task registry's generators (hard
negatives of a crossed pair, format exemplars: `registry_additions`, used by the balance round) and a label
task's label list in its requests (`with_label_list`, used by training).

Strategies (n_t = records available for task t, N = target total):
- proportional: p_t ∝ min(n_t, cap)                      (T5 "examples-proportional" / FLAN's cap)
- temperature:  p_t ∝ min(n_t, cap) ** (1 / T)           (T5 temperature mixing; T=1 is proportional)
- uniform:      p_t = 1 / |tasks|
- weights:      p_t ∝ w_t given explicitly (tasks without a weight get 0)
"""

from __future__ import annotations

import copy
import functools
import math
import random
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from mtsft.config import StrictConfig, Weight

Strategy = Literal["proportional", "temperature", "uniform", "weights"]
STRATEGIES = ("proportional", "temperature", "uniform", "weights")
DEFAULT_TEMPERATURE = 3.0  # between T5's T=2 and mT5's T~3.3: rare tasks rise without swamping the frequent


class MixtureConfig(StrictConfig):
    """How many records of each task a mixture draws. `total` defaults to the records available."""

    strategy: Strategy = "temperature"
    # at least 0.1: counts are raised to 1/T, and a smaller T overflows a float (n ** 1000) for any real task
    temperature: float = Field(DEFAULT_TEMPERATURE, ge=0.1)
    cap: int | None = Field(None, gt=0)          # per-task cap before mixing (T5/FLAN)
    total: int | None = Field(None, ge=1)
    weights: dict[str, Weight] | None = None     # {task: weight} for strategy "weights"

    @field_validator("weights")
    @classmethod
    def _not_all_zero(cls, weights: dict[str, float] | None) -> dict[str, float] | None:
        if weights and not any(w > 0 for w in weights.values()):
            raise ValueError("every weight is 0: the mixture would be empty")
        return weights

    @model_validator(mode="after")
    def _weights_given(self) -> MixtureConfig:
        if self.strategy == "weights" and not self.weights:
            raise ValueError("strategy 'weights' needs weights, e.g. --weights code=2,math=1")
        return self

    def counts(self, available: dict[str, int]) -> dict[str, int]:
        return mixture_counts(available, self.strategy, total=self.total, cap=self.cap,
                              temperature=self.temperature, weights=self.weights)


def mixture_rates(
    counts: dict[str, int],
    strategy: Strategy = "temperature",
    *,
    cap: int | None = None,
    temperature: float = DEFAULT_TEMPERATURE,
    weights: dict[str, float] | None = None,
) -> dict[str, float]:
    """Sampling rate per task (sums to 1 over tasks with a positive rate)."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown mixture strategy {strategy!r} (expected one of {', '.join(STRATEGIES)})")
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    capped = {t: min(n, cap) if cap else n for t, n in counts.items()}
    if strategy == "proportional":
        raw = {t: float(n) for t, n in capped.items()}
    elif strategy == "temperature":
        raw = {t: float(n) ** (1.0 / temperature) if n > 0 else 0.0 for t, n in capped.items()}
    elif strategy == "uniform":
        raw = {t: 1.0 if n > 0 else 0.0 for t, n in counts.items()}
    else:
        if not weights:
            raise ValueError("strategy 'weights' needs weights, e.g. --weights code=2,math=1")
        unknown = sorted(set(weights) - set(counts))
        if unknown:
            raise ValueError(f"weights name tasks that have no records: {', '.join(unknown)}")
        if any(w < 0 for w in weights.values()):
            raise ValueError("weights must be >= 0")
        raw = {t: float(weights.get(t, 0.0)) for t in counts}
    total = sum(raw.values())
    if total <= 0:
        raise ValueError("the mixture is empty: no task has records (or every weight is 0)")
    return {t: r / total for t, r in raw.items()}


def mixture_counts(
    counts: dict[str, int],
    strategy: Strategy = "temperature",
    *,
    total: int | None = None,
    cap: int | None = None,
    temperature: float = DEFAULT_TEMPERATURE,
    weights: dict[str, float] | None = None,
) -> dict[str, int]:
    """Target number of records per task; `total` defaults to the number of records available.

    Rounding uses the largest-remainder method so the targets add up to `total` exactly.
    """
    rates = mixture_rates(counts, strategy, cap=cap, temperature=temperature, weights=weights)
    total = sum(counts.values()) if total is None else total
    if total < 0:
        raise ValueError(f"target total must be >= 0, got {total}")
    exact = {t: r * total for t, r in rates.items()}
    floor = {t: math.floor(x) for t, x in exact.items()}
    short = total - sum(floor.values())
    for t in sorted(exact, key=lambda t: (floor[t] - exact[t], t))[:short]:
        floor[t] += 1
    return floor


def parse_weights(text: str | None) -> dict[str, float] | None:
    """'code=2,math=1' -> {'code': 2.0, 'math': 1.0}."""
    if not text:
        return None
    out = {}
    for part in text.split(","):
        name, sep, value = part.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise ValueError(f"--weights {text!r}: expected task=number pairs, bad part {part!r}") from None
        if not sep or not name.strip():
            raise ValueError(f"--weights {text!r}: expected task=number pairs, bad part {part!r}")
    return out


# ---- augmentations: how an up-sampled record differs from its source ----------------------------------

SYSTEM_PROMPTS = {
    "en": ["You are a helpful assistant.", "You are a careful, precise assistant.",
           "You are an assistant that answers exactly what is asked.", "You are a knowledgeable and concise assistant."],
    "zh": ["你是一个乐于助人的助手。", "你是一个认真、严谨的助手。", "你是一个只回答所问内容的助手。", "你是一个知识丰富、回答简洁的助手。"],
}
# Framings that re-phrase the request around the original instruction without changing what it asks.
REPHRASINGS = {
    "en": ["Please help me with the following.\n\n{p}", "{p}\n\nThank you!", "Here is my request:\n{p}",
           "I need your help with this one.\n{p}", "Task:\n{p}"],
    "zh": ["请帮我完成下面的任务。\n\n{p}", "{p}\n\n谢谢！", "我的请求如下：\n{p}", "这个问题需要你帮忙：\n{p}", "任务：\n{p}"],
}
AUGMENTATIONS = ("rephrase", "system_prompt")


def _lang(record: dict) -> str:
    return "zh" if record.get("lang") == "zh" else "en"


def augment(record: dict, how: str, k: int, rng: random.Random) -> dict:
    """A copy of `record` varied by `how` (rephrase | system_prompt), its id marked with `~{how}{k}`."""
    new = copy.deepcopy(record)
    new["id"] = f"{record['id']}~{how}{k}"
    msgs = new["messages"]
    if how == "rephrase":
        first_user = next(i for i, m in enumerate(msgs) if m["role"] == "user")
        msgs[first_user]["content"] = rng.choice(REPHRASINGS[_lang(record)]).format(p=msgs[first_user]["content"])
    elif how == "system_prompt":
        current = msgs[0]["content"] if msgs[0]["role"] == "system" else None
        choice = rng.choice([s for s in SYSTEM_PROMPTS[_lang(record)] if s != current])
        if current is None:
            msgs.insert(0, {"role": "system", "content": choice})
        else:
            msgs[0]["content"] = choice
    new["meta"] = {**new.get("meta", {}), "upsampled": {"from": record["id"], "how": how}}
    return new


# ---- records the task registry adds to a mixture (diagnosis's levers) ---------------------------------
# Hard negatives and format exemplars are drawn from each task's own generator (training templates and
# content only, never the held-out partition the eval split uses), so what a task looks like stays in the
# registry; these functions only pick among the draws. Marked as copies (`meta.upsampled`, `from` naming the
# registry) so curation counts them apart from the inputs.

REGISTRY_TRIES = 40      # draws per wanted record before a task's pool counts as exhausted
REGISTRY_MIN_TRIES = 200


def parse_pair(pair: str) -> tuple[str, str]:
    """'translation>open_qa' -> ('translation', 'open_qa'): prompts of the first task that read like the second."""
    task, sep, like = pair.partition(">")
    if not sep or not task.strip() or not like.strip() or task.strip() == like.strip():
        raise ValueError(f"{pair!r}: expected 'task>other_task' (prompts of task that read like other_task)")
    return task.strip(), like.strip()


def _user_text(record: dict) -> str:
    return "\n".join(m["content"] for m in record["messages"] if m["role"] == "user")


def reads_like(record: dict, other: str) -> bool:
    """Whether `record`'s request carries the registry's instruction signals of task `other`."""
    from mtsft import tasks

    text = _user_text(record)
    return any(re.search(p, text, re.IGNORECASE) for p in tasks.get(other).signals.get(record.get("lang") or "en", []))


def _registry_draws(task: str, want: int, seed: int, langs, skip: set[str], why: str):
    """Fresh training-content records of `task` from its generator, prompts not in `skip`."""
    from mtsft import tasks

    generator = tasks.get(task)
    langs = list(langs) or ["zh", "en"]
    for k in range(max(REGISTRY_MIN_TRIES, REGISTRY_TRIES * want)):
        try:
            record = generator.generate(random.Random(f"{seed}:{why}:{task}:{k}"), langs[k % len(langs)])
        except (NotImplementedError, KeyError, ValueError):   # a plug-in task without a generator
            return
        if _user_text(record) not in skip:
            yield record


def _as_added(records: list[dict], how: str, skip: set[str]) -> list[dict]:
    for k, r in enumerate(records):
        skip.add(_user_text(r))
        r["id"] = f"registry-{how}-{r['task']}-{k}"
        r["meta"] = {**r.get("meta", {}), how: True, "upsampled": {"from": f"registry:{r['task']}", "how": how}}
    return records


def hard_negative_records(task: str, like: str, want: int, *, seed: int = 0, langs=("zh", "en"),
                          skip: set[str] | None = None) -> list[dict]:
    """Up to `want` records of `task` whose prompt reads like task `like` (its signals), answered as `task`;
    filled up with the generator's own hard negatives (`meta.hard_negative`: content shaped like another task)."""
    if want <= 0:
        return []
    skip = set() if skip is None else skip
    alike, marked = [], []   # prompts with `like`'s signals first, then the generator's own hard negatives
    for r in _registry_draws(task, want, seed, langs, skip, f"hard>{like}"):
        if reads_like(r, like):
            alike.append(r)
        elif r["meta"].get("hard_negative"):
            marked.append(r)
        if len(alike) >= want:
            break
    picked = (alike + marked)[:want]
    for r in picked:
        r["meta"]["hard_negative_of"] = like
    return _as_added(picked, "hard_negative", skip)


def format_exemplar_records(task: str, want: int, *, seed: int = 0, langs=("zh", "en"),
                            skip: set[str] | None = None) -> list[dict]:
    """Up to `want` records of `task` whose answer passes the task's own format check."""
    from mtsft import tasks
    from mtsft.records import response

    if want <= 0:
        return []
    skip = set() if skip is None else skip
    checker, picked = tasks.get(task), []
    for r in _registry_draws(task, want, seed, langs, skip, "exemplar"):
        if not checker.format_violations(response(r), r):
            picked.append(r)
        if len(picked) >= want:
            break
    return _as_added(picked, "format_exemplar", skip)


def prompt_set(records: list[dict]) -> set[str]:
    """The requests of `records`: what a registry draw must not repeat."""
    return {_user_text(r) for r in records}


def registry_upsample(task: str, want: int, members: list[dict], skip: set[str], seed: int = 0) -> list[dict]:
    """Up to `want` fresh records of `task` (answers passing its format check) in the languages of its
    `members`, prompts not in `skip` (which grows by theirs), marked as the balance round's (how: registry);
    none for a task the registry cannot generate."""
    langs = sorted({r.get("lang") for r in members} & {"zh", "en"}) or ["zh", "en"]
    try:
        drawn = format_exemplar_records(task, want, seed=seed, langs=langs, skip=skip)
    except KeyError:   # a task the registry does not know (a user's label)
        return []
    for k, r in enumerate(drawn):
        r["id"] = f"registry-upsample-{task}-{k}"
        r["meta"]["upsampled"] = {"from": f"registry:{task}", "how": "registry"}
        r["meta"].pop("format_exemplar", None)
    return drawn


def registry_additions(records: list[dict], hard_negatives: dict[str, float], exemplars: dict[str, float],
                       seed: int = 0) -> list[dict]:
    """The records `curate.balance.hard_negatives` ({'a>b': share}) and `format_exemplars` ({task: share}) add,
    each share of the `records` given, in the languages the task's records use."""
    from mtsft.records import task_of

    skip = {_user_text(r) for r in records}
    total, out = len(records), []

    def langs(task: str) -> list[str]:
        return sorted({r.get("lang") for r in records if task_of(r) == task} & {"zh", "en"}) or ["zh", "en"]

    for pair, share in sorted(hard_negatives.items()):
        task, like = parse_pair(pair)
        out += hard_negative_records(task, like, round(share * total), seed=seed, langs=langs(task), skip=skip)
    for task, share in sorted(exemplars.items()):
        out += format_exemplar_records(task, round(share * total), seed=seed, langs=langs(task), skip=skip)
    return out


# ---- label tasks: the label list in the request --------------------------------------------------------

LABEL_LIST = {"en": "Answer with one of: {labels}.", "zh": "只回答以下标签之一：{labels}。"}


def label_sets(task: str, lang: str) -> list[list[str]]:
    """The label lists the registry's generator of `task` offers in `lang` (its references' `labels`);
    empty for a task that is no label task (or unknown to the registry)."""
    return [list(s) for s in _label_sets(task, lang)]


@functools.cache
def _label_sets(task: str, lang: str) -> tuple[tuple[str, ...], ...]:
    found: list[tuple[str, ...]] = []
    for r in _registry_draws(task, 1, 0, [lang], set(), "labels") if is_label_task(task) else ():
        labels = tuple((r.get("reference") or {}).get("labels") or ())
        if labels and labels not in found:
            found.append(labels)
    return tuple(found)


def is_label_task(task: str) -> bool:
    from mtsft import tasks

    try:
        model = tasks.get(task).reference_model
    except KeyError:
        return False
    return model is not None and "labels" in getattr(model, "model_fields", {})


def record_labels(record: dict) -> list[str] | None:
    """The labels a label task's record chooses from: its reference's `labels`, else the registry's list
    holding its `label`; None for a record of no label task."""
    ref = record.get("reference")
    if not isinstance(ref, dict) or not is_label_task(record.get("task") or ""):
        return None
    if ref.get("labels"):
        return list(ref["labels"])
    return next((s for s in label_sets(record["task"], _lang(record)) if ref.get("label") in s), None)


def with_label_list(record: dict) -> list[dict]:
    """`record`'s messages, its last request ending with the label list when it does not name every label
    already (`train.label_list`); a copy, the record untouched."""
    msgs = [dict(m) for m in record["messages"]]
    labels = record_labels(record)
    last = max((i for i, m in enumerate(msgs) if m["role"] == "user"), default=None)
    if not labels or last is None or all(label in msgs[last]["content"] for label in labels):
        return msgs
    joined = ", ".join(labels) if _lang(record) == "en" else "、".join(labels)
    msgs[last]["content"] += "\n" + LABEL_LIST[_lang(record)].format(labels=joined)
    return msgs
