"""The judge's training and test pairs, from the registry: each task's clean records and crossed ones.

What a clean or crossed output of a task looks like is the task's knowledge (`Task.judge_record`,
`Task.clean_output`, `Task.crossed_outputs`, see `mtsft.tasks.crossing`); here only the mix is decided. A
task that builds no crossings of its own gets the default ones, so a YAML plug-in is judged like any task.
"""

from __future__ import annotations

import random

from mtsft import tasks
from mtsft.eval.judge.prompt import read_prompt
from mtsft.records import response
from mtsft.tasks.crossing import CrossingDraw, prompt_messages, weak_outputs


def record_material(record: dict) -> str:
    """What a record's prompt quotes for its task to work on, read as the judge reads any prompt."""
    return read_prompt(prompt_messages(record))[2]


def make_pairs(seed: int, per_task_lang: int, *, held_out: bool, crossed_share: float = 0.5,
               task_names: list[str] | None = None, weak_share: float = 0.0) -> list[dict]:
    """Clean and crossed (prompt, output) pairs from the registry, `per_task_lang` per task and language.

    Each row: prompt (messages), output, intended, performed, crossed, kind, lang, source. Crossed rows keep
    the record's content and change what is done with it; `held_out=True` uses the registry's held-out
    templates and the held-out phrase pools. `weak_share` of the records also give a weak output
    (`crossing.weak_outputs`: garbled, copied, cut short; performed is the task or "none"), drawn from their
    own random stream so that the other rows stay as they were."""
    rng = random.Random(seed)
    names = task_names or tasks.names()
    known = set(tasks.names())
    rows: list[dict] = []
    for name in names:
        task = tasks.get(name)
        for lang in ("en", "zh"):
            for i in range(per_task_lang):
                s = rng.randrange(1 << 30)
                try:
                    rec = task.generate(random.Random(s), lang, held_out=held_out)
                except Exception:  # no records in this language (a plug-in with examples in one)
                    break
                rec = task.judge_record(rec, rng, held_out=held_out)
                base = {"intended": name, "lang": lang, "source": f"registry:{name}:{s}"}
                if weak_share and random.Random(s).random() < weak_share:
                    rows.append({**base, **weak_row(task, rec, s, held_out)})
                if int((i + 1) * crossed_share) == int(i * crossed_share):  # clean; crossed_share of i are crossed
                    rows.append({**base, "prompt": prompt_messages(rec), "output": task.clean_output(rec, rng),
                                 "performed": name, "crossed": False, "kind": "clean"})
                    continue
                draw = CrossingDraw(task, rec, s, rng, held_out, record_material)
                try:
                    options = [c for c in task.crossed_outputs(draw) if c.performed in known]
                except Exception:  # a generator that changed shape: keep the pair clean
                    options = []
                if not options:
                    rows.append({**base, "prompt": prompt_messages(rec), "output": response(rec),
                                 "performed": name, "crossed": False, "kind": "clean"})
                    continue
                # one option needs no draw (and leaves the random stream, so every later pair, as it was)
                crossed = options[0] if len(options) == 1 else rng.choice(options)
                rows.append({**base, "prompt": crossed.prompt or prompt_messages(rec), "output": crossed.output,
                             "performed": crossed.performed, "crossed": crossed.performed != name,
                             "kind": crossed.kind})
    return rows


def weak_row(task, record: dict, seed: int, held_out: bool) -> dict:
    """One weak output of `record` (its own random stream, seeded by the record's draw)."""
    rng = random.Random(seed + 1)
    draw = CrossingDraw(task, record, seed, rng, held_out, record_material)
    try:
        # a task may add weak outputs of its own (`weak_outputs` method), else the shared ones
        own = getattr(task, "weak_outputs", None)
        weak = rng.choice(own(draw) if callable(own) else weak_outputs(task, draw))
    except Exception:  # a plug-in whose records cannot be cut or copied: its reference, clean
        return {"prompt": prompt_messages(record), "output": response(record), "performed": task.name,
                "crossed": False, "kind": "clean"}
    return {"prompt": prompt_messages(record), "output": weak.output, "performed": weak.performed,
            "crossed": False, "kind": weak.kind}
