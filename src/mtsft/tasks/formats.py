"""Format checks and output-shape detectors shared by the built-in tasks.

Checks return named violations (stable strings the diagnose stage counts); detectors return a likeness in
[0, 1] that crosstalk detection compares across tasks. Language id is the CJK-ratio rule of `mtsft.text`:
for zh vs en it is enough, works offline and costs microseconds.
"""

from __future__ import annotations

import json
import re

from mtsft.tasks import lists
from mtsft.tasks.matchers import list_items, normalize_label, parse_json_object
from mtsft.text import cjk_ratio, parse_python

# The longest answer any verifier reads (characters). Scoring gives a longer one 0 with ANSWER_OVER_CAP as
# its violation, before any verifier parses it (a 1 MB answer's AST grew the evaluator by about 475 MB;
# 700 kB of unfenced text cost seconds of trial parses in `extract_code`), and no code is extracted from it.
MAX_ANSWER_CHARS = 64 * 1024
ANSWER_OVER_CAP = f"answer_over_{MAX_ANSWER_CHARS // 1024}k_char_cap"

_CODE_FENCE = re.compile(r"```[ \t]*([\w+-]*)[ \t]*\n(.*?)```", re.S)
_MARKDOWN = re.compile(r"^\s{0,3}#{1,6}\s|\*\*[^*\n]+\*\*|^\s*[-*]\s+\S|^\s*\|.*\|\s*$|```", re.M)
_CODE_LINE = re.compile(r"^\s*(?:def |class |return\b|import |from \w+ import|for .+:$|if .+:$|while .+:$|print\()", re.M)
_CODE_START = re.compile(r"(?:def |async def |class |import |from [\w.]+ import |@\w)")
_CHATTY = re.compile(r"\b(?:sure|certainly|here is|here's|hope this helps|let me know|of course|happy to help)\b"
                     r"|当然|好的|以下是|希望对你有帮助|如有问题|没问题", re.I)


# ---- pieces -----------------------------------------------------------------------------------------

def extract_code(output: str) -> tuple[str, str]:
    """(code, prose outside the code). Fenced blocks win; unfenced text counts as code if it parses as
    Python and has a code line (ast.parse only parses: nothing is run here). Nothing from an answer over
    MAX_ANSWER_CHARS."""
    if len(output) > MAX_ANSWER_CHARS:
        return "", output
    blocks = _CODE_FENCE.findall(output)
    if blocks:
        code = "\n".join(body for _, body in blocks)
        prose = _CODE_FENCE.sub(" ", output)
        return code, prose.strip()
    if _CODE_LINE.search(output) and _parses(output):
        return output, ""
    # unfenced code after an intro line (and maybe before a closing remark): from the first line that
    # starts a top-level definition or import, the longest run of lines that parses
    lines = output.splitlines()
    start = next((i for i, line in enumerate(lines) if _CODE_START.match(line)), None)
    if start is not None:
        for end in range(len(lines), max(start, len(lines) - 60), -1):
            code = "\n".join(lines[start:end])
            if _CODE_LINE.search(code) and _parses(code):
                prose = "\n".join(lines[:start] + lines[end:])
                return code + "\n", prose.strip()
    return "", output.strip()


def _parses(code: str) -> bool:
    try:
        parse_python(code)  # warnings such as "invalid escape sequence" silenced: still Python
    except (SyntaxError, ValueError):
        return False
    return True


def has_markdown(text: str) -> bool:
    return bool(_MARKDOWN.search(text))


def is_chatty(text: str) -> bool:
    return bool(_CHATTY.search(text))


# ---- checks (each returns a list of violation names) --------------------------------------------------

def check_not_empty(output: str) -> list[str]:
    return [] if output.strip() else ["empty_output"]


def check_answer_text(output: str, lang: str, *, plain: bool = True) -> list[str]:
    """The checks every text answer shares: ["empty_output"] alone for an empty answer, else the wrong
    language and (where plain text is asked) markdown."""
    if not output.strip():
        return ["empty_output"]
    return check_language(output, lang) + (check_plain_text(output) if plain else [])


def check_language(output: str, lang: str) -> list[str]:
    """The answer must be in `lang`; text with no letters at all is not judged. Chinese answers may hold
    English names and numbers, so zh only needs a Han majority."""
    if not re.search(r"[A-Za-z\u4e00-\u9fff]", output):
        return []
    ratio = cjk_ratio(output)
    ok = ratio >= 0.5 if lang == "zh" else ratio <= 0.15
    return [] if ok else ["wrong_language"]


def check_plain_text(output: str) -> list[str]:
    return ["markdown_in_plain_text"] if has_markdown(output) else []


def check_code(output: str) -> list[str]:
    code, prose = extract_code(output)
    if not code.strip():
        return ["missing_code"]
    problems = []
    if len(prose) > 0:
        problems.append("prose_around_code")
    if not _parses(code):
        problems.append("code_syntax_error")
    return problems


def check_json_object(output: str, required: list[str] | None = None) -> list[str]:
    text = output.strip()
    try:
        obj = json.loads(text)
    except ValueError:
        obj = parse_json_object(output)
        if obj is None:
            return ["invalid_json"]
        return ["prose_around_json"] + _missing_fields(obj, required)
    if not isinstance(obj, dict):
        return ["json_not_object"]
    return _missing_fields(obj, required)


def _missing_fields(obj: dict, required: list[str] | None) -> list[str]:
    return ["missing_fields"] if required and any(k not in obj for k in required) else []


def check_list(output: str, n: int | None, prompt: str = "") -> list[str]:
    """A list answer: its items (numbered, bulleted, "一、" or one per line), as many as asked (`n`, else
    the count the prompt asks for: "List five ...", "列出三个…"), none repeated."""
    items = lists.list_entries(output)
    if not items:
        return ["not_a_list"]
    problems = []
    wanted = (n, n) if n is not None else lists.requested_count(prompt)
    if wanted is not None and not lists.count_fits(len(items), wanted):
        problems.append("wrong_list_length")
    if len({normalize_label(i) for i in items}) < len(items):
        problems.append("repeated_items")
    return problems


def check_label(output: str, labels: list[str]) -> list[str]:
    norm = normalize_label(output)
    allowed = {normalize_label(label) for label in labels}
    if norm in allowed:
        return []
    if any(a and a in norm for a in allowed):
        return ["extra_text_around_label"]
    return ["not_a_label"]


# ---- likeness detectors (output alone, no prompt) -------------------------------------------------------

def code_likeness(output: str) -> float:
    code, prose = extract_code(output)
    if not code.strip():
        return 0.0
    share = len(code) / max(1, len(code) + len(prose))
    return 0.5 + 0.5 * share if _CODE_LINE.search(code) else 0.3 * share


def json_likeness(output: str) -> float:
    obj = parse_json_object(output)
    if obj is None:
        return 0.0
    return 1.0 if output.strip().startswith("{") else 0.6


def list_likeness(output: str) -> float:
    items = list_items(output)
    lines = [line for line in output.splitlines() if line.strip()]
    if len(items) < 2:
        return 0.0
    return min(1.0, 0.4 + 0.1 * len(items)) * len(items) / len(lines)


def n_sentences(text: str) -> int:
    return len([s for s in re.split(r"[.!?。！？]+", text) if s.strip()])
