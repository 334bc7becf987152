"""What the judge measures in a (prompt, output) pair: the output's shape, its language, and how it relates
to the material the prompt quotes.

* what the output looks like: list / code / JSON / label / poem shape, length, language, and (optionally)
  each registered task's `output_likeness`;
* how it relates to the prompt's material (the sentence to translate, the passage, the spec): same or
  other language, the language the prompt asks for, how much of the material it copies (character n-gram
  containment), whether it keeps the material's numbers and names, length ratio, question-mark parity (a
  translated question stays a question, an answered one does not), whether it is one of the options the
  prompt lists, whether its JSON keys or code identifiers are those the prompt names;
* which tasks' instruction `signals` the prompt matches.

An output that performs no task at all (`no_task_reason`) is told apart here too, before the model reads it.
"""

from __future__ import annotations

import ast
import json
import math
import re

from mtsft import tasks
# An output that performs no task at all (an echo of the prompt, a degenerate loop, garbled words) is a
# failure of the asked task, not crosstalk: the judge says so (NO_TASK), by rule (`no_task_reason`) or
# learnt from each task's weak outputs (`crossing.weak_outputs`), found on hand-labelled real outputs of
# the embedded model, where such outputs were read as summaries or translations.
from mtsft.tasks.crossing import NO_TASK
from mtsft.text import detect_lang, parse_python

# ---- text measurements ---------------------------------------------------------------------------

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[A-Za-z][A-Za-z'_-]*|\d+(?:[.,]\d+)*")
_NUM = re.compile(r"\d+(?:\.\d+)?")
_NAME = re.compile(r"\b[A-Z][a-z]+\b|\b[a-z_]+\([^)]*\)|`[^`]+`")
LIST_ITEM = re.compile(r"^\s*(?:\d+[.、)）]|[-*•·]|[（(]?\d+[)）]|[一二三四五六七八九十]+[、.])\s*\S")
_FENCE = re.compile(r"```[\w+-]*\n?(.*?)```", re.S)
_CODE_KW = re.compile(r"^\s*(def |class |import |from \w+ import|return\b|for .+ in .+:|while .+:|if .+:|print\()", re.M)
_ANSWER_MARK = re.compile(r"(?i)\banswer\s*(?:is\b|[:：])|答案|####|最终结果|final answer|\\boxed|所以.{0,12}[是为]\s*\d")
_EQUATION = re.compile(r"\d\s*[-+*/×xX÷]\s*\(?\d[\d.,]*\)?(?:\s*[-+*/×xX÷]\s*\(?\d[\d.,]*\)?)*\s*=\s*\$?\d")
_ASKS_NUMBER = re.compile(r"(?i)\bhow (?:many|much|long|old|far)\b|\bwhat (?:year|percentage|number)\b|\bwhen\b|多少|几[个岁年月天次件人]|哪一?年|何时|什么时候")
_PREFIX = re.compile(r"^[^，,:：\n]{1,10}[，,:：]\s*")
_OPTION_SPLIT = re.compile(r"[，,、/|;；:：()（）\[\]【】。？?！!\s]+|\bor\b|或者?")
_CHATTY = re.compile(r"(?i)^(sure|of course|okay|ok|oh|haha|ha|wow|nice|great|hi|hello|hey|well)\b|^(好的|当然|哈哈|哇|嗯|好啊|没问题|你好|不错|有意思|听起来)")
_YOU = re.compile(r"(?i)\byou\b|\byour\b|你|您")
SENT_END = re.compile(r"[.!?。！？]+(?:\s|$)")
_ASK_ZH = re.compile(r"(?i)\b(?:chinese|mandarin)\b|中文|汉语|英译中|译成中|翻成中")
_ASK_EN = re.compile(r"(?i)\benglish\b|英文|英语|中译英|译成英|翻成英")


def units(text: str) -> list[str]:
    """Comparable units across languages: each Han character and each Latin word or number."""
    return _HAN.findall(text) + _WORD.findall(text)


def norm(text: str) -> str:
    return re.sub(r"[\s\W_]+", "", text.lower())


def grams(text: str, n: int) -> set[str]:
    t = norm(text)
    return {t[i:i + n] for i in range(max(0, len(t) - n + 1))} if len(t) >= n else ({t} if t else set())


def containment(a: set, b: set) -> float:
    return len(a & b) / len(a) if a else 0.0


def no_task_reason(instruction: str, material: str, output: str) -> str | None:
    """Why `output` performs no task, or None: a degenerate loop (few distinct words or characters
    repeated), or an echo (all but a few of the output's character trigrams are in the prompt, and it
    reproduces most of the material or the whole request; a framing phrase such as "In short," makes
    it a restatement, which the model judges). Short quoted spans (a label, an entity, the
    sentence holding an answer) are answers, not echoes, so the echo must cover the material."""
    said_units = units(output)
    if len(said_units) >= 8 and len(set(said_units)) / len(said_units) < 0.3:
        return "degenerate repetition"
    said = grams(output, 3)
    if len(norm(output)) < 6 or containment(said, grams(instruction + "\n" + material, 3)) < 0.97:
        return None
    if any(containment(grams(whole, 3), said) >= 0.8 for whole in (material, instruction) if norm(whole)):
        return "echoes the prompt"
    return None


def _strip_fence(text: str) -> str:
    m = _FENCE.search(text)
    return m.group(1) if m else text


def python_like(text: str) -> float:
    body = _strip_fence(text)
    if not (_CODE_KW.search(body) or re.search(r"^\s*\w+\s*=\s*\S", body, re.M)):
        return 0.0
    try:
        tree = parse_python(body)
    except (SyntaxError, ValueError):
        return 0.3
    kinds = (ast.FunctionDef, ast.Assign, ast.For, ast.While, ast.Import, ast.ImportFrom, ast.ClassDef, ast.Return)
    return 1.0 if any(isinstance(n, kinds) for n in ast.walk(tree)) else 0.2


def json_of(text: str):
    body = _strip_fence(text).strip()
    if not body or body[0] not in "{[":
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def lang_code(text: str) -> str:
    return detect_lang(text) if units(text) else "none"


# ---- features ------------------------------------------------------------------------------------


def task_names() -> list[str]:
    return sorted(tasks.names())


_TASK_SIGNALS: dict[str, list[re.Pattern]] = {}


def compiled_signals(name: str) -> list[re.Pattern]:
    """Task `name`'s instruction signals, compiled once; a plug-in's invalid pattern is skipped."""
    if name not in _TASK_SIGNALS:
        pats = []
        for group in (tasks.get(name).signals or {}).values():
            for pat in group:
                try:
                    pats.append(re.compile(pat, re.I))
                except re.error:
                    continue
        _TASK_SIGNALS[name] = pats
    return _TASK_SIGNALS[name]


def signal_hits(text: str, names: list[str]) -> list[float]:
    """1.0 for each task in `names` whose instruction signals `text` matches."""
    return [float(any(p.search(text) for p in compiled_signals(name))) for name in names]


_STOP = set("a an and answer are as be by choose from give in is it its label of one only or please reply "
            "respond say tell text that the these this to what which with word words".split())


def _options(instruction: str) -> set[str]:
    """Short tokens of the instruction that could be labels it offers ("positive", "体育", "正面" out of
    "回答正面或负面")."""
    out = set()
    for tok in _OPTION_SPLIT.split(instruction):
        tok = tok.strip(" \"'“”‘’")
        if not tok or tok.lower() in _STOP:
            continue
        han = _HAN.findall(tok)
        if han and len(tok) == len(han):
            if len(tok) <= 4:
                out.add(tok)
            if 3 <= len(tok) <= 8:
                out.update({tok[:2], tok[-2:]})
        elif not han and 3 <= len(tok) <= 16 and len(units(tok)) <= 2:
            out.add(tok.lower())
    return out


def pair_features(instruction: str, context: str, material: str, output: str, names: list[str],
                  likeness: bool = True) -> list[float]:
    """Dense features of one (prompt, output) pair; the order is fixed by `names`."""
    o = output.strip()
    o_units, m_units, i_units = units(o), units(material), units(instruction)
    o_lang, i_lang, m_lang = lang_code(o), lang_code(instruction), lang_code(material)
    lines = [ln for ln in o.splitlines() if ln.strip()]
    items = [ln for ln in lines if LIST_ITEM.match(ln)]
    ask_zh, ask_en = bool(_ASK_ZH.search(instruction)), bool(_ASK_EN.search(instruction))
    prompt_all = context + "\n" + instruction
    instr_wo_material = instruction.replace(material, " ") if material != instruction.strip() else instruction
    g2o, g2m, g2p = grams(o, 2), grams(material, 2), grams(prompt_all, 2)
    g4o, g4m = grams(o, 4), grams(material, 4)
    nums_o, nums_m, nums_p = set(_NUM.findall(o)), set(_NUM.findall(material)), set(_NUM.findall(prompt_all))
    names_o, names_m = set(_NAME.findall(o)), set(_NAME.findall(prompt_all))
    parsed = json_of(o)
    keys_in_prompt = 0.0
    if isinstance(parsed, dict) and parsed:
        keys_in_prompt = sum(str(k).lower() in instruction.lower() for k in parsed) / len(parsed)
    ident_prompt = set(re.findall(r"`(\w+)", instruction)) | set(re.findall(r"\b([a-z]+_[a-z_0-9]+)\b", instruction))
    ident_hit = float(any(i in o for i in ident_prompt)) if ident_prompt else -1.0
    short = len(o_units) <= 5
    o_key = norm(o)
    option_hit = float(bool(o_key) and short and o_key in norm(instr_wo_material))
    o_ends_q = bool(re.search(r"[?？]\s*[\"”']?\s*$", o))
    m_ends_q = bool(re.search(r"[?？]\s*[\"”']?\s*$", material.strip()))
    n_sent = len(SENT_END.findall(o)) or (1 if o else 0)
    line_lens = [len(units(ln)) for ln in lines] or [0]
    # Where the output sits in the material: a copied span (reading comprehension), its opening sentences
    # (a lead summary), the whole of it (an echo), or nowhere.
    o_n, m_n = norm(_PREFIX.sub("", o, count=1)), norm(material)
    questions = " ".join(ln for ln in instruction.splitlines() if re.search(r"[?？]\s*$", ln))
    asks_number = bool(_ASKS_NUMBER.search(instr_wo_material + " " + questions))
    pos = m_n.find(o_n) if o_n and len(o_n) < len(m_n) else -1
    options = _options(instr_wo_material)
    mentions = sum(1 for t in options if len(t) >= 2 and t.lower() in o.lower())
    feats = [
        float(pos >= 0), pos / max(1, len(m_n)) if pos >= 0 else -1.0, len(o_n) / max(1, len(m_n)),
        float(len(_EQUATION.findall(o))), float(mentions), float(o_key in {norm(t) for t in options}),
        # a question asking for a number or a date answered with none is not answered
        float(asks_number), float(asks_number and not nums_o),
        # (the material's own length is left out on purpose: registry texts are short, real ones long)
        math.log1p(len(o_units)), math.log((len(o_units) + 1) / (len(m_units) + 1)),
        float(o_lang == "zh"), float(o_lang == "en"), float(o_lang == "mixed"), float(o_lang == "none"),
        float(i_lang == "zh"), float(m_lang == "zh"),
        float(o_lang == i_lang), float(o_lang == m_lang),
        float(ask_zh), float(ask_en),
        float((ask_zh and o_lang == "zh") or (ask_en and o_lang == "en")),
        float((ask_zh and not ask_en and o_lang == "en") or (ask_en and not ask_zh and o_lang == "zh")),
        float(len(lines)), float(len(items)), len(items) / max(1, len(lines)),
        float(sum(len(x) for x in lines) / max(1, len(lines))), float(max(line_lens)),
        float("```" in o), python_like(o), float(bool(_CODE_KW.search(o))),
        float(parsed is not None), float(isinstance(parsed, dict)), keys_in_prompt, ident_hit,
        float(o_ends_q), float(m_ends_q), float(o_ends_q == m_ends_q),
        float(n_sent), float(bool(_ANSWER_MARK.search(o))),
        float(len(nums_o)), containment(nums_o, nums_m), containment(nums_m, nums_o) if nums_m else -1.0,
        float(len(nums_o - nums_p)),
        containment(names_o, names_m) if names_o else -1.0,
        containment(g2o, g2m), containment(g2m, g2o), containment(g4o, g4m), containment(g4m, g4o),
        containment(g2o, g2p), containment(g2o, grams(instr_wo_material, 2)),
        float(short), option_hit, float(o_key == norm(material)),
        float(o.count("!") + o.count("！")), float(bool(_CHATTY.search(o))), float(len(_YOU.findall(o))),
        float(len(lines) >= 3 and not items and max(line_lens) <= 20),
        float(len(context) > 0),
        # a framing phrase of its own ("In short,", "概括：") makes a copy of the material a restatement,
        # not an echo or a weak attempt that copies
        float(framed(o, prompt_all)),
    ]
    for name in names if likeness else ():
        try:
            feats.append(float(tasks.get(name).output_likeness(o)))
        except Exception:  # a plug-in task's heuristic must not break the judge
            feats.append(0.0)
    return feats


def framed(output: str, prompt: str) -> bool:
    """Whether `output` opens with a short framing phrase ("In short:", "概括：") that the prompt does not hold."""
    m = _PREFIX.match(output)
    return bool(m) and norm(m.group()) not in norm(prompt)


def explain(parsed: tuple[str, str, str], output: str, asked: str, performed: str, guessed: bool) -> str:
    """A verdict's reason: the asked task, the output's shape and language, how much it copies."""
    instr, _, material = parsed
    o = output.strip()
    o_lang, m_lang = lang_code(o), lang_code(material)
    bits = [f"asked {asked}" + (" (read from the prompt)" if guessed else "")]
    if python_like(o) >= 1.0:
        bits.append("output is code")
    elif json_of(o) is not None:
        bits.append("output is JSON")
    elif sum(bool(LIST_ITEM.match(ln)) for ln in o.splitlines()) >= 2:
        bits.append("output is a list")
    elif len(units(o)) <= 5:
        bits.append("output is a short span or label")
    else:
        bits.append(f"output is {len(SENT_END.findall(o)) or 1}-sentence prose")
    if material != instr.strip():
        bits.append(f"output in {o_lang}, the prompt's material in {m_lang}")
        overlap = containment(grams(o, 2), grams(material, 2))
        if overlap > 0.5:
            bits.append(f"{overlap:.0%} of it copied from the material")
    if performed == NO_TASK:
        bits.append("performs no task (reads like a weak output: garbled, copied or cut short)")
    else:
        bits.append(f"performs {performed}" + (" — crossed" if performed != asked else ""))
    return "; ".join(bits)
