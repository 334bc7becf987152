"""User task types: from a Python entry point (group `mtsft.tasks`) or from a YAML file.

Entry point: in the user's package, `[project.entry-points."mtsft.tasks"] sql = "mypkg.tasks:SQL_TASK"`,
where the object is a `Task`, a list of them, or a function returning either.

YAML (no Python needed): each task picks instruction signals and one built-in scorer by name, and may give
examples so that it can generate records:

    tasks:
      - name: sql
        description: {en: "Write an SQL query.", zh: "写SQL查询。"}
        family: structured
        signals: {en: ["\\\\bSQL\\\\b"], zh: ["SQL"]}
        scorer: exact_match           # one of mtsft.tasks.matchers.SCORERS
        output_shape: code            # code | json | list | label | text (what crosstalk detection looks for)
        examples:
          - {lang: en, prompt: "Count the rows of table t.", answer: "SELECT COUNT(*) FROM t;"}
"""

from __future__ import annotations

import hashlib
import os
import random
import warnings
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path

import yaml

from mtsft.records import make_record
from mtsft.tasks import formats, register, relevance, matchers
from mtsft.tasks.base import Task

ENTRY_POINT_GROUP = "mtsft.tasks"
SHAPES = {"code": formats.code_likeness, "json": formats.json_likeness, "list": formats.list_likeness,
          "label": lambda o: float(0 < len(matchers.tokens(o)) <= 3 and "\n" not in o.strip()),
          "text": lambda o: 0.3 if o.strip() and not formats.has_markdown(o) else 0.0}


def env_task_files() -> list[Path]:
    """The YAML task files the MTSFT_TASKS environment variable names (paths separated by os.pathsep)."""
    return [Path(p) for p in os.environ.get("MTSFT_TASKS", "").split(os.pathsep) if p]


def yaml_task_files_digest() -> str:
    """A digest of the contents of the YAML task files MTSFT_TASKS names, in order. Every YAML task shares
    one class (so one source file): a cache built from the registry (the crosstalk judge) keys on this so
    that an edited plug-in rebuilds it. An unreadable file hashes as such."""
    digest = hashlib.sha256()
    for path in env_task_files():
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(f"<unreadable {path}>".encode())
        digest.update(b"\0")
    return digest.hexdigest()


def load_entry_point_tasks() -> list[Task]:
    """Register every task the installed packages declare; a broken plugin warns and is skipped, so one
    bad package cannot take the built-in tasks down with it."""
    loaded = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
            obj = obj() if callable(obj) and not isinstance(obj, Task) else obj
            tasks = obj if isinstance(obj, (list, tuple)) else [obj]
            for task in tasks:
                if not isinstance(task, Task):
                    raise TypeError(f"{type(task).__name__} is not a mtsft Task")
                loaded.append(register(task, replace=True))
        except Exception as e:  # noqa: BLE001  (any plugin failure is reported the same way)
            warnings.warn(f"mtsft task plugin {ep.name!r} ({ep.value}) was skipped: {e}", stacklevel=2)
    return loaded


@dataclass
class YamlTask(Task):
    """A task defined by data: signals, a built-in scorer, an output shape and optional examples."""

    scorer: str = "exact_match"
    output_shape: str = "text"
    examples: list[dict] = field(default_factory=list)

    def generate(self, rng: random.Random, lang: str, *, held_out: bool = False) -> dict:
        pool = [e for e in self.examples if e.get("lang", lang) == lang]
        if not pool:
            raise ValueError(f"task {self.name!r} has no examples in {lang!r} to generate from")
        ex = rng.choice(pool)
        reference = {"answer": ex["answer"], **({"value": ex["reference"]} if "reference" in ex else {})}
        return make_record([{"role": "user", "content": ex["prompt"]}, {"role": "assistant", "content": ex["answer"]}],
                           source=f"yaml-task:{self.name}", task=self.name, lang=lang, reference=reference,
                           meta={"template": f"{lang}-example", "held_out": held_out})

    def score(self, output: str, record: dict) -> float:
        ref = record.get("reference")
        expected = ref.get("value", ref.get("answer")) if isinstance(ref, dict) else ref
        return float(matchers.SCORERS[self.scorer](output, expected))

    def reference_problem(self, record: dict) -> str | None:
        ref = record.get("reference")
        expected = ref.get("value", ref.get("answer")) if isinstance(ref, dict) else ref
        return "reference has no `value` or `answer` to compare with" if expected is None else None

    def format_violations(self, output: str, record: dict) -> list[str]:
        problems = formats.check_not_empty(output)
        if problems:
            return problems
        problems = formats.check_language(output, self.answer_lang(record))
        if self.output_shape == "json":
            problems += formats.check_json_object(output)
        elif self.output_shape == "code":
            problems += formats.check_code(output)
        elif self.output_shape == "list":
            problems += formats.check_list(output, None, relevance.last_user(record))
        return problems

    def output_likeness(self, output: str) -> float:
        return SHAPES[self.output_shape](output)


def load_yaml_tasks(path: str | Path, *, replace: bool = False) -> list[Task]:
    """Read task definitions from a YAML file and register them; errors name the file and the task."""
    path = Path(path)
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = data.get("tasks") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a `tasks:` list of task definitions")
    return [register(_yaml_task(path, i, entry), replace=replace) for i, entry in enumerate(entries)]


def _yaml_task(path: Path, i: int, entry) -> YamlTask:
    where = f"{path}: task {i + 1}"
    if not isinstance(entry, dict) or not entry.get("name"):
        raise ValueError(f"{where}: every task needs a `name`")
    where = f"{path}: task {entry['name']!r}"
    unknown = set(entry) - {"name", "description", "family", "signals", "scorer", "output_shape", "examples", "multi_turn"}
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    scorer = entry.get("scorer", "exact_match")
    if scorer not in matchers.SCORERS:
        raise ValueError(f"{where}: unknown scorer {scorer!r} (one of {', '.join(matchers.SCORERS)})")
    shape = entry.get("output_shape", "text")
    if shape not in SHAPES:
        raise ValueError(f"{where}: unknown output_shape {shape!r} (one of {', '.join(SHAPES)})")
    description = entry.get("description") or {}
    if isinstance(description, str):
        description = {"en": description, "zh": description}
    for j, ex in enumerate(entry.get("examples") or []):
        if not isinstance(ex, dict) or "prompt" not in ex or "answer" not in ex:
            raise ValueError(f"{where}: example {j + 1} needs `prompt` and `answer`")
    return YamlTask(name=str(entry["name"]), description=description, signals=entry.get("signals") or {},
                    family=entry.get("family", "open"), multi_turn=bool(entry.get("multi_turn", False)),
                    scorer=scorer, output_shape=shape, examples=list(entry.get("examples") or []))
