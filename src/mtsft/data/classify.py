"""Classify round: give every record a task, a confidence and the method that decided.

The model: an n-gram logistic classifier (scikit-learn; HashingVectorizers, so no vocabulary to store, then
TF-IDF and a logistic model trained by SGD) over the instruction view of each prompt (its head and tail):
char n-grams of the whole view, word n-grams, and char n-grams of its first and last few characters on their
own, where the instruction sits. It learns from two sources, both from the task registry:
- prompts the registry generates from its training templates (the tasks' core phrasing), and
- prompts written by hand the way people word requests (`Task.user_prompts`), weighted up, which teach the
  looser wordings templates lack (no instruction verb, slang, the instruction after the content).
Trained on templates alone the model was right on 65% of a hand-written test set and unsure of most of it.

Confidence is calibrated, so the threshold means what it says (a decision at confidence 0.8 is right about
80% of the time): the model's log-probabilities are divided by a temperature fitted on hand-written prompts
it did not train on (out-of-fold), since template draws are far easier than real prompts and would teach it
overconfidence. Below the threshold the task is `uncertain`.

Prediction is batched sparse-matrix work: one hashing transform, one sparse product per batch. The registry's
instruction signals (regexes) no longer move the decision (multiplying a matching task's probability changed
accuracy by under a point on hand-written prompts and broke calibration); the winning task's signal is still
checked, once per record, to report the method ("signals+model" or "model").
The trained model is cached under $MTSFT_CACHE and retrained whenever the registry's training prompts, the
background class's junk or a setting of the features or the fit change (all are in the cache file's name).
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
from mtsft.data.shingles import char_wb_counts, word_ngram_counts
from mtsft.records import UNCERTAIN_TASK, prompt

ROUND = "classify"
MODEL_VERSION = 8
USER_WEIGHT = 5.0       # a hand-written prompt counts as five template draws (they are few and closer to real use)
CALIBRATION_FOLDS = 5   # out-of-fold predictions on the hand-written prompts fit the temperature


ENDS = 30  # characters at each end of the view that get n-grams of their own (30 and 50 tied out of fold)


def _head(views: list[str]) -> list[str]:
    return [v[:ENDS] for v in views]


def _tail(views: list[str]) -> list[str]:
    return [v[-ENDS:] for v in views]


def _vectorizer():
    """Four hashed n-gram groups side by side (scikit-learn's FeatureUnion; stateless, nothing to store):
    - char_wb n-grams of 1-3 of the whole view: they work for Chinese (no spaces needed) and English alike;
      2**18 buckets lose nothing measurable against 2**20;
    - word unigrams and bigrams (English phrasing: "tl dr", "code up", "in mandarin");
    - char_wb n-grams of the first and of the last `ENDS` characters, each in a space of their own, where
      the instruction sits: a passage's content words otherwise drown it, and reading comprehension,
      summarization and extraction (all "passage + instruction") were read as one another.
    Out of fold on the hand-written training prompts the last three took accuracy from 92.7% to 94.0%
    (2**16 buckets each: no loss against 2**18, and the cached model stays under 60 MB)."""
    from sklearn.feature_extraction.text import HashingVectorizer
    from sklearn.pipeline import FeatureUnion, make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    def hashing(bits: int, **kw):
        return HashingVectorizer(n_features=2**bits, alternate_sign=False, norm=None, lowercase=True, **kw)

    chars = {"analyzer": "char_wb", "ngram_range": (1, 3)}
    return FeatureUnion([
        ("chars", hashing(18, **chars)),
        ("words", hashing(16, analyzer="word", ngram_range=(1, 2), token_pattern=r"(?u)\b\w+\b")),
        ("head", make_pipeline(FunctionTransformer(_head), hashing(16, **chars))),
        ("tail", make_pipeline(FunctionTransformer(_tail), hashing(16, **chars))),
    ])


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


def user_prompts() -> tuple[list[str], list[str]]:
    """The registry's hand-written prompts (`Task.user_prompts`), as instruction views with their task."""
    from mtsft import tasks

    texts, labels = [], []
    for task in sorted(tasks.all_tasks(), key=lambda t: t.name):
        for lang in ("zh", "en"):
            for text in task.user_prompts(lang):
                texts.append(instruction_view(text))
                labels.append(task.name)
    return texts, labels


NOT_A_TASK = "(not a task)"  # the background class: junk learns here, and its share lowers every task's confidence


def junk_prompts(n: int = 600, seed: int = 0) -> list[str]:
    """Text that asks for nothing: keyboard mashing, random syllables, random Han characters, one word said
    over and over, punctuation (mixed, or one mark repeated), emoji and digits. Without a class of its own the
    model spreads such text over the tasks and, calibrated on real prompts, can be sure of a wrong one
    ("the the the" -> open_qa, 0.95; "!!!!!" -> chitchat, 0.63, before the repeated mark was junk)."""
    rng = random.Random(seed)
    letters, syllables = "abcdefghijklmnopqrstuvwxyz", ["lo", "rem", "ip", "sum", "do", "lor", "sit", "ka", "zu", "mi", "ten"]
    words = ["the", "ok", "hello", "test", "yes", "no", "data", "好", "的", "测试", "是", "啊"]
    kinds = [
        lambda: " ".join("".join(rng.choices(letters, k=rng.randint(3, 9))) for _ in range(rng.randint(1, 4))),
        lambda: " ".join("".join(rng.choices(syllables, k=rng.randint(2, 4))) for _ in range(rng.randint(2, 8))),
        lambda: "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(rng.randint(2, 8))),
        lambda: " ".join([rng.choice(words)] * rng.randint(2, 8)),
        lambda: "".join(rng.choices("?!.,;:-_=+*#@~。，？！…、", k=rng.randint(1, 8))),
        lambda: rng.choice("?!.-_=*#~。？！…") * rng.randint(2, 10),  # one symbol over and over: "!!!!!"
        lambda: "".join(rng.choices(["🙂", "😂", "👍", "🔥", "❤️", "🎉", "🤔"], k=rng.randint(1, 5))),
        lambda: " ".join(str(rng.randint(0, 10**rng.randint(1, 8))) for _ in range(rng.randint(1, 4))),
    ]
    return [instruction_view(kinds[i % len(kinds)]()) for i in range(n)]


HEAD, TAIL = 300, 120


_DIGITS = re.compile(r"\d")


def instruction_view(text: str) -> str:
    """The start and the end of a prompt, where its instruction sits (a long passage in the middle only
    adds cost and content words that say nothing about the task), with every digit written as 0 so the
    model learns "a number here", not the template's particular numbers."""
    text = text if len(text) <= HEAD + TAIL else f"{text[:HEAD]} … {text[-TAIL:]}"
    return _DIGITS.sub("0", text)


SHAPE_WEIGHT = 0.1  # beside the n-grams: out of fold, 0.1 took hand-written accuracy from 88% to 90% (0.3+ hurt)
_QUESTION = re.compile(r"[?？]")
_QUOTE = re.compile(r"[“”\"'「」『』]")
_SENTENCE_END = re.compile(r"[.!?。！？\n]+")
_COLON = re.compile(r"[:：]")


def shape_features(views: list[str]):
    """What n-grams miss: how long a prompt is and how it is built. A passage followed by a question reads as
    reading comprehension, a bare question as open QA, a passage without one as summarization or rewriting;
    in n-grams alone the passage's content words drown that out (reading comprehension was the worst task,
    61% out of fold). One-hot length bins, question marks, newlines, quotes, sentences, colons."""
    import scipy.sparse as sp

    rows = np.zeros((len(views), 14), dtype=np.float32)
    for i, v in enumerate(views):
        n, questions = len(v), len(_QUESTION.findall(v))
        sentences = sum(1 for part in _SENTENCE_END.split(v) if part.strip())
        rows[i, min(int(np.log2(max(n, 1) / 25)) + 1, 4) if n >= 25 else 0] = 1  # <25, <50, <100, <200, more
        rows[i, 5 + min(questions, 2)] = 1
        rows[i, 8:] = (v.rstrip().endswith(("?", "？")), "\n" in v, bool(_QUOTE.search(v)), sentences >= 3,
                       sentences >= 5, bool(_COLON.search(v)))
    return sp.csr_matrix(rows * SHAPE_WEIGHT)


def hashed_counts(union, views: list[str]):
    """`union.transform(views)` (the `_vectorizer` FeatureUnion), the same matrix: its hashed blocks are
    counted for the whole batch in numpy (`char_wb_counts`, `word_ngram_counts`), not n-gram by n-gram in
    Python as scikit-learn does (that was most of the classify round); a block with other settings runs
    through scikit-learn."""
    import scipy.sparse as sp
    from sklearn.pipeline import Pipeline

    blocks = []
    for _, step in union.transformer_list:
        docs, hasher = views, step
        if isinstance(step, Pipeline):  # (FunctionTransformer: the view's head or tail) -> hasher
            docs, hasher = step[0].transform(views), step[-1]
        blocks.append(_fast_counts(hasher, docs) if _same_counts(hasher) else hasher.transform(docs))
    return sp.hstack(blocks).tocsr()  # as FeatureUnion stacks its blocks


_WORD_TOKENS = (r"(?u)\b\w+\b", r"(?u)\b\w\w+\b")  # tokens without whitespace: `word_ngram_counts` joins them with spaces


def _same_counts(hasher) -> bool:
    """Whether `_fast_counts` gives this HashingVectorizer's matrix (the settings `_vectorizer` uses)."""
    plain = (hasher.lowercase and not hasher.alternate_sign and hasher.norm is None and not hasher.binary
             and hasher.preprocessor is None and hasher.strip_accents is None and hasher.dtype == np.float64
             and hasher.input == "content" and hasher.ngram_range[0] == 1)
    if hasher.analyzer == "char_wb":
        return plain and hasher.ngram_range[1] <= 3
    return (plain and hasher.analyzer == "word" and hasher.ngram_range[1] <= 2 and hasher.tokenizer is None
            and hasher.stop_words is None and hasher.token_pattern in _WORD_TOKENS)


def _fast_counts(hasher, docs: list[str]):
    if hasher.analyzer == "char_wb":
        return char_wb_counts(docs, hasher.n_features, hasher.ngram_range[1])
    return word_ngram_counts(docs, hasher.n_features, hasher.token_pattern, hasher.ngram_range[1])


def _features(tfidf, counts, views: list[str]):
    import scipy.sparse as sp

    return sp.hstack([tfidf.transform(counts), shape_features(views)], format="csr")


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class TaskClassifier:
    """Calibrated char n-gram model over the registry's tasks."""

    def __init__(self, models: dict, signals: dict[str, re.Pattern]):
        self.models = models
        columns = list(models["logistic"].classes_)
        self.task_columns = np.array([j for j, c in enumerate(columns) if c != NOT_A_TASK])
        self.classes = [str(columns[j]) for j in self.task_columns]  # the tasks a prompt can be given
        self.signals = signals
        self.vectorizer = _vectorizer()

    def log_proba(self, views: list[str]) -> np.ndarray:
        """The model's own log-probabilities (before calibration) for instruction views."""
        features = _features(self.models["tfidf"], hashed_counts(self.vectorizer, views), views)
        return np.log(np.clip(self.models["logistic"].predict_proba(features), 1e-12, 1.0))

    def proba(self, views: list[str]) -> np.ndarray:
        """Calibrated probability of each task (columns: `classes`): log-probabilities over the fitted
        temperature, renormalised with the background class, which then drops out (so junk leaves every task
        unlikely instead of making one of them sure)."""
        return _softmax(self.log_proba(views) / self.models["temperature"])[:, self.task_columns]

    def predict(self, texts: list[str], labels: list | None = None, batch: int = 20_000, show: bool = False):
        """(task names, confidences, methods, probability of the given label or None) for each text."""
        names, confs, methods, label_probs = [], [], [], []
        index = {c: j for j, c in enumerate(self.classes)}
        given = labels if labels is not None else [None] * len(texts)
        for s in progress(range(0, len(texts), batch), "classify", show):
            views = [instruction_view(t) for t in texts[s:s + batch]]
            probs = self.proba(views)
            best = probs.argmax(axis=1)
            rows = np.arange(len(views))
            chunk_names = [self.classes[j] for j in best]
            names += chunk_names
            confs += probs[rows, best].round(4).tolist()
            methods += [self._method(v, name) for v, name in zip(views, chunk_names)]
            label_idx = np.array([index.get(y, -1) if isinstance(y, str) else -1 for y in given[s:s + batch]])
            picked = probs[rows, np.maximum(label_idx, 0)].round(4)
            label_probs += [float(p) if j >= 0 else None for p, j in zip(picked, label_idx)]
        return names, confs, methods, label_probs

    def _method(self, view: str, name: str) -> str:
        pattern = self.signals.get(name)
        return "signals+model" if pattern is not None and pattern.search(view) else "model"


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
    from mtsft.tasks.builtin.content import digest as content_digest

    # the model version and every setting that shapes the features or the fit, then every training prompt
    # (the background class's junk included, which `train_models` draws itself): a changed prompt, label or
    # setting is a different file, so the cache never goes stale; the built-in content tables' digest too
    digest = hashlib.sha1(f"v{MODEL_VERSION} {HEAD} {TAIL} {ENDS} {SHAPE_WEIGHT} {USER_WEIGHT} "
                          f"{CALIBRATION_FOLDS} {content_digest()}".encode())
    junk = junk_prompts()
    for t, y in zip(texts + junk, labels + [NOT_A_TASK] * len(junk)):
        digest.update(f"{y}\t{t}\n".encode("utf-8"))
    return cache_dir() / "classifier" / f"task-clf-{digest.hexdigest()[:16]}.joblib"


@lru_cache(maxsize=4)
def load_classifier(per_task_lang: int = 100, seed: int = 0) -> TaskClassifier:
    """The classifier for the current registry: from the cache, or trained now (seconds) and cached."""
    import joblib

    texts, labels = training_prompts(per_task_lang, seed)
    hand_texts, hand_labels = user_prompts()
    path = _cache_path(texts + ["<hand-written>"] + hand_texts, labels + [""] + hand_labels)
    if path.exists():
        models = joblib.load(path)
    else:
        models = train_models(texts, labels, hand_texts, hand_labels)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        joblib.dump(models, tmp)
        tmp.rename(path)
    return TaskClassifier(models, _compile_signals())


def _fit_logistic(features, labels: list[str], weights: np.ndarray):
    """Strong n-gram evidence needs little regularisation once hand-written prompts break the templates'
    fixed phrasing (alpha 1e-5 beat 1e-4..1e-2 out of fold); SGD trains in seconds."""
    from sklearn.linear_model import SGDClassifier

    model = SGDClassifier(loss="log_loss", alpha=1e-5, max_iter=30, tol=None, random_state=0)
    return model.fit(features, labels, sample_weight=weights)


def train_models(texts: list[str], labels: list[str], hand_texts: list[str] = (),
                 hand_labels: list[str] = ()) -> dict:
    """TF-IDF + logistic model on template prompts, hand-written ones and junk (the background class), and
    the temperature that calibrates it (fitted on out-of-fold predictions for the hand-written prompts; 1.0
    without any)."""
    from sklearn.feature_extraction.text import TfidfTransformer

    junk = junk_prompts()
    texts, labels = list(texts) + junk, list(labels) + [NOT_A_TASK] * len(junk)
    hand_texts, hand_labels = list(hand_texts), list(hand_labels)
    counts = _vectorizer().transform(texts + hand_texts)
    tfidf = TfidfTransformer(sublinear_tf=True).fit(counts)
    features = _features(tfidf, counts, texts + hand_texts)
    n = len(texts)
    weights = np.r_[np.ones(n), np.full(len(hand_texts), USER_WEIGHT)]
    logistic = _fit_logistic(features, labels + hand_labels, weights)
    temperature = 1.0
    if len(hand_texts) >= 2 * CALIBRATION_FOLDS:
        held_log_proba = _out_of_fold_log_proba(features, labels, hand_labels, weights, list(logistic.classes_))
        temperature = fit_temperature(held_log_proba, [list(logistic.classes_).index(y) for y in hand_labels])
    return {"tfidf": tfidf, "logistic": logistic, "temperature": temperature}


def _out_of_fold_log_proba(features, labels, hand_labels, weights, classes) -> np.ndarray:
    """Log-probabilities for each hand-written prompt from a model trained without it (templates + the
    other folds), over the full class list."""
    import scipy.sparse as sp
    from sklearn.model_selection import KFold

    n, hand = len(labels), np.array(hand_labels)
    template_part, hand_part = features[:n], features[n:]
    out = np.full((len(hand), len(classes)), np.log(1e-12))
    for train, held in KFold(CALIBRATION_FOLDS, shuffle=True, random_state=0).split(hand):
        model = _fit_logistic(sp.vstack([template_part, hand_part[train]]), labels + list(hand[train]),
                              np.r_[weights[:n], weights[n:][train]])
        cols = [classes.index(c) for c in model.classes_]
        out[np.ix_(held, cols)] = np.log(np.clip(model.predict_proba(hand_part[held]), 1e-12, 1.0))
    return out


def fit_temperature(log_proba: np.ndarray, truth: list[int]) -> float:
    """The temperature T minimising the negative log-likelihood of softmax(log_proba / T) (Guo et al. 2017,
    "On calibration of modern neural networks"): one parameter, so it cannot overfit a few hundred prompts,
    and it never changes which task wins."""
    from scipy.optimize import minimize_scalar

    rows = np.arange(len(truth))

    def nll(t: float) -> float:
        z = log_proba / t
        z = z - z.max(axis=1, keepdims=True)
        return float(-(z[rows, truth] - np.log(np.exp(z).sum(axis=1))).mean())

    return float(minimize_scalar(nll, bounds=(0.05, 20.0), method="bounded").x)


def expected_calibration_error(confidences, correct, bins: int = 10) -> float:
    """ECE: the gap between confidence and accuracy, averaged over equal-width confidence bins weighted by
    their share of the predictions."""
    conf, hit = np.asarray(confidences, dtype=float), np.asarray(correct, dtype=float)
    which = np.minimum((conf * bins).astype(int), bins - 1)
    return float(sum(abs(conf[which == b].mean() - hit[which == b].mean()) * (which == b).sum()
                     for b in range(bins) if (which == b).any()) / max(len(conf), 1))


def selective_scores(confidences, correct, threshold: float) -> dict:
    """What a threshold buys: the share of prompts decided (coverage), the share of decisions that are
    right (precision), overall accuracy and the calibration error."""
    conf, hit = np.asarray(confidences, dtype=float), np.asarray(correct, dtype=bool)
    decided = conf >= threshold
    return {"prompts": int(len(conf)), "threshold": threshold, "accuracy": round(float(hit.mean()), 4),
            "coverage": round(float(decided.mean()), 4),
            "precision_when_decided": round(float(hit[decided].mean()) if decided.any() else 0.0, 4),
            "ece": round(expected_calibration_error(conf, hit), 4)}


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
        if cfg.trust_labels and r.get("task") not in (None, "", UNCERTAIN_TASK):
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
        r["task"] = UNCERTAIN_TASK
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

    from mtsft.data.inputs import read_inputs, rejected_lines
    from mtsft.outputs import check_file, write_jsonl

    check_file(out, inputs)  # before any work: never over an input, a FIFO or a device
    cfg = (cfg or ClassifyConfig()).model_copy(update={"uncertain": "keep"})
    records, unreadable, _ = read_inputs(inputs)
    result = classify_round(records, cfg, show=show)
    write_jsonl(out, result.kept)
    return {"records": len(result.kept), "unreadable": len(unreadable), "rejected": rejected_lines(unreadable),
            "by_task": dict(sorted(Counter(r["task"] for r in result.kept).items())),
            "by_method": dict(Counter(r["meta"]["curate"]["task_method"] for r in result.kept))}
