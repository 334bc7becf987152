"""Relevance and degeneracy measures for the open-ended verifiers (brainstorming, creative writing,
chitchat, summarization, rewriting), in place of a keyword multiplier.

Everything here is lexical and offline, and treats Chinese and English alike:

- content units: English word stems (stop words dropped, a light suffix strip, first 5 letters) and numbers;
  Chinese characters outside a small set of function characters, plus bigrams of two such characters. Relevance is the
  number (or share) of units an output shares with the text it must relate to (topic, prompt, reference).
- character n-grams (4 for Latin text, 2 for Chinese) for copy detection: how much of an output is a copy
  of a source, or of the prompt.
- degeneracy: repeated lines, low distinct-n, and a function-word rate (a keyword salad has none; fluent
  prose and verse have many).

A small multilingual embedding model would rank paraphrases better; none ships offline in a wheel for
Chinese, and these measures are enough to separate the named gaming cases (tests/verifier_cases) from
valid variants.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

from mtsft.text import cjk_ratio, normalize

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_HAN}]|[a-z]+(?:'[a-z]+)?|\d+(?:[.,]\d+)*")
_HAN_RUN = re.compile(rf"[{_HAN}]+")
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?|\d+(?:[.,]\d+)*")
_HAN_CHAR = re.compile(rf"[{_HAN}]")

# English function words: the glue of a sentence. Their rate measures fluency; they never anchor relevance.
FUNCTION_EN = frozenset("""
a an the of to in on at for with and but or nor so as by from into onto over under about after before
between through during without within across against among around behind beneath beside beyond near
until till up down out off than then too very just also only even still yet again ever never not no
i me my mine myself you your yours yourself he him his himself she her hers herself it its itself we us our
ours they them their theirs this that these those there here what which who whom whose when where why how
is are was were be been being am has have had do does did will would shall should can could may might must
let all any some each every both either neither such own same other more most much many few lot lots
if because while though although since unless whether oh well yes ok okay
i'm i've i'll i'd you're you've you'll you'd he's she's it's we're we've they're that's there's what's
let's don't doesn't didn't can't won't isn't aren't wasn't weren't haven't hasn't
""".split())
# Words that appear in almost any message or instruction: never evidence of a shared topic.
GENERIC_EN = frozenset("""
really quite thing things something anything everything nothing way ways idea ideas item items list option
options suggestion suggestions tip tips good great nice fine sure like love get got make made go going gone
come came take took give gave know think tell say said see look want need please thank thanks sounds sound
use used using turn keep try put set buy bring choose start stop find help ask show call leave
here poem poems story stories write wrote written writing hope wanted asked request requested mention mentioned
one two three four five six seven eight nine ten first time times day today people person lot kind sort bit
""".split())
# Chinese function characters (particles, pronouns, copulas, measure words, adverbs of degree).
FUNCTION_ZH = frozenset("的了是在我你他她它们这那有和与就不也都很把被一个着过吗呢吧啊呀哦嗯么及并或而之其为以于从到对给让得地还没")
GENERIC_ZH = frozenset("说点想看做好多真请谢")
# Chinese bigrams of everyday talk that say nothing about a topic.
GENERIC_ZH_BIGRAMS = frozenset("什么 觉得 怎么 时候 现在 今天 可以 真的 知道 喜欢 听起 起来 一下 东西 事情 "
                               # words about the request itself, as GENERIC_EN's "poem", "hope", "asked"
                               "要求 希望 关于 想要 按照 这里 一首 这首 一篇 首诗 诗歌 故事 小说 主题 写作 题目 满意".split())


def strip_suffix(word: str) -> str:
    """A light English suffix strip: possessive, -ing, -ed, plural -s."""
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) > 5 and word.endswith("ing"):
        word = word[:-3]
    elif len(word) > 4 and word.endswith("ed"):
        word = word[:-2]
    elif len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    return word


def _stem(word: str) -> str:
    return strip_suffix(word)[:5]


def has_word(text: str, word: str) -> bool:
    """Whether `text` contains `word` (Chinese: as a substring; English: every word of it, in any of the
    inflections `strip_suffix` folds, e.g. "letters" for "letter", "gull" for "gulls")."""
    low, want = normalize(text), normalize(word)
    if _HAN_RUN.search(want):
        return want in low
    words = _WORD.findall(want)
    have = {strip_suffix(w) for w in _WORD.findall(low)}
    return bool(words) and all(strip_suffix(w) in have for w in words)


@lru_cache(maxsize=16384)
def units(text: str) -> frozenset[str]:
    """The content units of `text`: English stems and numbers, Chinese content characters and bigrams."""
    low = normalize(text)
    out: set[str] = set()
    for w in _WORD.findall(low):
        if w[0].isdigit():
            out.add(w.replace(",", ""))
        elif len(w) > 1 and w not in FUNCTION_EN and w not in GENERIC_EN:
            out.add(_stem(w))
    for run in _HAN_RUN.findall(low):
        for i, c in enumerate(run):
            if c not in FUNCTION_ZH and c not in GENERIC_ZH:
                out.add(c)
            pair = run[i:i + 2]
            if len(pair) == 2 and not (set(pair) & FUNCTION_ZH) and pair not in GENERIC_ZH_BIGRAMS:
                out.add(pair)
    return frozenset(out)


def unit_weight(unit: str) -> float:
    """A single Chinese character says much less than a word, a bigram or a number."""
    return 0.15 if len(unit) == 1 and _HAN_CHAR.match(unit) else 1.0


def weight(text: str) -> float:
    """The total weight of `text`'s content units."""
    return sum(unit_weight(u) for u in units(text))


def anchors(output: str, *context: str) -> float:
    """Weighted count of content units `output` shares with the context texts (a word, number or Chinese
    bigram counts 1, a single Chinese character 0.15)."""
    shared = units(output) & frozenset().union(*(units(c) for c in context if c))
    return sum(unit_weight(u) for u in shared)


def anchored(output: str, *context: str, need: float = 2.0) -> float:
    """Relevance in [0, 1]: `need` weighted shared units or more count as fully on topic."""
    return min(1.0, anchors(output, *context) / need)


def unit_recall(output: str, reference: str, *, within: str | None = None) -> float:
    """Weighted share of `reference`'s content units found in `output`; with `within`, only the units of
    `reference` that also occur in `within` count (the facts a summary took from its source). Falls back to
    all of `reference`'s units when too few are shared with `within`."""
    ref = units(reference)
    if within is not None:
        kept = ref & units(within)
        if sum(unit_weight(u) for u in kept) >= 2:
            ref = kept
    total = sum(unit_weight(u) for u in ref)
    if not total:
        return 0.0
    return sum(unit_weight(u) for u in ref & units(output)) / total


def novel_units(output: str, *context: str) -> frozenset[str]:
    """Content units of `output` found in none of the context texts (what the output adds)."""
    return units(output) - frozenset().union(*(units(c) for c in context if c))


# ---- copies -------------------------------------------------------------------------------------------

_SQUASH = re.compile(rf"[{_HAN}]|[a-z0-9]")


@lru_cache(maxsize=16384)
def _squash(text: str) -> str:
    return "".join(_SQUASH.findall(normalize(text)))


@lru_cache(maxsize=16384)
def char_ngrams(text: str) -> Counter:
    """Character n-grams of the squashed text (letters, digits and Han only): n=2 for Chinese, 4 otherwise.
    Memoised (a verifier compares one answer with its prompt, its conversation and every other list item):
    callers read the Counter and never modify it."""
    s = _squash(text)
    n = 2 if cjk_ratio(text) >= 0.5 else 4
    if len(s) < n:
        return Counter([s] if s else [])
    return Counter(s[i:i + n] for i in range(len(s) - n + 1))


def containment(part: str, whole: str) -> float:
    """Share of `part`'s character n-grams that occur in `whole` (1.0: `part` is copied out of `whole`)."""
    a, b = char_ngrams(part), char_ngrams(whole)
    if not a:
        return 0.0
    return sum((a & b).values()) / sum(a.values())


def similarity(a: str, b: str) -> float:
    """Dice overlap of the two texts' character n-gram multisets."""
    x, y = char_ngrams(a), char_ngrams(b)
    if not x or not y:
        return 0.0
    return 2 * sum((x & y).values()) / (sum(x.values()) + sum(y.values()))


def length(text: str) -> int:
    """Words for Latin text, characters for Chinese (numbers count once)."""
    return len(_tokens(text))


def is_echo(output: str, text: str, *, share: float = 0.8) -> bool:
    """`output` is mostly a copy of `text` and at least half as long (an echoed prompt or source)."""
    return bool(text) and length(output) >= 0.5 * length(text) and containment(output, text) >= share


# ---- degeneracy ---------------------------------------------------------------------------------------

@lru_cache(maxsize=16384)
def _tokens(text: str) -> tuple[str, ...]:
    """Words, numbers and Chinese characters of the normalised text (memoised; a tuple, never modified)."""
    return tuple(_TOKEN.findall(normalize(text)))


def distinct_n(text: str, n: int = 2) -> float:
    """Distinct n-grams over all n-grams of the tokens (words, Chinese characters); 1.0 for short texts."""
    toks = _tokens(text)
    grams = [tuple(toks[i:i + n]) for i in range(len(toks) - n + 1)]
    return len(set(grams)) / len(grams) if len(grams) >= 3 else 1.0


def repeated_lines(text: str) -> float:
    """Share of non-empty lines (and sentences) that repeat an earlier one."""
    parts = [p for p in re.split(r"[\n.!?。！？；;]+", normalize(text)) if _squash(p)]
    if len(parts) < 2:
        return 0.0
    seen, dup = set(), 0
    for p in parts:
        key = _squash(p)
        dup += key in seen
        seen.add(key)
    return dup / len(parts)


def function_rate(text: str) -> float:
    """Share of tokens that are function words (English) or function characters (Chinese)."""
    toks = _tokens(text)
    if not toks:
        return 0.0
    return sum(t in FUNCTION_EN or t in FUNCTION_ZH for t in toks) / len(toks)


def mean_clause_length(text: str) -> float:
    """Tokens per clause (text between punctuation marks or line breaks), averaged over tokens rather than
    clauses, so an interjection ("Oh,") barely moves it while a list of single words stays at 1-2."""
    lengths = [len(_tokens(c)) for c in re.split(r"[\n,.;:!?，。；：！？、…]+", text)]
    total = sum(lengths)
    return sum(n * n for n in lengths) / total if total else 0.0


def fluency(text: str) -> float:
    """1.0 for text with the function-word rate and the clause length of prose or verse, falling to 0 for a
    word salad or a list of single words (function words: English full at 20%, zero at 8%; Chinese full at
    4%, zero at 0.5%; clauses: full at 4 tokens, zero at 2)."""
    rate = function_rate(text)
    lo, hi = (0.005, 0.04) if cjk_ratio(text) >= 0.5 else (0.08, 0.2)
    clauses = min(1.0, max(0.0, (mean_clause_length(text) - 2) / 2))
    return max(0.0, min(1.0, (rate - lo) / (hi - lo))) * clauses


def non_degenerate(text: str) -> float:
    """1.0 for text without repetition, falling with repeated lines and low distinct-2 (below 0.8)."""
    rep = repeated_lines(text)
    d2 = distinct_n(text, 2)
    return max(0.0, min(1.0, (1 - 2 * rep) * min(1.0, max(0.0, (d2 - 0.5) / 0.3))))


# ---- record views -------------------------------------------------------------------------------------

def last_user(record: dict) -> str:
    """The user turn the scored answer replies to (the last user turn)."""
    return next((m["content"] for m in reversed(record.get("messages", [])) if m["role"] == "user"), "")


def conversation(record: dict) -> str:
    """Every turn before the scored answer (system, user and earlier assistant turns)."""
    messages = record.get("messages", [])
    if messages and messages[-1]["role"] == "assistant":
        messages = messages[:-1]
    return "\n".join(m["content"] for m in messages)


def template_slot(text: str, templates: dict[str, list[str]], slot: str = "topic") -> str | None:
    """The value of `{slot}` in `text` when `text` was written from one of `templates` (a task's
    instruction templates, by language), else None: the topic a brainstorm or a poem was asked about."""
    for pattern in _template_patterns(tuple((lang, tuple(ts)) for lang, ts in templates.items()), slot):
        m = pattern.match(text.strip())
        if m:
            return m.group("slot").strip()
    return None


@lru_cache(maxsize=64)
def _template_patterns(templates: tuple, slot: str) -> list[re.Pattern]:
    patterns = []
    for _, group in templates:
        for template in group:
            if "{" + slot + "}" not in template:
                continue
            parts = re.split(r"(\{\w+\})", template.strip())
            regex, seen = "", set()
            for part in parts:
                name = part[1:-1] if re.fullmatch(r"\{\w+\}", part) else None
                if name == slot and slot not in seen:
                    regex += r"(?P<slot>.+?)"
                    seen.add(slot)
                elif name:
                    regex += r".+?"
                else:
                    regex += re.escape(part)
            patterns.append(re.compile(regex + r"$", re.S))
    return patterns


def sentence_end(text: str) -> bool:
    """Whether `text` ends like a sentence (terminal punctuation, maybe followed by a quote or bracket)."""
    return bool(re.search(r"[.!?。！？…][\"'”’」）)]*\s*$", text))
