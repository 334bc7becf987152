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

from mtsft.data.common import RoundResult, curate_meta, progress, reject
from mtsft.data.config import ClassifyConfig
from mtsft.records import NO_TASK, prompt

ROUND = "classify"
SIGNAL_BOOST = 3.0
MODEL_VERSION = 4


def _vectorizer():
    from sklearn.feature_extraction.text import HashingVectorizer

    # char_wb n-grams of 1-4 work for Chinese (no spaces needed) and English alike; raw counts here,
    # each model below weights them its own way.
    return HashingVectorizer(analyzer="char_wb", ngram_range=(1, 4), n_features=2**20,
                             alternate_sign=False, norm=None, lowercase=True)


def training_prompts(per_task_lang: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """Labelled prompts from the registry's training templates (never the held-out ones)."""
    from mtsft import tasks

    rng = random.Random(seed)
    texts, labels = [], []
    for task in sorted(tasks.all_tasks(), key=lambda t: t.name):
        for lang in ("zh", "en"):
            for _ in range(per_task_lang):
                texts.append(instruction_view(prompt(task.generate(rng, lang))))
                labels.append(task.name)
            desc = task.description.get(lang)
            if desc:
                texts.append(desc)
                labels.append(task.name)
    return texts, labels


HEAD, TAIL = 300, 120


_DIGITS = re.compile(r"\d")


def instruction_view(text: str) -> str:
    """The start and the end of a prompt, where its instruction sits (a long passage in the middle only
    adds cost and content words that say nothing about the task), with every digit written as 0 so the
    model learns "a number here", not the template's particular numbers."""
    text = text if len(text) <= HEAD + TAIL else f"{text[:HEAD]} … {text[-TAIL:]}"
    return _DIGITS.sub("0", text)


class TaskClassifier:
    """Signals + char n-gram model over the registry's tasks."""

    def __init__(self, models: dict, signals: dict[str, re.Pattern]):
        self.models = models
        self.classes = list(models["logistic"].classes_)
        self.signals = signals
        self.vectorizer = _vectorizer()

    def model_proba(self, texts: list[str]) -> np.ndarray:
        """Mean of the two models' probabilities: logistic on TF-IDF, complement naive Bayes on counts."""
        from sklearn.preprocessing import normalize

        counts = self.vectorizer.transform(texts)
        logistic = self.models["logistic"].predict_proba(self.models["tfidf"].transform(counts))
        bayes = self.models["bayes"].predict_proba(normalize(counts))
        return (logistic + bayes) / 2

    def signal_matrix(self, texts: list[str]) -> np.ndarray:
        hits = np.zeros((len(texts), len(self.classes)), dtype=bool)
        for j, name in enumerate(self.classes):
            pattern = self.signals.get(name)
            if pattern is not None:
                hits[:, j] = [bool(pattern.search(t)) for t in texts]
        return hits

    def predict(self, texts: list[str], labels: list | None = None, batch: int = 5_000, show: bool = False):
        """(task names, confidences, methods, probability of the given label or None) for each text."""
        names, confs, methods, label_probs = [], [], [], []
        index = {c: j for j, c in enumerate(self.classes)}
        for s in progress(range(0, len(texts), batch), "classify", show):
            chunk = [instruction_view(t) for t in texts[s:s + batch]]
            hits = self.signal_matrix(chunk)
            boosted = self.model_proba(chunk) * np.where(hits, SIGNAL_BOOST, 1.0)
            boosted /= boosted.sum(axis=1, keepdims=True)
            best = boosted.argmax(axis=1)
            names += [self.classes[j] for j in best]
            confs += boosted[np.arange(len(chunk)), best].round(4).tolist()
            methods += ["signals+model" if hits[i, j] else "model" for i, j in enumerate(best)]
            given = (labels or [None] * len(texts))[s:s + batch]
            label_probs += [round(float(boosted[i, index[y]]), 4) if y in index else None for i, y in enumerate(given)]
        return names, confs, methods, label_probs


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
def load_classifier(per_task_lang: int = 600, seed: int = 0) -> TaskClassifier:
    """The classifier for the current registry: from the cache, or trained now (seconds) and cached."""
    import joblib

    texts, labels = training_prompts(per_task_lang, seed)
    path = _cache_path(texts, labels)
    if path.exists():
        models = joblib.load(path)
    else:
        models = train_models(texts, labels)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        joblib.dump(models, tmp)
        tmp.rename(path)
    return TaskClassifier(models, _compile_signals())


def train_models(texts: list[str], labels: list[str]) -> dict:
    """Two char n-gram models that err differently. Strong regularisation (alpha 1e-2) and TF-IDF keep the
    logistic model from memorising the templates' fillers (names, cities, numbers); complement naive Bayes
    is robust to the shift from template phrasing to a person's phrasing. Both train in seconds."""
    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.linear_model import SGDClassifier
    from sklearn.naive_bayes import ComplementNB
    from sklearn.preprocessing import normalize

    counts = _vectorizer().transform(texts)
    tfidf = TfidfTransformer(sublinear_tf=True).fit(counts)
    logistic = SGDClassifier(loss="log_loss", alpha=1e-2, max_iter=30, tol=None, random_state=0)
    logistic.fit(tfidf.transform(counts), labels)
    bayes = ComplementNB(alpha=0.3).fit(normalize(counts), labels)
    return {"tfidf": tfidf, "logistic": logistic, "bayes": bayes}


def classify_round(records: list[dict], cfg: ClassifyConfig, show: bool = True, classifier=None) -> RoundResult:
    """Label records without a trusted task; every record also gets the classifier's own opinion
    (`meta.curate.predicted_task`) so the conflicts round can question trusted labels."""
    if not records:
        return RoundResult([], [])
    clf = classifier or load_classifier(cfg.train_per_task_lang)
    names, confs, methods, label_probs = clf.predict([prompt(r) for r in records], [r.get("task") for r in records],
                                                     show=show)
    kept, rejected, review = [], [], []
    labelled = decided = uncertain = 0
    for r, name, conf, method, label_prob in zip(records, names, confs, methods, label_probs):
        meta = curate_meta(r)
        meta["predicted_task"], meta["predicted_confidence"] = name, conf
        if label_prob is not None:
            meta["label_confidence"] = label_prob
        if cfg.trust_labels and r.get("task") not in (None, "", NO_TASK):
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
        r["task"] = NO_TASK
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

    from mtsft.data.inputs import read_inputs
    from mtsft.records import write_jsonl

    cfg = (cfg or ClassifyConfig()).model_copy(update={"uncertain": "keep"})
    records, unreadable, _ = read_inputs(inputs)
    result = classify_round(records, cfg, show=show)
    write_jsonl(out, result.kept)
    return {"records": len(result.kept), "unreadable": len(unreadable),
            "by_task": dict(sorted(Counter(r["task"] for r in result.kept).items())),
            "by_method": dict(Counter(r["meta"]["curate"]["task_method"] for r in result.kept))}
