"""Chat-template rendering with an assistant-only label mask that works for any template.

TRL's `assistant_only_loss` needs `{% generation %}` markers that most templates lack. Instead (as
axolotl does) we render the conversation up to each assistant turn and diff the renderings: the text
between "prompt of turn i with the generation prompt" and "conversation through turn i" is what the
assistant says, including the template's end-of-turn token. Character spans are then mapped to tokens
with the fast tokenizer's offsets, so BPE merges at span edges cannot shift the mask.
"""

from __future__ import annotations

from dataclasses import dataclass

IGNORE = -100


@dataclass
class Tokenized:
    input_ids: list[int]
    labels: list[int]           # IGNORE where no loss is taken

    @property
    def n_trained(self) -> int:
        return sum(1 for x in self.labels if x != IGNORE)


def _render(tokenizer, messages: list[dict], generation_prompt: bool = False) -> str:
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=generation_prompt)


def _end_of_turn(tokenizer, text: str, start: int, end: int) -> int:
    """Cut the span after the last end-of-turn token inside it (the newline the template writes
    after <|im_end|> is formatting, not something the model should learn to emit); else trim spaces."""
    eos = tokenizer.eos_token
    if eos:
        at = text.rfind(eos, start, end)
        if at >= 0:
            return at + len(eos)
    while end > start and text[end - 1].isspace():
        end -= 1
    return end


def assistant_spans(tokenizer, messages: list[dict]) -> tuple[str, list[tuple[int, int]]]:
    """The full rendered text and the (start, end) character span of every assistant turn."""
    full = _render(tokenizer, messages)
    spans = []
    cursor = 0
    for i, m in enumerate(messages):
        if m["role"] != "assistant":
            continue
        before = _render(tokenizer, messages[:i], generation_prompt=True)
        through = _render(tokenizer, messages[: i + 1])
        if full.startswith(before) and full.startswith(through) and len(through) > len(before):
            start, end = len(before), len(through)
        else:
            # Templates that render earlier turns differently once later ones exist (e.g. dropping
            # reasoning): fall back to finding the content itself after the previous span.
            start = full.find(m["content"], cursor)
            if start < 0:
                raise ValueError(f"cannot locate assistant turn {i} in the rendered chat template")
            eos_at = full.find(tokenizer.eos_token or "\0", start + len(m["content"]))
            end = eos_at + len(tokenizer.eos_token) if eos_at >= 0 else start + len(m["content"])
        end = _end_of_turn(tokenizer, full, start, end)
        spans.append((start, end))
        cursor = end
    return full, spans


def tokenize_conversation(tokenizer, messages: list[dict], max_length: int | None = None) -> Tokenized:
    """Token ids of the rendered conversation and labels that train only the assistant turns."""
    text, spans = assistant_spans(tokenizer, messages)
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids, offsets = enc["input_ids"], enc["offset_mapping"]
    labels = [IGNORE] * len(ids)
    span_iter = iter(spans)
    span = next(span_iter, None)
    for k, (s, e) in enumerate(offsets):
        while span is not None and s >= span[1]:
            span = next(span_iter, None)
        if span is None:
            break
        if span[0] <= s < span[1] and e > s:
            labels[k] = ids[k]
    if labels:
        labels[0] = IGNORE  # never trained, so a packed row never predicts across an example boundary
    if max_length is not None:
        ids, labels = ids[:max_length], labels[:max_length]
    return Tokenized(ids, labels)
