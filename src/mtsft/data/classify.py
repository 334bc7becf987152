"""Classify round: give every record a task, a confidence and the method that decided.

Two sources of evidence, both from the task registry:
- signals: each task's instruction regexes (zh and en);
- a learned model: a scikit-learn char n-gram classifier (HashingVectorizer, so no vocabulary to store,
  + a logistic model trained by SGD) trained on prompts the registry generates, cached under $MTSFT_CACHE and
  retrained whenever the registry's training prompts change.
The model's probabilities are reweighted by the signals that match (a match multiplies the task's
probability by `SIGNAL_BOOST`), then renormalised. Below the threshold the task is `uncertain`.
"""

from __future__ import annotations

import hashlib
import random
import re
from functools import lru_cache
from pathlib import Path

import numpy as np

from mtsft.data.common import UNKNOWN_TASK, RoundResult, curate_meta, progress, reject
from mtsft.data.config import ClassifyConfig
from mtsft.records import prompt

ROUND = "classify"
SIGNAL_BOOST = 3.0
MODEL_VERSION = 1


def _vectorizer():
    from sklearn.feature_extraction.text import HashingVectorizer

    # char_wb n-grams of 1-4 work for Chinese (no spaces needed) and English alike.
    return HashingVectorizer(analyzer="char_wb", ngram_range=(1, 4), n_features=2**20,
                             alternate_sign=False, norm="l2", lowercase=True)


def training_prompts(per_task_lang: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """Labelled prompts from the registry's training templates (never the held-out ones)."""
    from mtsft import tasks

    rng = random.Random(seed)
    texts, labels = [], []
    for task in sorted(tasks.all_tasks(), key=lambda t: t.name):
        for lang in ("zh", "en"):
            for _ in range(per_task_lang):
                texts.append(prompt(task.generate(rng, lang)))
                labels.append(task.name)
            desc = task.description.get(lang)
            if desc:
                texts.append(desc)
                labels.append(task.name)
    return texts, labels


class TaskClassifier:
    """Signals + char n-gram model over the registry's tasks."""

    def __init__(self, model, signals: dict[str, re.Pattern]):
        self.model = model
        self.classes = list(model.classes_)
        self.signals = signals
        self.vectorizer = _vectorizer()

    def signal_matrix(self, texts: list[str]) -> np.ndarray:
        hits = np.zeros((len(texts), len(self.classes)), dtype=bool)
        for j, name in enumerate(self.classes):
            pattern = self.signals.get(name)
            if pattern is not None:
                hits[:, j] = [bool(pattern.search(t)) for t in texts]
        return hits

    def predict(self, texts: list[str], batch: int = 20_000, show: bool = False):
        """(task names, confidences, methods) for each text."""
        names, confs, methods = [], [], []
        for s in progress(range(0, len(texts), batch), "classify", show):
            chunk = texts[s:s + batch]
            proba = self.model.predict_proba(self.vectorizer.transform(chunk))
            hits = self.signal_matrix(chunk)
            boosted = proba * np.where(hits, SIGNAL_BOOST, 1.0)
            boosted /= boosted.sum(axis=1, keepdims=True)
            best = boosted.argmax(axis=1)
            names += [self.classes[j] for j in best]
            confs += boosted[np.arange(len(chunk)), best].round(4).tolist()
            methods += ["signals+model" if hits[i, j] else "model" for i, j in enumerate(best)]
        return names, confs, methods


def _compile_signals() -> dict[str, re.Pattern]:
    from mtsft import tasks

    out = {}
    for task in tasks.all_tasks():
        patterns = [p for lang in ("zh", "en") for p in task.signals.get(lang, [])]
        if patterns:
            out[task.name] = re.compile("|".join(f"(?:{p})" for p in patterns), re.I)
    return out


def _cache_path(texts: list[str], labels: list[str]) -> Path:
    from mtsft.model import cache_dir

    digest = hashlib.sha1(f"v{MODEL_VERSION}".encode())
    for t, y in zip(texts, labels):
        digest.update(f"{y}\t{t}\n".encode("utf-8"))
    return cache_dir() / "classifier" / f"task-clf-{digest.hexdigest()[:16]}.joblib"


@lru_cache(maxsize=4)
def load_classifier(per_task_lang: int = 300, seed: int = 0) -> TaskClassifier:
    """The classifier for the current registry: from the cache, or trained now (seconds) and cached."""
    import joblib
    from sklearn.linear_model import SGDClassifier

    texts, labels = training_prompts(per_task_lang, seed)
    path = _cache_path(texts, labels)
    if path.exists():
        model = joblib.load(path)
    else:
        # SGD on the log loss: the same model as logistic regression, trained in about a second.
        model = SGDClassifier(loss="log_loss", alpha=1e-5, max_iter=30, tol=None, random_state=0)
        model.fit(_vectorizer().transform(texts), labels)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        joblib.dump(model, tmp)
        tmp.rename(path)
    return TaskClassifier(model, _compile_signals())


def classify_round(records: list[dict], cfg: ClassifyConfig, show: bool = True, classifier=None) -> RoundResult:
    """Label records without a trusted task; every record also gets the classifier's own opinion
    (`meta.curate.predicted_task`) so the conflicts round can question trusted labels."""
    if not records:
        return RoundResult([], [])
    clf = classifier or load_classifier(cfg.train_per_task_lang)
    names, confs, methods = clf.predict([prompt(r) for r in records], show=show)
    kept, rejected, review = [], [], []
    labelled = decided = uncertain = 0
    for r, name, conf, method in zip(records, names, confs, methods):
        meta = curate_meta(r)
        meta["predicted_task"], meta["predicted_confidence"] = name, conf
        if cfg.trust_labels and r.get("task") not in (None, "", UNKNOWN_TASK):
            meta["task_method"], meta["task_confidence"] = "label", 1.0
            labelled += 1
            kept.append(r)
            continue
        if conf >= cfg.threshold:
            r["task"] = name
            meta["task_method"], meta["task_confidence"] = method, conf
            decided += 1
            kept.append(r)
            continue
        uncertain += 1
        r["task"] = UNKNOWN_TASK
        meta["task_method"], meta["task_confidence"] = method, conf
        meta["task_guess"] = name
        if cfg.uncertain == "keep":
            kept.append(r)
        else:
            rejected.append(reject(r, ROUND, "uncertain_task", guess=name, confidence=conf))
            if cfg.uncertain == "review":
                review.append(r)
    notes = {"trusted_labels": labelled, "classified": decided, "uncertain": uncertain}
    return RoundResult(kept, rejected, review=review, notes=notes)


def classify_file(inputs: list[str], out: str, cfg: ClassifyConfig | None = None, show: bool = True) -> dict:
    """`mtsft data classify`: every record written back with its task, confidence and method (uncertain
    ones included, labelled `uncertain`); returns counts by task and by method."""
    from collections import Counter

    from mtsft.data.pipeline import read_inputs
    from mtsft.records import write_jsonl

    cfg = (cfg or ClassifyConfig()).model_copy(update={"uncertain": "keep"})
    records, unreadable, _ = read_inputs(inputs)
    result = classify_round(records, cfg, show=show)
    write_jsonl(out, result.kept)
    return {"records": len(result.kept), "unreadable": len(unreadable),
            "by_task": dict(sorted(Counter(r["task"] for r in result.kept).items())),
            "by_method": dict(Counter(r["meta"]["curate"]["task_method"] for r in result.kept))}
