"""Batched greedy generation for eval: one running batch that rows leave when they finish and new prompts
join, KV cache, left padding; answers come back in input order.

Batching is what makes generation fast on a CPU: one decoding step reads all the weights once, so a batch
of 32 costs little more than one row (measured: batch 8 gives about 6x and batch 32 about 11x the tokens/s
of batch 1 for the 135M model). What wastes a batch is rows doing nothing: `transformers`' `generate` keeps
a finished row in the batch until the longest answer of its batch ends, and it cannot take a new prompt in
its place, so one long answer holds 31 finished rows. Here greedy decoding is a short loop over the model's
forward (argmax, no sampling) that keeps the batch full: finished rows leave the cache (index_select), the
waiting prompts, sorted by length, are prefilled a chunk at a time and join it, and cache columns that only
hold padding are cut. The prompts' shared start (the chat template's system turn, a third of the built-in
suite's prompt tokens) is prefilled once; prefill is about half of eval's compute. The cache grows in place
(DynamicLayer concatenates the whole cache each step). Each row may carry its own token cap, so eval runs
every task in one stream. The model's dtype is kept (fp32 by default): bf16 changes greedy answers, and
its matmul speed depends on the CPU (`bench/bench_generate.py` times both).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from tqdm.auto import tqdm

from mtsft.tags import apply_task_tag

# Prompt tokens (rows x padded length) one prefill forward may take: bounds its activations (a chunk of 16
# rows of 256 tokens); the running batch stays at most `batch_size` rows.
PREFILL_TOKENS = 4096
# Bytes the running batch's KV cache may reach (rows x (longest prompt + its answer cap) x the model's bytes a
# token): rows join only while it fits. Every row's cache is padded to the longest row's width, and joining
# copies it, so 64 rows of ~1,000-token real prompts held ~5 GB in the demo's eval (summed PSS 6.2 GB); short
# prompts still decode 64 together.
KV_BYTES = 512 * 2**20


def kv_bytes_per_token(model) -> int:
    """Bytes one token's keys and values take across the model's layers, in its weights' dtype."""
    cfg = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
    heads = getattr(cfg, "num_key_value_heads", None) or cfg.num_attention_heads
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    return 2 * cfg.num_hidden_layers * heads * head_dim * next(model.parameters()).element_size()


def rows_within(budget_bytes: int, per_token: int, width: int) -> int:
    """How many rows of `width` tokens (prompt and answer) fit the KV budget; at least one."""
    return max(1, budget_bytes // max(1, per_token * width))


def render_prompts(tokenizer, conversations: Sequence[list[dict]], tasks: Sequence[str | None] | None = None,
                   tag_mode: str = "none", langs: Sequence[str | None] | None = None) -> list[str]:
    """Chat-template text ending with the assistant generation prompt, task-tagged like training."""
    out = []
    for i, messages in enumerate(conversations):
        if tasks is not None:
            messages = apply_task_tag(messages, tasks[i], tag_mode, langs[i] if langs else None)
        out.append(tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True))
    return out


def eos_token_ids(tokenizer) -> set[int]:
    eos = tokenizer.eos_token_id
    return set(eos if isinstance(eos, list) else [eos])


def _growing_layer_class():
    from transformers.cache_utils import DynamicLayer

    class GrowingLayer(DynamicLayer):
        """A cache layer whose keys and values are views into buffers with spare columns: a decoding step
        writes its new column in place, where DynamicLayer's torch.cat copies the whole cache every step
        (a fifth of a decoding step at batch 16, profiled). `put` replaces the contents (rows left or
        joined, padding cut)."""

        SPARE = 64

        def put(self, keys: torch.Tensor, values: torch.Tensor) -> None:
            shape = (*keys.shape[:-2], keys.shape[-2] + self.SPARE, keys.shape[-1])
            self._k, self._v = keys.new_empty(shape), values.new_empty(shape)
            self._k[..., :keys.shape[-2], :], self._v[..., :keys.shape[-2], :] = keys, values
            self.keys, self.values = self._k[..., :keys.shape[-2], :], self._v[..., :keys.shape[-2], :]
            self.device, self.is_initialized = keys.device, True

        def stack(self, keys: torch.Tensor, values: torch.Tensor, width: int) -> None:
            """Append rows below the current ones, both right-aligned at `width` columns (zeros on the left):
            one new buffer, where padding both and concatenating made three copies of the cache."""
            rows, mine = self.keys.shape[0], self.keys.shape[-2]
            shape = (rows + keys.shape[0], *keys.shape[1:-2], width + self.SPARE, keys.shape[-1])
            k, v = keys.new_zeros(shape), values.new_zeros(shape)
            k[:rows, ..., width - mine:width, :], v[:rows, ..., width - mine:width, :] = self.keys, self.values
            k[rows:, ..., width - keys.shape[-2]:width, :] = keys
            v[rows:, ..., width - keys.shape[-2]:width, :] = values
            self._k, self._v = k, v
            self.keys, self.values = k[..., :width, :], v[..., :width, :]

        def update(self, key_states, value_states, *args, **kwargs):
            if not self.is_initialized:
                self.put(key_states, value_states)
                return self.keys, self.values
            n, new = self.keys.shape[-2], key_states.shape[-2]
            if n + new > self._k.shape[-2]:
                self.put(self.keys, self.values)
            self._k[..., n:n + new, :], self._v[..., n:n + new, :] = key_states, value_states
            self.keys, self.values = self._k[..., :n + new, :], self._v[..., :n + new, :]
            return self.keys, self.values

    return GrowingLayer


class _Batch:
    """The running batch: its KV cache, 2D attention mask (left padding), and per row the prompt index, the
    position and the token to feed next, and the tokens generated so far."""

    def __init__(self, model, prefix: list[int]):
        from transformers import DynamicCache

        self.model, self.device, self.prefix = model, model.device, prefix
        self.prefix_kv: list[tuple[torch.Tensor, torch.Tensor]] = []
        if prefix:  # the prompts' shared start (the chat template's system turn): prefilled once, for all rows
            cache = DynamicCache(config=model.config)
            self._forward(torch.tensor([prefix], device=self.device), None, None, cache)
            self.prefix_kv = [(layer.keys, layer.values) for layer in cache.layers]
        self.cache = DynamicCache(config=model.config)
        self.cache.layers = [_growing_layer_class()() for _ in self.cache.layers]
        self.mask = torch.zeros(0, 0, dtype=torch.long, device=self.device)
        self.position = self.last = torch.zeros(0, dtype=torch.long, device=self.device)
        self.rows: list[int] = []
        self.tokens: list[list[int] | None] = []  # None: finished

    def __len__(self) -> int:
        return len(self.rows)

    def _forward(self, ids, mask, position, cache):
        logits = self.model(input_ids=ids, attention_mask=mask, position_ids=position, cache=cache,
                            use_cache=True, logits_to_keep=1).logits
        return logits[:, -1].argmax(dim=-1)

    def join(self, rows: list[int], encoded: list[list[int]], pad_id: int) -> None:
        """Prefill `rows` and append them to the running batch. The shared prefix comes from its cache, so
        only each prompt's own part runs, padded between prefix and rest (masked, so attention is the
        same): [prefix | pads | rest]."""
        from transformers import DynamicCache

        n, rest = len(self.prefix), [e[len(self.prefix):] for e in encoded]
        width = max(len(e) for e in rest)
        ids = torch.tensor([[pad_id] * (width - len(e)) + e for e in rest], device=self.device)
        mask = torch.tensor([[1] * n + [0] * (width - len(e)) + [1] * len(e) for e in rest], device=self.device)
        position = (mask.cumsum(-1) - 1).clamp(min=0)  # what `generate` passes: 0, 1, 2... over the tokens
        cache = DynamicCache(config=self.model.config)
        for layer, (keys, values) in zip(cache.layers, self.prefix_kv):
            layer.update(keys.expand(len(rows), -1, -1, -1), values.expand(len(rows), -1, -1, -1))
        first = self._forward(ids, mask, position[:, n:], cache)
        if not self.rows:
            for mine, theirs in zip(self.cache.layers, cache.layers):
                mine.put(theirs.keys, theirs.values)
            self.mask = mask
        else:  # stack the rows, the shorter of the two caches left-padded so their columns line up
            width = max(self.mask.shape[1], mask.shape[1])
            for mine, theirs in zip(self.cache.layers, cache.layers):
                mine.stack(theirs.keys, theirs.values, width)
            self.mask = torch.cat([_left_pad(self.mask, width), _left_pad(mask, width)])
        self.position = torch.cat([self.position, position[:, -1] + 1])
        self.last = torch.cat([self.last, first])
        self.rows += rows
        self.tokens += [[] for _ in rows]

    def keep(self, alive: list[int]) -> None:
        """Keep only the rows at `alive`, without the leading columns that are padding in every one of them."""
        index = torch.tensor(alive, dtype=torch.long, device=self.device)
        self.mask, self.position, self.last = self.mask[index], self.position[index], self.last[index]
        self.rows = [self.rows[i] for i in alive]
        self.tokens = [self.tokens[i] for i in alive]
        cut = int(self.mask.any(dim=0).int().argmax()) if alive else 0  # first column some row attends to
        self.mask = self.mask[:, cut:]
        for layer in self.cache.layers:
            layer.put(layer.keys[index, :, cut:], layer.values[index, :, cut:])

    def step(self) -> None:
        """One decoding step for every row: feed each row's last token, take the argmax as the next."""
        self.mask = torch.cat([self.mask, torch.ones(len(self), 1, dtype=torch.long, device=self.device)], dim=1)
        self.last = self._forward(self.last[:, None], self.mask, self.position[:, None], self.cache)
        self.position = self.position + 1


def _left_pad(t: torch.Tensor, width: int) -> torch.Tensor:
    """Zeros on the left of dimension -2 (cache: batch, heads, time, dim) or -1 (mask: batch, time)."""
    dim = -1 if t.dim() == 2 else -2
    missing = width - t.shape[dim]
    if missing == 0:
        return t
    shape = list(t.shape)
    shape[dim] = missing
    return torch.cat([t.new_zeros(shape), t], dim=dim)


@torch.inference_mode()
def generate(model, tokenizer, prompts: Sequence[str], *, max_new_tokens: int | Sequence[int] = 256,
             batch_size: int = 32, progress: bool = False) -> list[str]:
    """Greedy completions of already-rendered prompts (see `render_prompts`), the same tokens as
    transformers' `generate(do_sample=False)` one prompt at a time. `max_new_tokens` is one cap for all or
    one per prompt; `batch_size` is the most rows decoded together."""
    caps = [max_new_tokens] * len(prompts) if isinstance(max_new_tokens, int) else list(max_new_tokens)
    if not _plain_cache(model):
        return generate_with_transformers(model, tokenizer, prompts, max_new_tokens=caps, batch_size=batch_size,
                                          progress=progress)
    encoded = [tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
    waiting = sorted(range(len(prompts)), key=lambda i: len(encoded[i]))  # similar lengths pad little
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    eos = eos_token_ids(tokenizer)
    results: list[str] = [""] * len(prompts)
    model.eval()
    batch = _Batch(model, _shared_prefix(encoded))
    bar = tqdm(total=len(prompts), desc="generate", disable=not progress)
    per_token = kv_bytes_per_token(model)
    while waiting or len(batch):
        # waiting is sorted by length: its first prompt is the longest the batch would hold
        limit = min(batch_size, rows_within(KV_BYTES, per_token, len(encoded[waiting[0]]) + max(caps))) \
            if waiting else batch_size
        refill = max(1, limit // 4)  # prefill a chunk at a time: one forward per row would cost more
        free = limit - len(batch)
        if waiting and free > 0 and (free >= refill or not len(batch) or len(waiting) <= free):
            fits = lambda rows, width: rows * (width + max(caps)) * per_token <= KV_BYTES  # noqa: E731
            chunk = _prefill_chunk(waiting, encoded, free, lambda n, width: fits(len(batch) + n, width))
            waiting = waiting[len(chunk):]
            batch.join(chunk, [encoded[i] for i in chunk], pad_id)
        for r, (row, token) in enumerate(zip(batch.rows, batch.last.tolist())):
            tokens = batch.tokens[r]
            if tokens is None:  # finished, not yet out of the batch
                continue
            tokens.append(token)  # EOS too, like `generate`: decoding drops it as a special token
            if token in eos or len(tokens) >= caps[row]:
                results[row] = tokenizer.decode(tokens, skip_special_tokens=True).strip()
                batch.tokens[r] = None
                bar.update(1)
        alive = [r for r, tokens in enumerate(batch.tokens) if tokens is not None]
        # Leaving copies the whole cache, while a finished row costs only its share of a step: finished rows
        # leave together, once they are a quarter of the batch (room for a refill) or all of it.
        if len(alive) < len(batch) and 4 * (len(batch) - len(alive)) >= len(batch):
            batch.keep(alive)
        if len(batch):
            batch.step()
    bar.close()
    return results


def _shared_prefix(encoded: list[list[int]], least: int = 8) -> list[int]:
    """The token prefix every prompt starts with (the chat template's system turn: about a third of the
    built-in suite's prompt tokens), leaving each prompt at least one token of its own; [] when short."""
    if not encoded:
        return []
    n, first = 0, encoded[0]
    while n < min(len(e) for e in encoded) - 1 and all(e[n] == first[n] for e in encoded):
        n += 1
    return first[:n] if n >= least else []


def _plain_cache(model) -> bool:
    """Whether every cache layer is a plain growing one: sliding-window or recurrent layers keep state this
    loop does not pad, select or cut, so those models go through `generate_with_transformers`."""
    from transformers import DynamicCache
    from transformers.cache_utils import DynamicLayer

    return all(type(layer) is DynamicLayer for layer in DynamicCache(config=model.config).layers)


@torch.inference_mode()
def generate_with_transformers(model, tokenizer, prompts: Sequence[str], *, max_new_tokens: int | Sequence[int],
                               batch_size: int = 16, progress: bool = False) -> list[str]:
    """The same greedy answers through transformers' `generate`, a fixed batch at a time (prompts sorted by
    length, rows sharing a cap batched together): for models `generate` handles and this loop does not, and
    the baseline `bench/bench_generate.py` measures against (batch 1)."""
    caps = [max_new_tokens] * len(prompts) if isinstance(max_new_tokens, int) else list(max_new_tokens)
    tokenizer.padding_side = "left"  # generation appends on the right, so pads must sit on the left
    order = sorted(range(len(prompts)), key=lambda i: (caps[i], len(prompts[i])))
    batches = [order[s:s + batch_size] for s in range(0, len(order), batch_size)]
    batches = [[i for i in b if caps[i] == cap] for b in batches for cap in sorted({caps[i] for i in b})]
    results: list[str] = [""] * len(prompts)
    model.eval()
    for idx in tqdm(batches, desc="generate", disable=not progress):
        enc = tokenizer([prompts[i] for i in idx], return_tensors="pt", padding=True, add_special_tokens=False)
        enc = {k: v.to(model.device) for k, v in enc.items()}
        out = model.generate(**enc, max_new_tokens=caps[idx[0]], do_sample=False, use_cache=True,
                             pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
        for i, row in zip(idx, out[:, enc["input_ids"].shape[1]:]):
            results[i] = tokenizer.decode(row, skip_special_tokens=True).strip()
    return results


def _prefill_chunk(waiting: list[int], encoded: list[list[int]], free: int, fits) -> list[int]:
    """The next waiting prompts for one prefill: at most `free` rows and PREFILL_TOKENS padded tokens, and
    only while `fits(rows, width)` says the running batch's KV cache stays within its budget."""
    chunk: list[int] = []
    for i in waiting[:free]:
        width = len(encoded[i])   # sorted: this one is the longest yet
        if chunk and ((len(chunk) + 1) * width > PREFILL_TOKENS or not fits(len(chunk) + 1, width)):
            break
        chunk.append(i)
    return chunk


# ---- streaming: one batched generate call, each row with its own sampling, stop strings and cap ----------
#
# The server batches concurrent requests into one `model.generate` call; chat streams one conversation.
# Both go through `generate_stream_batch`. transformers' `TextIteratorStreamer` handles one row only, so the
# per-step hook here is a `StoppingCriteria` (it sees every row's new token each step and may stop any row
# on its own): it decodes each row's text so far, hands the new piece to the row's callback, and stops the
# row on EOS, on a stop string, at the row's token cap, or when its client has gone. Sampling settings
# differ per row through one logits processor; with every row greedy it is plain greedy decoding, the same
# tokens `generate` produces.

import queue as _queue  # noqa: E402
import threading  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402


@dataclass
class StreamRequest:
    """One row of a streamed batch. temperature 0 is greedy; `on_text` gets each new piece of the answer."""

    prompt: str
    max_new_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    stop: Sequence[str] = ()
    on_text: Callable[[str], None] | None = None
    cancelled: Callable[[], bool] | None = None


@dataclass
class StreamResult:
    text: str
    finish_reason: str  # "stop" (EOS or a stop string), "length" (the token cap) or "cancelled"
    prompt_tokens: int
    completion_tokens: int
    pieces: int = 0  # how many pieces went to on_text


@dataclass
class _Row:
    request: StreamRequest
    prompt_tokens: int
    tokens: list[int] = field(default_factory=list)
    sent: int = 0  # characters of `text` already handed to on_text
    text: str = ""
    done: str | None = None
    pieces: int = 0
    generated: int = 0  # tokens produced for this row, EOS included


def _held_back(text: str, stops: Sequence[str]) -> int:
    """Characters at the end of `text` that could be the start of a stop string (not sent yet)."""
    hold = 0
    for s in stops:
        for k in range(min(len(s) - 1, len(text)), hold, -1):
            if text.endswith(s[:k]):
                hold = k
                break
    return hold


class _RowHook:
    """StoppingCriteria over the whole batch: decode, stream, and decide per row (see the note above)."""

    def __init__(self, tokenizer, rows: list[_Row], eos_ids: set[int]):
        self.tokenizer, self.rows, self.eos_ids = tokenizer, rows, eos_ids

    def _emit(self, row: _Row, upto: int) -> None:
        if upto > row.sent:
            piece = row.text[row.sent:upto]
            row.sent = upto
            row.pieces += 1
            if row.request.on_text is not None:
                row.request.on_text(piece)

    def _step(self, row: _Row, token: int) -> None:
        req = row.request
        if req.cancelled is not None and req.cancelled():
            row.done = "cancelled"
            return
        row.generated += 1
        if token in self.eos_ids:
            row.done = "stop"
        else:
            row.tokens.append(token)
            decoded = self.tokenizer.decode(row.tokens, skip_special_tokens=True).lstrip()
            if decoded.endswith("\ufffd") and row.done is None:
                return  # half a multi-byte character: wait for the rest
            row.text = decoded
            start = max(0, row.sent - max((len(s) for s in req.stop), default=0))
            cut = min((i for i in (row.text.find(s, start) for s in req.stop if s) if i >= 0), default=-1)
            if cut >= 0:
                row.text, row.done = row.text[:cut], "stop"
            elif len(row.tokens) >= req.max_new_tokens:
                row.done = "length"
        if row.done is None:
            self._emit(row, len(row.text) - _held_back(row.text, req.stop))
        else:
            row.text = row.text.rstrip() if row.done != "cancelled" else row.text
            self._emit(row, len(row.text))

    def __call__(self, input_ids, scores, **kwargs):
        last = input_ids[:, -1].tolist()
        for row, token in zip(self.rows, last):
            if row.done is None:
                self._step(row, token)
        return torch.tensor([row.done is not None for row in self.rows], device=input_ids.device)


class _RowSampling:
    """LogitsProcessor: greedy rows keep only their argmax; sampled rows get their temperature and top-p."""

    def __init__(self, temperatures: list[float], top_ps: list[float]):
        self.t = torch.tensor(temperatures, dtype=torch.float32)
        self.p = torch.tensor(top_ps, dtype=torch.float32)

    def __call__(self, input_ids, scores):
        scores = scores.float()
        greedy = self.t <= 0
        out = scores / self.t.clamp(min=1e-5).to(scores.device)[:, None]
        # top-p: drop the tail beyond cumulative probability p (the most likely token always stays)
        sorted_logits, sorted_idx = out.sort(dim=-1, descending=True)
        cum = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
        drop_sorted = (cum - sorted_logits.softmax(dim=-1)) >= self.p.to(scores.device)[:, None]
        drop = drop_sorted.scatter(1, sorted_idx, drop_sorted)
        out = out.masked_fill(drop, float("-inf"))
        if greedy.any():
            argmax = scores.argmax(dim=-1)
            only = torch.full_like(scores, float("-inf"))
            only.scatter_(1, argmax[:, None], 0.0)
            out = torch.where(greedy.to(scores.device)[:, None], only, out)
        return out


@torch.inference_mode()
def generate_stream_batch(model, tokenizer, requests: Sequence[StreamRequest]) -> list[StreamResult]:
    """Generate every request in ONE `model.generate` call, streaming each row's text to its `on_text`.

    Rows stop on their own (EOS, a stop string, their `max_new_tokens`, `cancelled()`); the call ends when
    the last row does. Greedy rows give the same text as `generate` for the same prompt."""
    from transformers import LogitsProcessorList, StoppingCriteriaList

    if not requests:
        return []
    tokenizer.padding_side = "left"
    enc = tokenizer([r.prompt for r in requests], return_tensors="pt", padding=True, add_special_tokens=False)
    rows = [_Row(r, int(n)) for r, n in zip(requests, enc["attention_mask"].sum(dim=1).tolist())]
    enc = {k: v.to(model.device) for k, v in enc.items()}
    eos = tokenizer.eos_token_id
    eos_ids = set(eos if isinstance(eos, list) else [eos])
    gen_eos = getattr(model.generation_config, "eos_token_id", None)
    eos_ids |= set(gen_eos if isinstance(gen_eos, list) else [gen_eos] if gen_eos is not None else [])
    hook = _RowHook(tokenizer, rows, eos_ids)
    if any(r.temperature > 0 for r in requests):
        extra = {"do_sample": True, "temperature": 1.0, "top_p": 1.0, "top_k": 0,
                 "logits_processor": LogitsProcessorList([_RowSampling([r.temperature for r in requests],
                                                                       [r.top_p for r in requests])])}
    else:
        extra = {"do_sample": False}
    model.eval()
    model.generate(**enc, max_new_tokens=max(r.max_new_tokens for r in requests), use_cache=True,
                   pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
                   stopping_criteria=StoppingCriteriaList([hook]), **extra)
    results = []
    for row in rows:
        if row.done is None:  # the batch ended at the longest cap before this row's hook saw a stop
            row.done = "length"
            row.text = row.text.rstrip()
            hook._emit(row, len(row.text))
        results.append(StreamResult(row.text.strip(), row.done, row.prompt_tokens, row.generated, row.pieces))
    return results


class TextStream:
    """Iterate the pieces of one streamed answer (generation runs in a thread, like TextIteratorStreamer);
    `result` holds the StreamResult once the iteration ends. Closing the iterator early stops generation."""

    def __init__(self, model, tokenizer, prompt: str, **kwargs):
        self._q: _queue.Queue = _queue.Queue()
        self._stop = threading.Event()
        self.result: StreamResult | None = None
        self.error: BaseException | None = None
        req = StreamRequest(prompt, on_text=self._q.put, cancelled=self._stop.is_set, **kwargs)

        def work():
            try:
                self.result = generate_stream_batch(model, tokenizer, [req])[0]
            except BaseException as e:  # handed to the reader
                self.error = e
            finally:
                self._q.put(None)

        self._thread = threading.Thread(target=work, daemon=True)
        self._thread.start()

    def __iter__(self) -> Iterator[str]:
        try:
            while (piece := self._q.get()) is not None:
                yield piece
        finally:
            self._stop.set()
            self._thread.join()
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


def stream_generate(model, tokenizer, prompt: str, **kwargs) -> TextStream:
    """One answer, piece by piece: `for piece in stream_generate(m, tok, prompt): print(piece, end="")`.
    kwargs: max_new_tokens, temperature, top_p, stop (see StreamRequest)."""
    return TextStream(model, tokenizer, prompt, **kwargs)
