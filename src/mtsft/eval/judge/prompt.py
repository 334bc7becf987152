"""Reading a prompt: the request (its last user turn), the turns before it, and the material it quotes for
the task to work on (the sentence to translate, the passage, the text to label, the spec).

Read by shape, with no task named: the block under an instruction line, the longest quotation, what
follows a colon; a line that matches a registered task's instruction `signals` is the instruction's, not
the material's.
"""

from __future__ import annotations

import re

from mtsft import tasks
from mtsft.eval.judge.features import compiled_signals, units

_RULE = re.compile(r"^\s*(?:[-=*_~`]{3,}|#{1,6}\s*)\s*$")
_QUOTED = re.compile(r"“([^”]{2,})”|\"([^\"]{2,})\"|「([^」]{2,})」|‘([^’]{4,})’")
_COLON = re.compile(r"[:：]\s*")
_QUESTION_LINE = re.compile(r"(?i)^\s*(?:question|q|问题|请问)\s*[:：]|^[^\n]{0,200}[?？]\s*$")
_LABEL = re.compile(r"(?i)^\s*(?:passage|text|article|context|文章|短文|材料|原文|文本)\s*[:：]\s*")


def messages_of(prompt) -> list[dict]:
    """The turns a prompt is made of: a string is one user turn; a record or chat messages lose their
    system prompt and any final answer."""
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    if isinstance(prompt, dict) and "messages" in prompt:
        prompt = prompt["messages"]
    msgs = [m for m in prompt if m.get("role") != "system"]
    # A record with its final answer still attached: drop the answer, the judge wants the prompt.
    while msgs and msgs[-1].get("role") == "assistant":
        msgs = msgs[:-1]
    return msgs or [{"role": "user", "content": ""}]


def request_of(row: dict):
    """What the judge reads an eval row's output against: its conversation, except for one turn of a
    multi-turn eval (a row with `turn`: `mtsft.tasks.multiturn`), which is read against its own request
    alone. A conversation that switched task would otherwise lend the turn the earlier turns' material
    (a short request "works on" the previous answer, `read_prompt`), and a leak would read as the task."""
    if row.get("turn") is not None and row.get("prompt"):
        return [{"role": "user", "content": row["prompt"]}]
    return row.get("messages") or row.get("prompt") or ""


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


def _instruction_like(line: str) -> bool:
    text = line.strip()
    return text.endswith((":", "：")) or any(p.search(text) for name in tasks.names() for p in compiled_signals(name))


def read_prompt(prompt) -> tuple[str, str, str]:
    """(instruction: the last user turn, context: the turns before it, material: what it works on).
    A short follow-up with nothing quoted ("make it shorter") works on the previous assistant turn."""
    msgs = messages_of(prompt)
    instruction = msgs[-1].get("content") or ""
    context = "\n".join(m.get("content") or "" for m in msgs[:-1])
    material = material_of(instruction)
    if material == instruction.strip() and len(msgs) > 1:
        previous = [m for m in msgs[:-1] if m.get("role") == "assistant"]
        if previous and len(units(instruction)) < 16:
            material = previous[-1].get("content") or material
    return instruction, context, material

