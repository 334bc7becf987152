"""Extraction around the standard metrics: what part of a free-form output is the answer.

The metrics (SQuAD, CMRC 2018, GSM8K, accuracy) compare an extracted answer with the reference; a model
answers in sentences, so mtsft extracts first. Everything here is mtsft's own and is what a reviewer can
game, so it is held to the named cases in tests/verifier_cases:

- `strip_lead_in`: "The answer is X." / "Answer: X" / "答案是X" / "Label: X" -> "X";
- `is_hedge`: two or more candidates joined by "or" / "或", or a list of three or more short items, is no
  answer (a reference that itself contains such a separator keeps it);
- `numbers_agree`: a reference with a number needs that number ("20名" is not "35名", though the
  char-level metric shares the unit);
- `remove_echo`: words of the question that are not in any reference answer, and function words, are
  dropped, so "The capital of France is Paris." is read as "Paris" and "... is Lyon." as "Lyon".
"""

from __future__ import annotations

import re
import unicodedata

_MARKDOWN = re.compile(r"\*\*|__|`+")
_LEAD_IN = re.compile(
    r"^\s*(?:(?:so|thus|therefore|well|ok(?:ay)?|sure|yes)\s*[,!.]?\s*)?"
    r"(?:(?:i think|i believe)\s+)?"
    r"(?:(?:the\s+)?(?:final\s+|short\s+|correct\s+|right\s+)?(?:answer|label|category|class|sentiment|topic)"
    r"(?:\s+(?:is|would be|should be))?\s*[:：\-]?\s+|it(?:'s|’s| is| was)\s+|that(?:'s|’s| is)\s+)"
    r"|^\s*(?:(?:所以|因此|那么)[，,]?\s*)?(?:答案|回答|答|标签|类别|分类|情感|结果)\s*(?:应该|应当)?\s*(?:是|为|：|:)\s*",
    re.I)

# A polite opener on its own ("Sure! Paris ...", "好的！北京……"): punctuation after it is required, so an
# answer that merely starts with "yes" or "ok" as its content keeps it.
_INTERJECTION = re.compile(r"^\s*(?:sure|ok(?:ay)?|of course|certainly|well|great question)\s*[,!.]\s+"
                           r"|^\s*(?:好的|当然|没问题|当然可以)\s*[，,！!。]\s*", re.I)

_HEDGE_SEP = re.compile(r"\s+or\s+|\s*(?:或者|或是|还是|或)\s*|\s*/\s*|\beither\s+", re.I)
_LIST_SEP = re.compile(r"\s*[,;，；、\n。！？]\s*|(?<=[.!?])\s+")
_WORDCH = r"(?:(?![\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff])[^\W_])"
_TOKEN = re.compile(rf"\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|{_WORDCH}+(?:[.'’\-]{_WORDCH}+)*")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

# function words an answer sentence wraps around its answer (dropped unless a reference holds them)
STOP_EN = set("""a an the is are was were be been being am it its it's this that these those there here of in on at
to for from by with as and or but so do does did has have had i you he she we they my your his her their our
which who whom whose what when where why how one ones called known also just only very really answer
written wrote made built found named located""".split())
STOP_ZH = set("是的了在为被由有个这那就也都吗呢啊吧")


def clean(text: str) -> str:
    """Markdown emphasis and surrounding quotes removed, spaces folded. No NFKC: the metrics have their
    own punctuation lists (CMRC 2018 drops "，" but keeps ","), so the text they see keeps its own marks;
    tokens are compared after NFKC."""
    text = strip_quotes(_MARKDOWN.sub("", text).strip())
    return re.sub(r"[ \t]+", " ", text)


_PAIRS = {'"': '"', "'": "'", "“": "”", "‘": "’", "「": "」", "『": "』"}


def strip_quotes(text: str) -> str:
    """One pair of quotes around the whole text removed ("“X”" -> "X"); a text that quotes inside
    ("“Who?” “Tom.”") is left alone."""
    text = text.strip()
    for _ in range(2):
        if len(text) >= 2 and _PAIRS.get(text[0]) == text[-1]:
            inner = text[1:-1]
            if text[0] not in inner and text[-1] not in inner:
                text = inner.strip()
                continue
        break
    return text


def strip_lead_in(text: str) -> str:
    """Answer lead-ins removed (repeatedly: "Sure! The answer is: X" -> "X")."""
    text = text.strip()
    for _ in range(3):
        new = strip_quotes(_LEAD_IN.sub("", _INTERJECTION.sub("", text, count=1), count=1).strip())
        if new == text:
            break
        text = new
    return text


def tokens(text: str) -> list[str]:
    """Han characters one by one, other words whole (lower-cased)."""
    return [_key(t) for t in _TOKEN.findall(text)]


def _key(token: str) -> str:
    return unicodedata.normalize("NFKC", token).lower()


def _variants(word: str) -> set[str]:
    """The word and its forms without an inflection suffix (a crude stemmer for matching echoes)."""
    out = {word}
    for suffix, repl in (("s", ""), ("es", ""), ("ed", ""), ("d", ""), ("ing", ""), ("ing", "e"), ("ies", "y")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            out.add(word[: -len(suffix)] + repl)
    return out


def _answer_vocab(answers: list[str]) -> set[str]:
    return {t for a in answers for t in tokens(clean(a))}


def remove_echo(text: str, question: str, answers: list[str]) -> str:
    """`text` without the question's words and function words. A word that is also in a reference answer
    stays beside new words ("Poyang Lake" keeps its "Lake", "...freshwater lake in..." loses it); when no
    new word comes with any of them, the longest run of such words stays (an answer made of the
    question's words: "墨西哥的首都是墨西哥城" -> "墨西哥城")."""
    keep = _answer_vocab(answers)
    q = set(tokens(question))
    q_forms = {v for t in q if not _HAN.fullmatch(t) for v in _variants(t)}
    found = list(_TOKEN.finditer(text))
    toks = [_key(m.group()) for m in found]
    kinds = []
    for tok in toks:
        echo = tok in q or tok in STOP_EN or tok in STOP_ZH or (not _HAN.fullmatch(tok) and bool(_variants(tok) & q_forms))
        kinds.append("A" if echo and tok in keep else "Q" if echo else "K")
    runs, run = [], []  # maximal runs of tokens that are not pure echo: (token, kind, index)
    for i, (tok, kind) in enumerate(zip(toks + [""], kinds + ["Q"])):
        if kind != "Q":
            run.append((tok, kind, i))
        elif run:
            runs.append(run)
            run = []
    content = [r for r in runs if any(k == "K" for _, k, _ in r)]
    echo_only = [r for r in runs if all(k == "A" for _, k, _ in r)]
    if echo_only and not any(k == "A" for r in content for _, k, _ in r):
        # the answer is made of the question's words: their longest run, when nothing else answers or when
        # it ends the sentence ("Dragon boat races are held at the Dragon Boat Festival.")
        best = max(reversed(echo_only), key=len)
        shortest = min((len(tokens(clean(a))) for a in answers if tokens(a)), default=1)
        if 2 * len(best) > shortest and (not content or (
                best is runs[-1] and sum(t not in STOP_EN and t not in STOP_ZH for t, _, _ in best) >= 2)):
            content.append(best)
    # each kept run as written (punctuation inside and around it kept: the metric normalises it)
    pieces = []
    for r in runs:
        if any(r is c for c in content):
            start, end = found[r[0][2]].start(), found[r[-1][2]].end()
            while start > 0 and _PUNCT_CHAR.match(text[start - 1]):
                start -= 1
            while end < len(text) and _PUNCT_CHAR.match(text[end]):
                end += 1
            pieces.append(text[start:end])
    return " ".join(pieces)


_PUNCT_CHAR = re.compile(r"[^\w\s]")


def is_hedge(text: str, question: str, answers: list[str]) -> bool:
    """Several candidates offered instead of one answer: "A or B", "可能是A或者B", "A, B, C, D"."""
    refs = clean(" ".join(answers)).lower()
    parts = [p for p in _split(text, _HEDGE_SEP, refs) if remove_echo(p, question, answers)]
    if len(parts) >= 2:
        return True
    items = [p for p in _split(text, _LIST_SEP, refs) if remove_echo(p, question, answers)]
    short = [p for p in items if len(tokens(p)) <= 6]
    return len(items) >= 3 and len(short) >= 3


def _split(text: str, sep: re.Pattern, refs: str) -> list[str]:
    out, last = [], 0
    for m in sep.finditer(text):
        if m.group().strip().lower() and m.group().strip().lower() in refs:
            continue  # the reference itself holds this separator ("salt and pepper", "A/B")
        out.append(text[last:m.start()])
        last = m.end()
    out.append(text[last:])
    return [p.strip() for p in out if p.strip()]


def answer_span(output: str, question: str, answers: list[str]) -> str:
    """The answer a free-form output gives to a short-answer question, "" when it offers several."""
    text = strip_lead_in(clean(output))
    if not text or is_hedge(text, question, answers):
        return ""
    return remove_echo(text, question, answers)


_DIGITS = re.compile(r"\d+(?:\.\d+)?")


def numbers_agree(span: str, answer: str) -> bool:
    """Every number of `answer` appears in `span` (number words and Chinese numerals read as digits)."""
    from mtsft.tasks.metrics.numerals import words_to_digits

    if len(tokens(answer)) > 6:
        return True  # a long span is a passage excerpt: its F1 already weighs every part
    want = set(_DIGITS.findall(answer.replace(",", "")))
    return not want or want <= set(_DIGITS.findall(words_to_digits(span).replace(",", "")))


_SENTENCE = re.compile(r"(?<=[.!?。！？])\s*")


def copies_passage(output: str, passage: str, answers: list[str] = ()) -> bool:
    """The output repeats two or more sentences of the passage verbatim, more than one beyond what a
    reference answer spans (a copy of the passage, not an answer)."""
    if not passage:
        return False

    def fold(text: str) -> str:
        return re.sub(r"\s+", " ", clean(text)).lower()

    sentences = [x.strip() for x in _SENTENCE.split(fold(passage)) if len(x.strip()) >= 8]
    if len(sentences) < 2:
        return False
    copied = sum(x in fold(output) for x in sentences)
    spanned = max((sum(x in fold(a) for x in sentences) for a in answers), default=0)
    return copied >= 2 and copied > spanned + 1


def last_user_turn(record: dict) -> str:
    """The user turn the scored answer replies to (the last one before the final assistant turn)."""
    messages = list(record.get("messages") or [])
    if messages and messages[-1].get("role") == "assistant":
        messages = messages[:-1]
    return next((m["content"] for m in reversed(messages) if m.get("role") == "user"), "")


__all__ = ["answer_span", "clean", "copies_passage", "is_hedge", "last_user_turn", "numbers_agree", "remove_echo", "strip_lead_in",
           "tokens"]
