"""The crosstalk judge: given a prompt and an output, which task does the output perform?

Crosstalk is a model doing task B where task A was asked: answering the question it was asked to
translate, restating a code spec as a list, explaining instead of giving the label. Judged from the output
alone this cannot be seen (a correct translation is just a sentence), so the judge reads the PROMPT and
the OUTPUT together:

* what the prompt asks: the `intended` task when the caller knows it, else a small classifier on the
  prompt's words plus the registry's instruction `signals`;
* what the output looks like: each registered task's `output_likeness`, list / code / JSON / label / poem
  shape, length, language;
* how the output relates to the prompt's quoted material (the sentence to translate, the passage, the
  spec): same or other language, the language the prompt asks for, how much of the material it copies
  (character n-gram containment), whether it keeps the material's numbers and names, length ratio,
  question-mark parity (a translated question stays a question, an answered one does not), whether it
  is one of the options the prompt lists, whether its JSON keys or code identifiers are those the
  prompt names.

A gradient-boosted model over those features is trained on pairs built from the registry: each task's
clean records, and crossed pairs that keep the content and change the task (`make_pairs`). Nothing here
needs a GPU or an LLM; training takes seconds and happens once per process (`default_judge`).

    from mtsft.eval.judge import judge
    v = judge("Translate into Chinese: What is the capital of France?", "The capital of France is Paris.",
              intended="translation")
    v.performed_task, v.crossed   # ('open_qa', True)
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import json
import math
import os
import pickle
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

from mtsft import tasks
from mtsft.text import detect_lang, parse_python

JUDGE_VERSION = 1
# An output that performs no task at all (an echo of the prompt, a degenerate loop) is a failure of the
# asked task, not crosstalk: the judge says so before its model reads it (found on hand-labelled real
# outputs of the embedded model, where such outputs were read as summaries or translations).
NO_TASK = "none"

# ---- the verdict ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """performed_task: the task the output performs; confidence: the judge's probability for it;
    crossed: performed_task differs from the intended task (given, or read from the prompt);
    reason: a short human-readable account of the evidence."""

    performed_task: str
    confidence: float
    crossed: bool
    reason: str
    intended: str | None = None
    probabilities: dict[str, float] = field(default_factory=dict, compare=False, repr=False)


# ---- reading the prompt --------------------------------------------------------------------------

_RULE = re.compile(r"^\s*(?:[-=*_~`]{3,}|#{1,6}\s*)\s*$")
_QUOTED = re.compile(r"“([^”]{2,})”|\"([^\"]{2,})\"|「([^」]{2,})」|‘([^’]{4,})’")
_COLON = re.compile(r"[:：]\s*")
_QUESTION_LINE = re.compile(r"(?i)^\s*(?:question|q|问题|请问)\s*[:：]|^[^\n]{0,200}[?？]\s*$")
_LABEL = re.compile(r"(?i)^\s*(?:passage|text|article|context|文章|短文|材料|原文|文本)\s*[:：]\s*")


def _messages(prompt) -> list[dict]:
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    if isinstance(prompt, dict) and "messages" in prompt:
        prompt = prompt["messages"]
    msgs = [m for m in prompt if m.get("role") != "system"]
    # A record with its final answer still attached: drop the answer, the judge wants the prompt.
    while msgs and msgs[-1].get("role") == "assistant":
        msgs = msgs[:-1]
    return msgs or [{"role": "user", "content": ""}]


def material_of(instruction: str) -> str:
    """The content a prompt quotes for the task to work on (the sentence, the passage, the text to label),
    by shape: the block under the first line, else the longest quotation, else what follows the first
    colon, else the whole instruction."""
    lines = [ln for ln in instruction.splitlines() if ln.strip() and not _RULE.match(ln)]
    if len(lines) > 1:
        # "instruction / material" or "material / instruction": the material is the longer side.
        # The side that reads like an instruction (a registry signal, a trailing colon) is not the material.
        rest, head = "\n".join(lines[1:]).strip(), "\n".join(lines[:-1]).strip()
        first, last = _instruction_like(lines[0]), _instruction_like(lines[-1])
        block = head if last and not first and not lines[0].rstrip().endswith((":", "：")) else rest
        # a question line inside the block is the instruction's, not the material's
        kept = [ln for ln in block.splitlines() if not _QUESTION_LINE.match(ln)]
        if kept and sum(map(len, kept)) >= 0.5 * len(block):
            block = "\n".join(kept)
        return _LABEL.sub("", block, count=1).strip()
    parts = _COLON.split(instruction, maxsplit=1)
    quoted = [next(g for g in m.groups() if g) for m in _QUOTED.finditer(instruction)]
    if quoted:
        best = max(quoted, key=len)
        # a quotation inside the text after the colon is part of the material, not all of it
        inside = len(parts) == 2 and best in parts[1] and len(parts[1].strip()) > len(best) + 6
        if len(best) >= 2 and not inside:
            return best
    if len(parts) == 2 and len(parts[1].strip()) >= 2:
        return parts[1].strip()
    return instruction.strip()


_SIGNALS: list[re.Pattern] | None = None


def _instruction_like(line: str) -> bool:
    global _SIGNALS
    if _SIGNALS is None:
        pats = []
        for task in tasks.all_tasks():
            for group in (task.signals or {}).values():
                for pat in group:
                    try:
                        pats.append(re.compile(pat, re.I))
                    except re.error:
                        continue
        _SIGNALS = pats
    text = line.strip()
    return text.endswith((":", "：")) or any(p.search(text) for p in _SIGNALS)


def read_prompt(prompt) -> tuple[str, str, str]:
    """(instruction: the last user turn, context: the turns before it, material: what it works on).
    A short follow-up with nothing quoted ("make it shorter") works on the previous assistant turn."""
    msgs = _messages(prompt)
    instruction = msgs[-1].get("content") or ""
    context = "\n".join(m.get("content") or "" for m in msgs[:-1])
    material = material_of(instruction)
    if material == instruction.strip() and len(msgs) > 1:
        previous = [m for m in msgs[:-1] if m.get("role") == "assistant"]
        if previous and len(_units(instruction)) < 16:
            material = previous[-1].get("content") or material
    return instruction, context, material


# ---- text measurements ---------------------------------------------------------------------------

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[A-Za-z][A-Za-z'_-]*|\d+(?:[.,]\d+)*")
_NUM = re.compile(r"\d+(?:\.\d+)?")
_NAME = re.compile(r"\b[A-Z][a-z]+\b|\b[a-z_]+\([^)]*\)|`[^`]+`")
_LIST_ITEM = re.compile(r"^\s*(?:\d+[.、)）]|[-*•·]|[（(]?\d+[)）]|[一二三四五六七八九十]+[、.])\s*\S")
_FENCE = re.compile(r"```[\w+-]*\n?(.*?)```", re.S)
_CODE_KW = re.compile(r"^\s*(def |class |import |from \w+ import|return\b|for .+ in .+:|while .+:|if .+:|print\()", re.M)
_ANSWER_MARK = re.compile(r"(?i)\banswer\s*(?:is\b|[:：])|答案|####|最终结果|final answer|\\boxed|所以.{0,12}[是为]\s*\d")
_EQUATION = re.compile(r"\d\s*[-+*/×xX÷]\s*\(?\d[\d.,]*\)?(?:\s*[-+*/×xX÷]\s*\(?\d[\d.,]*\)?)*\s*=\s*\$?\d")
_ASKS_NUMBER = re.compile(r"(?i)\bhow (?:many|much|long|old|far)\b|\bwhat (?:year|percentage|number)\b|\bwhen\b|多少|几[个岁年月天次件人]|哪一?年|何时|什么时候")
_PREFIX = re.compile(r"^[^，,:：\n]{1,10}[，,:：]\s*")
_OPTION_SPLIT = re.compile(r"[，,、/|;；:：()（）\[\]【】。？?！!\s]+|\bor\b|或者?")
_CHATTY = re.compile(r"(?i)^(sure|of course|okay|ok|oh|haha|ha|wow|nice|great|hi|hello|hey|well)\b|^(好的|当然|哈哈|哇|嗯|好啊|没问题|你好|不错|有意思|听起来)")
_YOU = re.compile(r"(?i)\byou\b|\byour\b|你|您")
_SENT_END = re.compile(r"[.!?。！？]+(?:\s|$)")
_ASK_ZH = re.compile(r"(?i)\b(?:chinese|mandarin)\b|中文|汉语|英译中|译成中|翻成中")
_ASK_EN = re.compile(r"(?i)\benglish\b|英文|英语|中译英|译成英|翻成英")


def _units(text: str) -> list[str]:
    """Comparable units across languages: each Han character and each Latin word or number."""
    return _HAN.findall(text) + _WORD.findall(text)


def _norm(text: str) -> str:
    return re.sub(r"[\s\W_]+", "", text.lower())


def _grams(text: str, n: int) -> set[str]:
    t = _norm(text)
    return {t[i:i + n] for i in range(max(0, len(t) - n + 1))} if len(t) >= n else ({t} if t else set())


def _containment(a: set, b: set) -> float:
    return len(a & b) / len(a) if a else 0.0


def no_task_reason(instruction: str, material: str, output: str) -> str | None:
    """Why `output` performs no task, or None: a degenerate loop (few distinct words or characters
    repeated), or an echo (all but a few of the output's character trigrams are in the prompt, and it
    reproduces most of the material or the whole request; a framing phrase such as "In short," makes
    it a restatement, which the model judges). Short quoted spans (a label, an entity, the
    sentence holding an answer) are answers, not echoes, so the echo must cover the material."""
    units = _units(output)
    if len(units) >= 8 and len(set(units)) / len(units) < 0.3:
        return "degenerate repetition"
    said = _grams(output, 3)
    if len(_norm(output)) < 6 or _containment(said, _grams(instruction + "\n" + material, 3)) < 0.97:
        return None
    if any(_containment(_grams(whole, 3), said) >= 0.8 for whole in (material, instruction) if _norm(whole)):
        return "echoes the prompt"
    return None


def _strip_fence(text: str) -> str:
    m = _FENCE.search(text)
    return m.group(1) if m else text


def _python_like(text: str) -> float:
    body = _strip_fence(text)
    if not (_CODE_KW.search(body) or re.search(r"^\s*\w+\s*=\s*\S", body, re.M)):
        return 0.0
    try:
        tree = parse_python(body)
    except (SyntaxError, ValueError):
        return 0.3
    kinds = (ast.FunctionDef, ast.Assign, ast.For, ast.While, ast.Import, ast.ImportFrom, ast.ClassDef, ast.Return)
    return 1.0 if any(isinstance(n, kinds) for n in ast.walk(tree)) else 0.2


def _json_of(text: str):
    body = _strip_fence(text).strip()
    if not body or body[0] not in "{[":
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def _lang_code(text: str) -> str:
    return detect_lang(text) if _units(text) else "none"


# ---- features ------------------------------------------------------------------------------------


def _task_names() -> list[str]:
    return sorted(tasks.names())


_TASK_SIGNALS: dict[str, list[re.Pattern]] = {}


def _signal_hits(text: str, names: list[str]) -> list[float]:
    hits = []
    for name in names:
        if name not in _TASK_SIGNALS:
            pats = []
            for group in (tasks.get(name).signals or {}).values():
                for pat in group:
                    try:
                        pats.append(re.compile(pat, re.I))
                    except re.error:
                        continue
            _TASK_SIGNALS[name] = pats
        hits.append(float(any(p.search(text) for p in _TASK_SIGNALS[name])))
    return hits


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
        elif not han and 3 <= len(tok) <= 16 and len(_units(tok)) <= 2:
            out.add(tok.lower())
    return out


def pair_features(instruction: str, context: str, material: str, output: str, names: list[str],
                  likeness: bool = True) -> list[float]:
    """Dense features of one (prompt, output) pair; the order is fixed by `names`."""
    o = output.strip()
    o_units, m_units, i_units = _units(o), _units(material), _units(instruction)
    o_lang, i_lang, m_lang = _lang_code(o), _lang_code(instruction), _lang_code(material)
    lines = [ln for ln in o.splitlines() if ln.strip()]
    items = [ln for ln in lines if _LIST_ITEM.match(ln)]
    ask_zh, ask_en = bool(_ASK_ZH.search(instruction)), bool(_ASK_EN.search(instruction))
    prompt_all = context + "\n" + instruction
    instr_wo_material = instruction.replace(material, " ") if material != instruction.strip() else instruction
    g2o, g2m, g2p = _grams(o, 2), _grams(material, 2), _grams(prompt_all, 2)
    g4o, g4m = _grams(o, 4), _grams(material, 4)
    nums_o, nums_m, nums_p = set(_NUM.findall(o)), set(_NUM.findall(material)), set(_NUM.findall(prompt_all))
    names_o, names_m = set(_NAME.findall(o)), set(_NAME.findall(prompt_all))
    parsed = _json_of(o)
    keys_in_prompt = 0.0
    if isinstance(parsed, dict) and parsed:
        keys_in_prompt = sum(str(k).lower() in instruction.lower() for k in parsed) / len(parsed)
    ident_prompt = set(re.findall(r"`(\w+)", instruction)) | set(re.findall(r"\b([a-z]+_[a-z_0-9]+)\b", instruction))
    ident_hit = float(any(i in o for i in ident_prompt)) if ident_prompt else -1.0
    short = len(o_units) <= 5
    o_key = _norm(o)
    option_hit = float(bool(o_key) and short and o_key in _norm(instr_wo_material))
    o_ends_q = bool(re.search(r"[?？]\s*[\"”']?\s*$", o))
    m_ends_q = bool(re.search(r"[?？]\s*[\"”']?\s*$", material.strip()))
    n_sent = len(_SENT_END.findall(o)) or (1 if o else 0)
    line_lens = [len(_units(ln)) for ln in lines] or [0]
    # Where the output sits in the material: a copied span (reading comprehension), its opening sentences
    # (a lead summary), the whole of it (an echo), or nowhere.
    o_n, m_n = _norm(_PREFIX.sub("", o, count=1)), _norm(material)
    questions = " ".join(ln for ln in instruction.splitlines() if re.search(r"[?？]\s*$", ln))
    asks_number = bool(_ASKS_NUMBER.search(instr_wo_material + " " + questions))
    pos = m_n.find(o_n) if o_n and len(o_n) < len(m_n) else -1
    options = _options(instr_wo_material)
    mentions = sum(1 for t in options if len(t) >= 2 and t.lower() in o.lower())
    feats = [
        float(pos >= 0), pos / max(1, len(m_n)) if pos >= 0 else -1.0, len(o_n) / max(1, len(m_n)),
        float(len(_EQUATION.findall(o))), float(mentions), float(o_key in {_norm(t) for t in options}),
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
        float("```" in o), _python_like(o), float(bool(_CODE_KW.search(o))),
        float(parsed is not None), float(isinstance(parsed, dict)), keys_in_prompt, ident_hit,
        float(o_ends_q), float(m_ends_q), float(o_ends_q == m_ends_q),
        float(n_sent), float(bool(_ANSWER_MARK.search(o))),
        float(len(nums_o)), _containment(nums_o, nums_m), _containment(nums_m, nums_o) if nums_m else -1.0,
        float(len(nums_o - nums_p)),
        _containment(names_o, names_m) if names_o else -1.0,
        _containment(g2o, g2m), _containment(g2m, g2o), _containment(g4o, g4m), _containment(g4m, g4o),
        _containment(g2o, g2p), _containment(g2o, _grams(instr_wo_material, 2)),
        float(short), option_hit, float(o_key == _norm(material)),
        float(o.count("!") + o.count("！")), float(bool(_CHATTY.search(o))), float(len(_YOU.findall(o))),
        float(len(lines) >= 3 and not items and max(line_lens) <= 20),
        float(len(context) > 0),
    ]
    for name in names if likeness else ():
        try:
            feats.append(float(tasks.get(name).output_likeness(o)))
        except Exception:  # a plug-in task's heuristic must not break the judge
            feats.append(0.0)
    return feats


# ---- pairs from the registry: clean and crossed --------------------------------------------------
# Phrase pools for the crossed outputs; the last two of each pool are held out (used only when
# `held_out=True`), so a judge trained on the rest is tested on wordings it never saw.

POOLS: dict[str, dict[str, list[str]]] = {
    "chat": {
        "en": ["Oh, that's an interesting one! What made you think of it?", "Ha, I love that you asked. How's your day going?",
               "Sounds fun! Tell me more about why you need this.", "Nice! I'm always happy to chat. What else is on your mind?",
               "Interesting! Is this for school or just curiosity?", "Haha, you always come up with good ones! What are you up to today?",
               "Oh nice, I like where this is going. How have you been lately?", "Hmm, fun question! Do you have a guess yourself?"],
        "zh": ["哈哈，这个挺有意思的！你怎么会想到这个？", "好问题呀，你今天过得怎么样？", "听起来很有趣！能多跟我说说你为什么需要这个吗？",
               "不错不错，我很喜欢聊这类话题。你最近在忙什么？", "有意思！这是为了上课还是单纯好奇？", "哈哈，你总是能想到好玩的事！今天有什么安排吗？",
               "哇，这个话题我喜欢。你最近过得好吗？", "嗯，好玩的问题！你自己有什么猜想吗？"],
    },
    "explain_label": {
        "en": ["The text is best described as {label}, because it says \"{snip}\", which is typical of that kind of content. The other options do not fit as well.",
               "I would say {label}. The key phrase is \"{snip}\"; it points clearly in that direction, so the other categories are less likely.",
               "Looking at the wording, especially \"{snip}\", this reads like {label}. It has the tone and the topic you would expect there.",
               "My reasoning: the sentence mentions \"{snip}\". That is what {label} texts usually talk about, so {label} is the closest fit.",
               "This one belongs to {label}. Notice \"{snip}\" — that detail gives it away, and nothing in it suggests another category.",
               "Based on \"{snip}\", I'd lean towards {label}, since the writer focuses on exactly that kind of thing rather than anything else."],
        "zh": ["这段文字属于{label}，因为其中提到“{snip}”，这是这一类内容的典型特征，其他选项都不太符合。",
               "我认为是{label}。关键在于“{snip}”这句话，它明显指向这一类，所以其他类别的可能性较小。",
               "从措辞来看，尤其是“{snip}”，这段话读起来像{label}，语气和话题都符合这一类。",
               "理由如下：文中提到了“{snip}”，这正是{label}类文本常见的内容，所以最接近{label}。",
               "这条应该归为{label}。注意“{snip}”这个细节，它说明了一切，没有迹象表明是其他类别。",
               "根据“{snip}”这一点，我倾向于判断为{label}，因为作者关注的正是这类内容，而不是别的。"],
    },
    "steps_head": {
        "en": ["Here is what the function needs to do:", "Requirements:", "Steps:", "Let me break the task down:",
               "The plan, point by point:", "What we need:"],
        "zh": ["这个函数需要做的事情：", "需求如下：", "步骤：", "把任务拆解一下：", "要点如下：", "需要完成的内容："],
    },
    "steps_tail": {
        "en": ["Handle the edge cases, such as an empty input.", "Return the result at the end.", "Test it with a few examples.",
               "Keep the code simple and readable.", "Check the result against the examples.", "Think about what happens with very large inputs."],
        "zh": ["处理边界情况，比如输入为空。", "最后返回结果。", "用几个例子测试一下。", "代码要简单易读。", "用示例核对结果。", "考虑输入很大时会怎样。"],
    },
    "explain_code": {
        "en": ["To do this, you need to {spec} A simple way is to loop over the input, keep the running result in a variable and return it at the end. Remember to think about the edge cases.",
               "The idea is straightforward: {spec} You can go through the input one element at a time and build up the answer as you go, then return it.",
               "Here's how I would approach it. The task is to {spec} First work out what the inputs look like, then handle each case in turn, and finally return what you computed.",
               "This is a classic exercise. You are asked to {spec} Usually a single pass over the data is enough, so the solution runs in linear time.",
               "Basically, {spec} Break the problem into small steps, test each one, and you will have a working solution in a few minutes.",
               "What you want is to {spec} The cleanest approach is to keep it to one loop and one return statement, which makes it easy to test."],
        "zh": ["要实现这个功能，需要{spec}简单的做法是遍历输入，用一个变量记录结果，最后返回即可。别忘了考虑边界情况。",
               "思路很直接：{spec}可以逐个处理输入中的元素，一边处理一边累积答案，最后返回。",
               "我会这样来做。题目要求{spec}先弄清楚输入是什么样的，再逐一处理各种情况，最后返回计算结果。",
               "这是一道经典练习题，要求{spec}通常遍历一遍数据就够了，所以时间复杂度是线性的。",
               "简单来说，{spec}把问题拆成几个小步骤，每一步都测试一下，很快就能写出来。",
               "你要做的是{spec}最清晰的方法是只用一个循环和一个返回语句，这样也方便测试。"],
    },
    "summary_lead": {
        "en": ["In short: ", "Summary: ", "", "Briefly, ", "To sum up, ", "The gist: "],
        "zh": ["简而言之，", "概括：", "", "总的来说，", "总结一下：", "大意是："],
    },
    "story": {
        "en": ["I walked past {a} on a rainy evening. Next door, {b} was already closing, and someone had chalked {c} on the wall. I sat down and wrote all three in my notebook, smiling.",
               "Once upon a time there was a small street with {a} on one corner and {b} on the other. Everyone argued about which was better, until {c} opened in between.",
               "My grandmother kept a list of dreams: {a}, then {b}. She never got to {c}, so last spring I did it for her.",
               "The old sign read {a}. Under it, in smaller letters, {b}. Nobody remembered who added {c}, but the town loved it.",
               "On the first day it was {a}; by summer, people called it {b}; and when winter came, the children simply said {c}.",
               "She whispered {a} to the sea, and the waves answered {b}. By morning the sand had written {c}."],
        "zh": ["一个下雨的傍晚，我路过{a}。隔壁的{b}已经打烊，墙上有人用粉笔写着{c}。我坐下来，把这三个名字记在本子上，笑了。",
               "从前有一条小街，街头是{a}，街尾是{b}。大家总争论哪家更好，直到中间开了{c}。",
               "奶奶有一张心愿单：先是{a}，然后是{b}。她没来得及完成{c}，去年春天我替她完成了。",
               "旧招牌上写着{a}，下面一行小字是{b}。没人记得是谁加上了{c}，但镇上的人都喜欢。",
               "第一天它叫{a}；到了夏天，人们叫它{b}；冬天来临时，孩子们干脆叫它{c}。",
               "她对着大海轻声说出{a}，海浪回答{b}。到了早晨，沙滩上写着{c}。"],
    },
    "write_ideas": {
        "en": ["Some ideas for the piece:", "Here are a few angles you could take:", "Ideas:", "Possible directions:",
               "A few things to try:", "Brainstorm:"],
        "zh": ["写作思路：", "可以从这几个角度入手：", "一些想法：", "可能的方向：", "可以试试这些：", "头脑风暴："],
    },
    "explain_write": {
        "en": ["To write a good piece like this, start with a clear image of {k1}, then bring in {k2} halfway through. Keep the sentences short and end on a feeling rather than an explanation.",
               "A tip: open with {k1} so the reader knows where they are, and save {k2} for the turn. Read it aloud afterwards to check the rhythm.",
               "The trick with short pieces is to pick one moment. Use {k1} as the setting and {k2} as the detail that changes everything.",
               "First decide the mood. Then place {k1} early and {k2} late, so the piece moves from one to the other.",
               "Think of {k1} as the beginning and {k2} as the end; everything in between should connect them in a natural way.",
               "Good short writing shows instead of telling: let {k1} and {k2} carry the emotion, and avoid saying it directly."],
        "zh": ["要写好这样的作品，先从{k1}这个清晰的画面开始，中间再引出{k2}。句子要短，结尾落在情绪上，而不是解释。",
               "一个小建议：开头写{k1}，让读者知道身在何处，把{k2}留到转折处。写完后读出来，检查节奏。",
               "短篇的诀窍是只抓一个瞬间。用{k1}作背景，用{k2}作改变一切的细节。",
               "先定下情绪，然后把{k1}放在前面，{k2}放在后面，让作品从一个自然过渡到另一个。",
               "把{k1}当作开头，{k2}当作结尾，中间的内容要自然地把它们连起来。",
               "好的短文是展示而不是讲述：让{k1}和{k2}去承载情感，不要直接说出来。"],
    },
    "tips": {
        "en": ["Here are some ideas:", "A few suggestions:", "Some things that might help:", "Options:",
               "Tips:", "You could try:"],
        "zh": ["给你几个建议：", "一些想法：", "可能有帮助的几点：", "可以考虑：", "小贴士：", "你可以试试："],
    },
    "tip_items": {
        "en": ["Make a simple plan for {k}", "Talk to a friend about {k}", "Set one small goal about {k} each day",
               "Write down what you know about {k}", "Take a short break before thinking about {k} again",
               "Look for a club or group interested in {k}", "Read one article about {k}", "Reward yourself after working on {k}",
               "Ask someone who has done {k} before", "Give yourself a deadline for {k}"],
        "zh": ["为{k}做一个简单的计划", "和朋友聊聊{k}", "每天为{k}定一个小目标", "把关于{k}你知道的写下来", "先休息一下再想{k}",
               "找一个对{k}感兴趣的小组", "读一篇关于{k}的文章", "做完{k}相关的事后奖励一下自己",
               "请教做过{k}的人", "给{k}定一个截止日期"],
    },
    "labels": {
        "en": ["finance", "business", "technology", "news", "sports", "politics", "society", "economy"],
        "zh": ["财经", "商业", "科技", "新闻", "体育", "政治", "社会", "经济"],
    },
}


def _pool(name: str, lang: str, rng: random.Random, held_out: bool) -> list[str]:
    pool = POOLS[name][lang]
    return pool[-2:] if held_out else pool[:-2]


def _pick(name: str, lang: str, rng: random.Random, held_out: bool) -> str:
    return rng.choice(_pool(name, lang, rng, held_out))


def _last(record: dict, role: str) -> str:
    return next(m["content"] for m in reversed(record["messages"]) if m["role"] == role)


def _prompt_of(record: dict) -> list[dict]:
    msgs = [m for m in record["messages"] if m["role"] != "system"]
    return msgs[:-1] if msgs and msgs[-1]["role"] == "assistant" else msgs


def _sentences(text: str, lang: str) -> list[str]:
    parts = re.split(r"(?<=[。！？])" if lang == "zh" else r"(?<=[.!?])\s+", text.strip())
    return [p.strip() for p in parts if p.strip()]


def _clauses(text: str) -> list[str]:
    return [c.strip(" ，,。.;；") for c in re.split(r"[,，;；。]|(?<=[a-z])\. ", text) if len(c.strip()) > 3]


def _snippet(text: str, rng: random.Random) -> str:
    clauses = _clauses(text) or [text]
    snip = rng.choice(clauses)
    return snip[:40]


def _pairs_of_record(rec: dict, other: dict, rng: random.Random, held_out: bool) -> list[tuple[str, str, str]]:
    """(output, performed, kind) for crossed versions of `rec` that keep its content; `other` is the same
    draw in the other language (the registry's tables are parallel)."""
    task, lang, ref = rec["task"], rec["lang"], rec["reference"]
    material = read_prompt(_prompt_of(rec))[2]
    o_material = read_prompt(_prompt_of(other))[2]
    translated_request = (o_material, "translation", "translated_material")
    out: list[tuple[str, str, str]] = []
    if task == "open_qa":
        short = ref.get("short") or ref["answer"]
        out += [translated_request,
                (rng.choice([f'```python\nanswer = "{short}"\nprint(answer)\n```',
                             f'```python\ndef answer():\n    return "{short}"\n```']), "code", "answer_as_code"),
                (rng.choice([json.dumps({"answer": short}, ensure_ascii=False),
                             json.dumps({"question": material[:60], "answer": short}, ensure_ascii=False)]),
                 "extraction", "answer_as_json"),
                (_pick("chat", lang, rng, held_out), "chitchat", "chatted")]
    elif task == "reading_comprehension":
        sents = _sentences(ref["passage"], lang)
        prefix = _pick("summary_lead", lang, rng, held_out) if rng.random() < 0.5 else ""  # often no preamble
        lead = prefix + (" " if lang == "en" else "").join(sents[:rng.choice([1, 2])])
        out += [(lead, "summarization", "passage_summarised"),
                (other["reference"]["passage"], "translation", "passage_translated")]
    elif task == "code":
        clauses = _clauses(material)
        items = [_pick("steps_tail", lang, rng, held_out) for _ in range(rng.choice([1, 2]))]
        lines = [_pick("steps_head", lang, rng, held_out)] if rng.random() < 0.7 else []
        lines += [f"{i}. {c}" for i, c in enumerate(clauses + items, 1)]
        spec = material.rstrip("。.") + ("。" if lang == "zh" else ".")
        if lang == "en" and spec[:1].isupper():
            spec = spec[0].lower() + spec[1:]
        out += [("\n".join(lines), "brainstorming", "spec_as_list"),
                (_pick("explain_code", lang, rng, held_out).format(spec=spec), "open_qa", "spec_explained"),
                translated_request]
    elif task == "math":
        statements = [x for x in _sentences(material, lang) if not re.search(r"[?？]$", x)] or [material]
        out.append((_pick("summary_lead", lang, rng, held_out) + (" " if lang == "en" else "").join(statements),
                    "summarization", "problem_restated"))
        nums = _NUM.findall(material)[:3] or ["1"]
        var = ", ".join("abc"[: len(nums)])
        code = rng.choice([f"```python\n{var} = {', '.join(nums)}\nresult = {ref['value']}\nprint(result)\n```",
                           f"```python\ndef solve():\n    {var} = {', '.join(nums)}\n    return {ref['value']}\n\nprint(solve())\n```"])
        out += [(code, "code", "solved_as_code"), translated_request]
    elif task == "classification":
        label = ref["label"]
        out += [(_pick("explain_label", lang, rng, held_out).format(label=label, snip=_snippet(material, rng)),
                 "open_qa", "label_explained"), translated_request,
                (_pick("chat", lang, rng, held_out), "chitchat", "replied_to_text"),
                (_pick("summary_lead", lang, rng, held_out) + material, "summarization", "restated_text")]
    elif task == "extraction":
        lead = _pick("summary_lead", lang, rng, held_out)
        out += [(lead + material.split("\n")[-1].strip(), "summarization", "restated_in_prose"),
                (_pick("labels", lang, rng, held_out), "classification", "labelled"), translated_request]
    elif task == "summarization":
        nums = _NUM.findall(ref["source"])
        span = rng.choice(nums) if nums else _snippet(ref["source"], rng)[:12]
        out += [(other["reference"]["source"], "translation", "passage_translated"),
                (span, "reading_comprehension", "answered_a_detail")]
    elif task == "rewriting":
        out += [(other["reference"]["answer"], "translation", "translated_instead"),
                (_pick("chat", lang, rng, held_out), "chitchat", "replied_to_it")]
    elif task == "brainstorming":
        items = [re.sub(r"^\s*\d+[.、)]\s*", "", ln).strip() for ln in ref["answer"].splitlines() if ln.strip()]
        items = (items + items)[:3]
        story = _pick("story", lang, rng, held_out).format(a=items[0], b=items[1], c=items[2])
        code = "```python\nideas = [\n" + "".join(f"    {json.dumps(i, ensure_ascii=False)},\n" for i in items) + \
            "]\nfor idea in ideas:\n    print(idea)\n```"
        out += [(story, "creative_writing", "wrote_a_story"), (code, "code", "ideas_as_code"), translated_request]
    elif task == "creative_writing":
        kws = list(ref.get("keywords") or []) + ["", ""]
        head = _pick("write_ideas", lang, rng, held_out)
        ideas = [f"{i}. {c}" for i, c in enumerate(_clauses(material)[:3] + [k for k in kws if k], 1)]
        out += [(head + "\n" + "\n".join(ideas), "brainstorming", "ideas_instead"),
                (_pick("explain_write", lang, rng, held_out).format(k1=kws[0] or "it", k2=kws[1] or kws[0] or "it"),
                 "open_qa", "explained_how"), translated_request]
    elif task == "chitchat":
        k = (ref.get("keywords") or ["it"])[0]
        pool = _pool("tip_items", lang, rng, held_out)
        tips = rng.sample(pool, k=min(rng.choice([3, 4]), len(pool)))
        listing = _pick("tips", lang, rng, held_out) + "\n" + "\n".join(f"{i}. {t.format(k=k)}" for i, t in enumerate(tips, 1))
        out += [(_last(other, "user"), "translation", "translated_message"), (listing, "brainstorming", "listed_tips")]
    return out


COMPOSE = ["open_qa", "math", "code", "chitchat", "rewriting", "summarization", "classification", "brainstorming",
           "creative_writing", "extraction"]


def _translation_crossed(rec: dict, rng: random.Random, seed: int, held_out: bool) -> dict | None:
    """A translation prompt whose sentence is another task's request, answered as that task: the sentence
    answered (coded, solved, classified...) instead of translated."""
    lang = rec["lang"]
    src = rec["reference"]["source"]
    instr = _last(rec, "user")
    if src not in instr:
        return None
    b = rng.choice(COMPOSE)
    other_lang = "en" if lang == "zh" else "zh"
    rb = tasks.get(b).generate(random.Random(seed), lang, held_out=held_out)
    x = _last(rb, "user") if b in ("chitchat", "math", "code") or rng.random() < 0.5 else read_prompt(_prompt_of(rb))[2]
    if b in ("open_qa", "chitchat", "math") and rng.random() < 0.4:  # answered in the target language
        output = _last(tasks.get(b).generate(random.Random(seed), other_lang, held_out=held_out), "assistant")
    else:
        output = _last(rb, "assistant")
    prompt = _prompt_of(rec)
    prompt = prompt[:-1] + [{"role": "user", "content": instr.replace(src, x)}]
    return {"prompt": prompt, "output": output, "performed": b, "kind": f"translation_{b}"}


def _longer_passage(rec: dict, task, rng: random.Random, held_out: bool) -> dict:
    """The same question over a longer passage (its own plus other passages of the same language), so the
    judge does not learn that reading-comprehension passages are short."""
    passage = rec["reference"]["passage"]
    extra = [task.generate(random.Random(rng.randrange(1 << 30)), rec["lang"], held_out=held_out)["reference"]["passage"]
             for _ in range(rng.choice([1, 2, 3]))]
    joined = (" " if rec["lang"] == "en" else "").join([passage] + extra)
    msgs = [dict(m) for m in rec["messages"]]
    for m in msgs:
        if m["role"] == "user" and passage in m["content"]:
            m["content"] = m["content"].replace(passage, joined)
    return {**rec, "messages": msgs, "reference": {**rec["reference"], "passage": joined}}


EXTRA_LABELS = {"en": ["travel", "education", "food", "cars", "games", "books", "phones", "hotels", "fashion", "music",
                        "neutral", "mixed"],
                "zh": ["旅游", "教育", "美食", "汽车", "游戏", "书籍", "手机", "酒店", "服装", "音乐", "中性", "水果", "家电"]}


def _more_options(rec: dict, rng: random.Random) -> dict:
    """The same text with a longer list of labels to choose from, so the judge does not learn the
    registry's label sets by heart."""
    ref, lang = rec["reference"], rec["lang"]
    labels = list(ref.get("labels") or [])
    listed = (" or ".join([", ".join(labels[:-1]), labels[-1]]) if lang == "en" else "、".join(labels)) if labels else ""
    if not listed or not any(listed in m["content"] for m in rec["messages"] if m["role"] == "user"):
        return rec
    more = labels + rng.sample([x for x in EXTRA_LABELS[lang] if x not in labels], k=rng.randint(2, 6))
    rng.shuffle(more)
    new = " or ".join([", ".join(more[:-1]), more[-1]]) if lang == "en" else "、".join(more)
    msgs = [dict(m, content=m["content"].replace(listed, new)) if m["role"] == "user" else dict(m) for m in rec["messages"]]
    return {**rec, "messages": msgs, "reference": {**ref, "labels": more}}


def make_pairs(seed: int, per_task_lang: int, *, held_out: bool, crossed_share: float = 0.5,
               task_names: list[str] | None = None) -> list[dict]:
    """Clean and crossed (prompt, output) pairs from the registry, `per_task_lang` per task and language.

    Each row: prompt (messages), output, intended, performed, crossed, kind, lang, source. Crossed rows keep
    the record's content and change what is done with it; `held_out=True` uses the registry's held-out
    templates and the held-out phrase pools."""
    rng = random.Random(seed)
    names = task_names or tasks.names()
    rows: list[dict] = []
    for name in names:
        task = tasks.get(name)
        for lang in ("en", "zh"):
            for i in range(per_task_lang):
                s = rng.randrange(1 << 30)
                try:
                    rec = task.generate(random.Random(s), lang, held_out=held_out)
                except Exception:
                    break
                if name == "reading_comprehension" and rng.random() < 0.4:
                    rec = _longer_passage(rec, task, rng, held_out)
                if name == "classification" and rng.random() < 0.4:
                    rec = _more_options(rec, rng)
                base = {"intended": name, "lang": lang, "source": f"registry:{name}:{s}"}
                if int((i + 1) * crossed_share) == int(i * crossed_share):  # clean; crossed_share of i are crossed
                    output = _last(rec, "assistant")
                    if name == "reading_comprehension" and rng.random() < 0.3:
                        # quoting the passage's sentence that holds the answer is still answering (the
                        # opening sentences alone would read as a lead summary)
                        sents = _sentences(rec["reference"]["passage"], lang)
                        holding = [x for x in sents[1:] if output in x]
                        output = holding[0] if holding else output
                    rows.append({**base, "prompt": _prompt_of(rec), "output": output,
                                 "performed": name, "crossed": False, "kind": "clean"})
                    continue
                if name == "translation":
                    try:
                        row = _translation_crossed(rec, rng, s, held_out)
                    except Exception:  # a generator that changed shape: keep the pair clean
                        row = None
                    if row:
                        rows.append({**base, **row, "crossed": True})
                        continue
                options = []
                if name in _CROSSABLE:
                    try:
                        other = task.generate(random.Random(s), "en" if lang == "zh" else "zh", held_out=held_out)
                        options = _pairs_of_record(rec, other, rng, held_out)
                    except Exception:  # a generator that changed shape: keep the pair clean
                        options = []
                if not options:
                    rows.append({**base, "prompt": _prompt_of(rec), "output": _last(rec, "assistant"),
                                 "performed": name, "crossed": False, "kind": "clean"})
                    continue
                output, performed, kind = rng.choice(options)
                rows.append({**base, "prompt": _prompt_of(rec), "output": output, "performed": performed,
                             "crossed": performed != name, "kind": kind})
    return rows


_CROSSABLE = {"open_qa", "reading_comprehension", "code", "math", "classification", "extraction", "summarization",
              "rewriting", "brainstorming", "creative_writing", "chitchat"}


# ---- the model -----------------------------------------------------------------------------------


class CrosstalkJudge:
    """Prompt-intent classifier + pair-feature gradient boosting; `fit` on pairs like `make_pairs`'."""

    def __init__(self, names: list[str] | None = None, seed: int = 0, *, likeness: bool = False,
                 model_params: dict | None = None):
        self.names = names or _task_names()
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
                         + _signal_hits(instr, self.names) + list(vec))
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
        self.names = sorted(set(self.names) | set(intended) | {p["performed"] for p in pairs})
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
            j = int(np.argmax(probs[k]))
            performed = classes[j]
            p = {c: float(probs[k][i]) for i, c in enumerate(classes)}
            verdicts.append(Verdict(performed_task=performed, confidence=float(probs[k][j]),
                                    crossed=performed != asked[k],
                                    reason=_reason(parsed[k], items[k][1], asked[k], performed, intended[k] is None),
                                    intended=asked[k], probabilities=p))
        return verdicts

    def judge(self, prompt, output: str, intended: str | None = None, **kwargs) -> Verdict:
        return self.judge_many([(prompt, output)], [intended], **kwargs)[0]


# ---- an optional LLM judge (any OpenAI-compatible endpoint), never required ----------------------


@dataclass
class LLMBackup:
    """Asks a chat model which task a reply performs, through `POST {base_url}/chat/completions` (OpenAI,
    vLLM, llama.cpp server, Ollama...). Used only for pairs the feature model is unsure of, and only where
    the asked or judged task's family is in `families` (open-ended tasks by default); any failure
    (network, timeout, an unknown answer) leaves the model's verdict as it was."""

    base_url: str
    model: str
    api_key: str | None = None
    timeout: float = 30.0
    families: tuple[str, ...] = ("open",)

    def _applies(self, *names: str | None) -> bool:
        for name in names:
            try:
                if name and tasks.get(name).family in self.families:
                    return True
            except KeyError:
                continue
        return False

    def ask(self, prompt, output: str, names: list[str]) -> str | None:
        import urllib.request

        msgs = _messages(prompt)
        shown = "\n".join(f"[{m.get('role')}] {m.get('content')}" for m in msgs)
        catalogue = "\n".join(f"- {n}: {tasks.get(n).description.get('en', '')}" for n in names)
        question = (f"Task types:\n{catalogue}\n\nPROMPT:\n{shown}\n\nREPLY:\n{output}\n\n"
                    "Which task type does the REPLY actually perform (not which one the prompt asked for)? "
                    "Answer with the task type's name only.")
        body = json.dumps({"model": self.model, "temperature": 0, "max_tokens": 12,
                           "messages": [{"role": "system", "content": "You label what an assistant's reply does."},
                                        {"role": "user", "content": question}]}).encode()
        headers = {"Content-Type": "application/json"}
        key = self.api_key or os.environ.get("OPENAI_API_KEY")
        if key:
            headers["Authorization"] = f"Bearer {key}"
        req = urllib.request.Request(self.base_url.rstrip("/") + "/chat/completions", data=body, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                answer = json.loads(resp.read())["choices"][0]["message"]["content"]
        except Exception:
            return None
        found = [n for n in sorted(names, key=len, reverse=True) if re.search(rf"\b{re.escape(n)}\b", answer or "")]
        return found[0] if found else None

    def review(self, verdict: Verdict, prompt, output: str, names: list[str]) -> Verdict:
        if not self._applies(verdict.intended, verdict.performed_task):
            return verdict
        named = self.ask(prompt, output, names)
        if named is None:
            return verdict
        return Verdict(performed_task=named, confidence=verdict.confidence, crossed=named != verdict.intended,
                       reason=f"{verdict.reason}; LLM judge ({self.model}): {named}", intended=verdict.intended,
                       probabilities=verdict.probabilities)


def _reason(parsed: tuple[str, str, str], output: str, asked: str, performed: str, guessed: bool) -> str:
    instr, _, material = parsed
    o = output.strip()
    o_lang, m_lang = _lang_code(o), _lang_code(material)
    bits = [f"asked {asked}" + (" (read from the prompt)" if guessed else "")]
    if _python_like(o) >= 1.0:
        bits.append("output is code")
    elif _json_of(o) is not None:
        bits.append("output is JSON")
    elif sum(bool(_LIST_ITEM.match(ln)) for ln in o.splitlines()) >= 2:
        bits.append("output is a list")
    elif len(_units(o)) <= 5:
        bits.append("output is a short span or label")
    else:
        bits.append(f"output is {len(_SENT_END.findall(o)) or 1}-sentence prose")
    if material != instr.strip():
        bits.append(f"output in {o_lang}, the prompt's material in {m_lang}")
        overlap = _containment(_grams(o, 2), _grams(material, 2))
        if overlap > 0.5:
            bits.append(f"{overlap:.0%} of it copied from the material")
    bits.append(f"performs {performed}" + (" — crossed" if performed != asked else ""))
    return "; ".join(bits)


_DEFAULT: CrosstalkJudge | None = None
TRAIN_SEED, TRAIN_PER_TASK_LANG = 0, 120


def _cache_file() -> Path | None:
    """Where the trained default judge is kept between processes, keyed by this module's source, the
    registered tasks and their modules' sources (a changed generator retrains it); None when disabled
    (MTSFT_JUDGE_CACHE=0) or when a source cannot be read."""
    if os.environ.get("MTSFT_JUDGE_CACHE", "1") == "0":
        return None
    digest = hashlib.sha256(f"{JUDGE_VERSION}:{TRAIN_SEED}:{TRAIN_PER_TASK_LANG}".encode())
    try:
        digest.update(Path(__file__).read_bytes())
        sources = {str(p) for p in Path(tasks.__file__).resolve().parent.rglob("*.py")}
        for name in _task_names():
            digest.update(name.encode())
            source = inspect.getsourcefile(type(tasks.get(name)))
            if source:
                sources.add(str(Path(source).resolve()))
        for source in sorted(sources):
            digest.update(Path(source).read_bytes())
    except (OSError, TypeError):
        return None
    root = Path(os.environ.get("MTSFT_CACHE", Path.home() / ".cache" / "mtsft"))
    return root / f"crosstalk-judge-{digest.hexdigest()[:16]}.pkl"


def default_judge() -> CrosstalkJudge:
    """The judge trained on registry pairs (training templates, seed 0), built once per process and kept
    in ~/.cache/mtsft (MTSFT_CACHE) until the judge or a task module changes."""
    global _DEFAULT
    if _DEFAULT is not None and not set(_task_names()) - set(_DEFAULT.names):
        return _DEFAULT
    path = _cache_file()
    if path is not None and path.exists():
        try:
            with open(path, "rb") as f:
                _DEFAULT = pickle.load(f)
            return _DEFAULT
        except Exception:  # a stale or partial cache file: retrain
            pass
    _DEFAULT = CrosstalkJudge(seed=TRAIN_SEED).fit(make_pairs(seed=TRAIN_SEED, per_task_lang=TRAIN_PER_TASK_LANG,
                                                              held_out=False))
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


def judge(prompt, output: str, intended: str | None = None, **kwargs) -> Verdict:
    """Which task `output` performs, read against `prompt` (a string or chat messages)."""
    return default_judge().judge(prompt, output, intended, **kwargs)


def judge_many(items, intended: list[str | None] | None = None, **kwargs) -> list[Verdict]:
    """`judge` for many (prompt, output) pairs at once (one feature pass, one model call)."""
    return default_judge().judge_many(items, intended, **kwargs)


__all__ = ["NO_TASK", "no_task_reason", "Verdict", "CrosstalkJudge", "LLMBackup", "judge", "judge_many", "default_judge", "make_pairs", "read_prompt",
           "material_of", "pair_features", "JUDGE_VERSION"]
