"""The judge's model: a prompt-intent classifier and a gradient-boosted model over pair features, trained
on registry pairs (`make_pairs`), cached between processes, and the verdicts it gives.

Nothing here needs a GPU or an LLM; training takes seconds and happens once per process (`default_judge`),
or never while the cache under `model.cache_dir()` matches the judge's and the tasks' sources.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import pickle
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mtsft import tasks
from mtsft.eval.judge.features import NO_TASK, explain, no_task_reason, pair_features, signal_hits, task_names
from mtsft.eval.judge.pairs import make_pairs
from mtsft.eval.judge.prompt import read_prompt
from mtsft.model import cache_dir
from mtsft.tasks.builtin.content import digest as content_digest
from mtsft.tasks.plugins import yaml_task_files_digest

if TYPE_CHECKING:
    from mtsft.eval.judge.backup import LLMBackup

JUDGE_VERSION = 2   # 2: trained on weak outputs too (a "none" class), see `WEAK_SHARE`

# ---- the verdict ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """performed_task: the task the output performs ("none": no task); confidence: the judge's probability
    for it; crossed: performed_task is another task than the intended one (given, or read from the prompt)
    and the verdict clears the bars (`read_verdict`: a weak attempt that merely reads as another task is
    not crossed);
    reason: a short human-readable account of the evidence."""

    performed_task: str
    confidence: float
    crossed: bool
    reason: str
    intended: str | None = None
    probabilities: dict[str, float] = field(default_factory=dict, compare=False, repr=False)

    def to_record(self) -> dict:
        """The verdict as stored beside an output (chat's `performed`); `from_record` reads it back."""
        return {"task": self.performed_task, "confidence": round(self.confidence, 3), "crossed": self.crossed,
                "asked": self.intended, "reason": self.reason}

    @classmethod
    def from_record(cls, stored: dict) -> Verdict:
        return cls(performed_task=stored["task"], confidence=float(stored.get("confidence") or 0.0),
                   crossed=bool(stored.get("crossed")), reason=stored.get("reason") or "", intended=stored.get("asked"))


# ---- the bars a verdict must clear ----------------------------------------------------------------
# A weak output of task A often reads as task B (a copied passage as a summary, a story in English as a
# translation): the judge errs most there, and its false alarms would count as crosstalk. So a crossing is
# called only when the model is CROSS_BAR sure, among the tasks, that the output performs the other one,
# and gives "no task" (a garbled, copied or cut-short output) at most NO_TASK_DOUBT; "none" itself is said
# only at NONE_BAR (below it, the likeliest task). Chosen on the hand-labelled dev sets
# (bench/data/judge_hand_labels_v1/v2.jsonl), never on the test set v3.
CROSS_BAR = 0.95
NO_TASK_DOUBT = 0.3
NONE_BAR = 0.9


def read_verdict(probabilities: dict[str, float], asked: str) -> tuple[str, float, bool]:
    """(performed task, confidence, crossed) from the model's probabilities: "none" when the model is
    NONE_BAR sure of it, else the likeliest task, crossed only past the bars above."""
    no_task = probabilities.get(NO_TASK, 0.0)
    if no_task >= NONE_BAR:
        return NO_TASK, no_task, False
    tasks_only = {c: q for c, q in probabilities.items() if c != NO_TASK}
    performed = max(tasks_only, key=tasks_only.get)
    share = tasks_only[performed] / max(1e-9, sum(tasks_only.values()))
    return performed, tasks_only[performed], performed != asked and share >= CROSS_BAR and no_task <= NO_TASK_DOUBT


# ---- the model -----------------------------------------------------------------------------------


class CrosstalkJudge:
    """Prompt-intent classifier + pair-feature gradient boosting; `fit` on pairs like `make_pairs`'."""

    def __init__(self, names: list[str] | None = None, seed: int = 0, *, likeness: bool = False,
                 model_params: dict | None = None):
        self.names = names or task_names()
        self.seed = seed
        self.likeness = likeness
        self.model_params = {"max_iter": 200, "learning_rate": 0.08, "max_leaf_nodes": 15, "min_samples_leaf": 30,
                             "l2_regularization": 1.0, "max_features": 0.5, **(model_params or {})}
        self._intent = None
        self._model = None

    # intent: what the prompt asks
    def _intent_text(self, instruction: str, context: str) -> str:
        return instruction + "\n" + context[:400]

    def _intent_matrix(self, texts: list[str]):
        import numpy as np
        probs = self._intent.predict_proba(texts)
        full = np.zeros((len(texts), len(self.names)))
        for j, cls in enumerate(self._intent.classes_):
            full[:, self.names.index(cls)] = probs[:, j]
        return full

    def _rows(self, parsed: list[tuple[str, str, str]], outputs: list[str], intent):
        import numpy as np
        feats = []
        for (instr, ctx, mat), out, vec in zip(parsed, outputs, intent):
            feats.append(pair_features(instr, ctx, mat, out, self.names, self.likeness)
                         + signal_hits(instr, self.names) + list(vec))
        return np.asarray(feats, dtype=float)

    def fit(self, pairs: list[dict]) -> "CrosstalkJudge":
        from threadpoolctl import threadpool_limits

        # One thread: the model is small, and OpenMP threads on a busy machine cost minutes, not seconds.
        with threadpool_limits(1):
            return self._fit(pairs)

    def _fit(self, pairs: list[dict]) -> "CrosstalkJudge":
        import numpy as np
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import cross_val_predict
        from sklearn.pipeline import make_pipeline

        parsed = [read_prompt(p["prompt"]) for p in pairs]
        texts = [self._intent_text(i, c) for i, c, _ in parsed]
        intended = [p["intended"] for p in pairs]
        self.names = sorted((set(self.names) | set(intended) | {p["performed"] for p in pairs}) - {NO_TASK})
        intent = make_pipeline(TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), min_df=2, sublinear_tf=True,
                                               max_features=60000),
                               LogisticRegression(C=4.0, max_iter=2000))
        oof = cross_val_predict(intent, texts, intended, cv=3, method="predict_proba")
        classes = sorted(set(intended))
        vec = np.zeros((len(pairs), len(self.names)))
        for j, cls in enumerate(classes):
            vec[:, self.names.index(cls)] = oof[:, j]
        # Half the rows see the intended task as given (one-hot), half only what the prompt says.
        rng = random.Random(self.seed)
        for k, name in enumerate(intended):
            if rng.random() < 0.5:
                vec[k] = 0.0
                vec[k, self.names.index(name)] = 1.0
        self._intent = intent.fit(texts, intended)
        X = self._rows(parsed, [p["output"] for p in pairs], vec)
        y = [p["performed"] for p in pairs]
        self._model = HistGradientBoostingClassifier(random_state=self.seed, **self.model_params).fit(X, y)
        return self

    def judge_many(self, items, intended: list[str | None] | None = None, *, backup: "LLMBackup | None" = None,
                   backup_below: float = 0.6) -> list[Verdict]:
        """Verdicts for (prompt, output) pairs; `prompt` is a string or chat messages; `intended` (one per
        item, None where unknown) is the task that was asked, when the caller knows it. With `backup`, an
        LLM re-judges the pairs the model is unsure of (confidence below `backup_below`) whose asked or
        judged task is open-ended; its answer wins when it names a known task, else the model's stands."""
        verdicts = self._judge_many(items, intended)
        if backup is not None:
            verdicts = [backup.review(v, p, o, self.names) if v.confidence < backup_below else v
                        for v, (p, o) in zip(verdicts, list(items))]
        return verdicts

    def _judge_many(self, items, intended: list[str | None] | None = None) -> list[Verdict]:
        import numpy as np
        from threadpoolctl import threadpool_limits

        items = list(items)
        if not items:
            return []
        intended = list(intended) if intended is not None else [None] * len(items)
        parsed = [read_prompt(p) for p, _ in items]
        with threadpool_limits(1):
            vec = self._intent_matrix([self._intent_text(i, c) for i, c, _ in parsed])
        asked = []
        for k, name in enumerate(intended):
            if name is not None and name in self.names:
                vec[k] = 0.0
                vec[k, self.names.index(name)] = 1.0
            asked.append(name if name is not None else self.names[int(np.argmax(vec[k]))])
        X = self._rows(parsed, [o for _, o in items], vec)
        with threadpool_limits(1):
            probs = self._model.predict_proba(X)
        classes = [str(c) for c in self._model.classes_]
        verdicts = []
        for k in range(len(items)):
            why_none = no_task_reason(parsed[k][0], parsed[k][2], items[k][1])
            if why_none:
                verdicts.append(Verdict(performed_task=NO_TASK, confidence=1.0, crossed=False,
                                        reason=f"performs no task: {why_none}", intended=asked[k]))
                continue
            p = {c: float(probs[k][i]) for i, c in enumerate(classes)}
            performed, confidence, crossed = read_verdict(p, asked[k])
            reason = explain(parsed[k], items[k][1], asked[k], performed, intended[k] is None)
            if performed not in (asked[k], NO_TASK) and not crossed:
                reason = (reason.replace(" — crossed", "") + f" — under the bar for calling a crossing ({CROSS_BAR} "
                          f"among tasks, 'no task' at most {NO_TASK_DOUBT}: {p.get(NO_TASK, 0.0):.2f}): not crossed")
            verdicts.append(Verdict(performed_task=performed, confidence=confidence, crossed=crossed,
                                    reason=reason, intended=asked[k], probabilities=p))
        return verdicts

    def judge(self, prompt, output: str, intended: str | None = None, **kwargs) -> Verdict:
        return self.judge_many([(prompt, output)], [intended], **kwargs)[0]


# ---- the default judge: trained once, cached -------------------------------------------------------

_DEFAULT: CrosstalkJudge | None = None
TRAIN_SEED, TRAIN_PER_TASK_LANG = 0, 120
# Share of the training records that also give a weak output (garbled, copied, cut short: `make_pairs`'
# weak_share): without them the judge read a small model's failures as other tasks.
WEAK_SHARE = 0.4


def cache_file() -> Path | None:
    """Where the trained default judge is kept between processes (`model.cache_dir()`), keyed by the
    judge's sources, the registered tasks, the task modules' sources and data, the built-in content tables
    and the YAML task files MTSFT_TASKS names (a changed generator, table or plug-in retrains it); None when
    disabled (MTSFT_JUDGE_CACHE=0) or when a source cannot be read."""
    if os.environ.get("MTSFT_JUDGE_CACHE", "1") == "0":
        return None
    digest = hashlib.sha256(f"{JUDGE_VERSION}:{TRAIN_SEED}:{TRAIN_PER_TASK_LANG}:{WEAK_SHARE}".encode())
    try:
        sources = {str(p) for p in Path(__file__).resolve().parent.glob("*.py")}
        tasks_dir = Path(tasks.__file__).resolve().parent
        sources |= {str(p) for pattern in ("*.py", "*.json") for p in tasks_dir.rglob(pattern)}
        for name in task_names():
            digest.update(name.encode())
            source = inspect.getsourcefile(type(tasks.get(name)))
            if source:
                sources.add(str(Path(source).resolve()))
        for source in sorted(sources):
            digest.update(Path(source).read_bytes())
    except (OSError, TypeError):
        return None
    digest.update(content_digest().encode())  # the built-in content tables (tasks/builtin/content/*.jsonl)
    digest.update(yaml_task_files_digest().encode())
    return cache_dir() / f"crosstalk-judge-{digest.hexdigest()[:16]}.pkl"


def default_judge() -> CrosstalkJudge:
    """The judge trained on registry pairs (training templates, seed 0), built once per process and kept
    under `model.cache_dir()` (~/.cache/mtsft, or MTSFT_CACHE) until the judge or a task changes."""
    global _DEFAULT
    if _DEFAULT is not None and not set(task_names()) - set(_DEFAULT.names):
        return _DEFAULT
    path = cache_file()
    if path is not None and path.exists():
        try:
            with open(path, "rb") as f:
                _DEFAULT = pickle.load(f)
            return _DEFAULT
        except Exception:  # a stale or partial cache file: retrain
            pass
    _DEFAULT = CrosstalkJudge(seed=TRAIN_SEED).fit(make_pairs(seed=TRAIN_SEED, per_task_lang=TRAIN_PER_TASK_LANG,
                                                              held_out=False, weak_share=WEAK_SHARE))
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            with open(tmp, "wb") as f:
                pickle.dump(_DEFAULT, f)
            os.replace(tmp, path)
        except OSError:
            pass
    return _DEFAULT


def default_judge_ready() -> bool:
    """Whether `default_judge()` answers without training (in memory or in the cache)."""
    path = cache_file()
    return _DEFAULT is not None or (path is not None and path.exists())


def judge(prompt, output: str, intended: str | None = None, **kwargs) -> Verdict:
    """Which task `output` performs, read against `prompt` (a string or chat messages)."""
    return default_judge().judge(prompt, output, intended, **kwargs)


def judge_many(items, intended: list[str | None] | None = None, **kwargs) -> list[Verdict]:
    """`judge` for many (prompt, output) pairs at once (one feature pass, one model call)."""
    return default_judge().judge_many(items, intended, **kwargs)
