"""The serving engine: continuous batching. A request joins the running batch at its next decoding step and
leaves it the step it finishes.

One worker thread owns the model (no threads racing on it) and loops: take the requests that have arrived,
prefill each (its own forward and KV cache) and merge its cache into the running batch's, left-padded to
the same length, hand every row's new token to its job (streamed text, stop strings, its token cap, its
client gone), drop the finished rows from the cache, and run one decoding step for the rows left. So a
request that arrives while others decode gets its first token after the step under way and its prefill,
not after the running batch ends; a row whose client went away is dropped at the next step and its place
is free at once. When the engine is idle, the first request waits while more arrive less than
`batch_wait` apart (at most `max_wait`), so a burst starts decoding together. At most `max_batch` rows
decode together; at most `max_pending` jobs wait or run, one more gets `QueueFull` (the API answers 429).
The prompts are rendered and tokenized by the API in a worker thread, never on its event loop.

The running batch is the eval generator's (`mtsft.eval.generate._Batch`: join, keep, step over one
`DynamicCache`; the chat template's start that prompts share is prefilled once, its cache reused), with the next token picked per row: argmax for greedy rows, each row's own temperature and
top-p for sampled ones; streaming and stopping per row are the streamed generator's (`_RowHook`). Why not
transformers' `ContinuousBatchingManager`: it is built around paged attention for GPUs (on a CPU it sizes its
paged cache from the machine's total RAM unless told a block count), has no stop strings, and would give
serving a second greedy path beside the one eval is scored with. Models whose cache is not plain (sliding
window, recurrent layers) are served a batch at a time through `generate_stream_batch`.
"""

from __future__ import annotations

import asyncio
import itertools
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass, field

import torch

from mtsft.eval.generate import (StreamRequest, StreamResult, _Batch, _plain_cache, _Row,
                                 _RowHook, _RowSampling, _shared_prefix, eos_token_ids, generate_stream_batch,
                                 render_prompts)


# Prompt tokens prefilled between two decoding steps (at least one prompt): when a burst arrives, the rows
# already running and the burst's first requests get their tokens out while the rest is still prefilled.
ROUND_PREFILL_TOKENS = 512


class QueueFull(RuntimeError):
    pass


@dataclass
class Job:
    prompt: str
    max_new_tokens: int
    temperature: float = 0.0
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    loop: asyncio.AbstractEventLoop | None = None
    events: asyncio.Queue | None = None   # ("text", piece) ... then ("done", StreamResult) or ("error", message)
    prompt_ids: list[int] | None = None   # the prompt's tokens when the caller has them (else the engine tokenizes)
    created: float = field(default_factory=time.monotonic)
    started: float | None = None
    _cancelled: threading.Event = field(default_factory=threading.Event)
    _released: bool = False

    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def _send(self, kind: str, value) -> None:
        if self.loop is not None and self.events is not None and not self.loop.is_closed():
            try:
                self.loop.call_soon_threadsafe(self.events.put_nowait, (kind, value))
            except RuntimeError:  # the loop closed meanwhile: nobody is listening
                pass

    def _request(self) -> StreamRequest:
        return StreamRequest(self.prompt, self.max_new_tokens, self.temperature, self.top_p, self.stop,
                             on_text=lambda piece: self._send("text", piece), cancelled=self.cancelled)


class _ServingBatch(_Batch):
    """The eval generator's running batch, with each row's next token picked by its own sampling settings.
    `prefix` is the chat template's start that most prompts share (its cache is computed once); a prompt
    that does not start with it is prefilled whole."""

    def __init__(self, model, sampling: dict[int, tuple[float, float]], prefix: list[int]):
        self.sampling = sampling   # row id -> (temperature, top_p), kept by the engine
        self._picking: list[int] = []  # the rows of the forward under way
        super().__init__(model, prefix)

    def join(self, rows: list[int], encoded: list[list[int]], pad_id: int) -> None:
        self._picking = rows
        n = len(self.prefix)
        if all(len(e) > n and e[:n] == self.prefix for e in encoded):
            return super().join(rows, encoded, pad_id)
        shared, self.prefix, self.prefix_kv = (self.prefix, self.prefix_kv), [], []
        try:
            super().join(rows, encoded, pad_id)
        finally:
            self.prefix, self.prefix_kv = shared

    def step(self) -> None:
        self._picking = list(self.rows)
        super().step()

    def _forward(self, ids, mask, position, cache):
        params = [self.sampling[r] for r in self._picking]
        if all(t <= 0 for t, _ in params):
            return super()._forward(ids, mask, position, cache)  # every row greedy: the eval path exactly
        logits = self.model(input_ids=ids, attention_mask=mask, position_ids=position, cache=cache,
                            use_cache=True, logits_to_keep=1).logits[:, -1]
        # greedy rows keep only their argmax (probability 1), sampled rows their tempered top-p
        allowed = _RowSampling([t for t, _ in params], [p for _, p in params])(ids, logits)
        return torch.multinomial(allowed.softmax(dim=-1), 1)[:, 0]


def template_prefix(tokenizer) -> list[int]:
    """The tokens every one-user-message prompt starts with (the chat template's system turn and the user
    turn's opening): what the running batch prefills once instead of once a request."""
    convs = [[{"role": "user", "content": text}] for text in ("a", "b")]
    return _shared_prefix([tokenizer(p, add_special_tokens=False)["input_ids"]
                           for p in render_prompts(tokenizer, convs)])


class Engine:
    def __init__(self, model, tokenizer, *, max_batch: int = 32, batch_wait: float = 0.05, max_wait: float = 0.5,
                 max_pending: int = 128, log=print):
        self.model, self.tokenizer = model, tokenizer
        self.max_batch, self.batch_wait, self.max_pending = max_batch, batch_wait, max_pending
        self.max_wait = max(max_wait, batch_wait)
        self.log = log
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._lock = threading.Lock()
        self._pending = 0
        self._thread: threading.Thread | None = None
        self._ids = itertools.count()
        self.running = 0  # rows decoding now
        # batches: rounds of requests joining the running batch; steps: decoding steps of that batch
        self.stats = {"batches": 0, "requests": 0, "largest_batch": 0, "cancelled": 0, "steps": 0}

    # ---- lifecycle ----
    def start(self) -> "Engine":
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="mtsft-engine", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=30)
            self._thread = None

    @property
    def pending(self) -> int:
        return self._pending

    # ---- the API side ----
    def submit(self, job: Job) -> Job:
        with self._lock:
            if self._pending >= self.max_pending:
                raise QueueFull(f"the server is busy ({self._pending} requests waiting or running); retry later")
            self._pending += 1
        self._queue.put(job)
        return job

    def cancel(self, job: Job) -> None:
        """The client went away: its row leaves the batch at the next step; its slot is free now."""
        job._cancelled.set()
        self._release(job)

    def _release(self, job: Job) -> None:
        with self._lock:
            if not job._released:
                job._released = True
                self._pending -= 1

    # ---- the worker ----
    def _gather(self, first: Job) -> tuple[list[Job], bool]:
        """`first` and the jobs that arrive less than `batch_wait` apart after it (a burst)."""
        batch, closing = [first], False
        start = time.monotonic()
        while len(batch) < self.max_batch:
            remaining = min(self.batch_wait, start + self.max_wait - time.monotonic())
            try:
                job = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if job is None:
                closing = True
                break
            batch.append(job)
        return batch, closing

    def _arrivals(self, waiting: deque[Job], idle: bool) -> bool:
        """Move the jobs that have arrived to `waiting`: idle, wait for the first and its burst; busy, take
        what is there without waiting. True once `stop()` was called."""
        if idle:
            first = self._queue.get()
            if first is None:
                return True
            burst, closing = self._gather(first)
            waiting.extend(burst)
            return closing
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                return False
            if job is None:
                return True
            waiting.append(job)

    def _run(self) -> None:
        if not _plain_cache(self.model):
            return self._run_whole_batches()
        self.model.eval()
        with torch.inference_mode():
            self._run_continuous()

    def _run_continuous(self) -> None:
        tokenizer = self.tokenizer
        pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        gen_eos = getattr(self.model.generation_config, "eos_token_id", None)
        eos = eos_token_ids(tokenizer) | set(gen_eos if isinstance(gen_eos, list) else [] if gen_eos is None else [gen_eos])
        hook = _RowHook(tokenizer, [], eos)  # its per-row step: decode, stream, stop
        sampling: dict[int, tuple[float, float]] = {}
        live: dict[int, tuple[Job, _Row]] = {}
        prefix = template_prefix(tokenizer)
        batch = _ServingBatch(self.model, sampling, prefix)
        waiting: deque[Job] = deque()
        while True:
            if self._arrivals(waiting, idle=not live and not waiting):
                return self._close(waiting, live)
            for job in [j for j in waiting if j.cancelled()]:  # gone before it started
                waiting.remove(job)
                self.stats["cancelled"] += 1
                self._release(job)
            try:
                if waiting and len(batch) < self.max_batch:
                    self._admit(batch, waiting, live, sampling, pad_id)
                self._hand_out(batch, live, hook, sampling)
                if len(batch):
                    batch.step()
                    self.stats["steps"] += 1
            except Exception as e:  # a failed forward fails the requests in it, not the server
                self.log(f"generation failed for {len(live)} request(s): {e!r}")
                for job, _ in live.values():
                    self._fail(job, f"generation failed: {e}")
                live.clear()
                sampling.clear()
                batch = _ServingBatch(self.model, sampling, prefix)
            self.running = len(batch)

    def _admit(self, batch: _ServingBatch, waiting: deque[Job], live: dict, sampling: dict, pad_id: int) -> None:
        """Prefill waiting jobs in arrival order and join them to the running batch, while rows are free and
        this round's prompt tokens stay under ROUND_PREFILL_TOKENS. Each prompt is prefilled alone: on a CPU a
        prompt's forward is already compute-bound, its time grows with the padded tokens, so prefilling
        prompts together saves nothing and pays for the shorter ones' padding (measured on the bench's
        prompts: 7 together, padded to 141 tokens, took 9x one 85-token prompt)."""
        budget, admitted = ROUND_PREFILL_TOKENS, 0
        while waiting and len(batch) < self.max_batch and budget > 0:
            job = waiting.popleft()
            if job.prompt_ids is None:
                job.prompt_ids = self.tokenizer(job.prompt, add_special_tokens=False)["input_ids"]
            budget -= len(job.prompt_ids)
            i = next(self._ids)
            sampling[i] = (job.temperature, job.top_p)
            try:
                batch.join([i], [job.prompt_ids], pad_id)
            except Exception as e:  # the running batch is untouched (the prefill has its own cache)
                self.log(f"prefill failed: {e!r}")
                sampling.pop(i)
                self._fail(job, f"generation failed: {e}")
                continue
            job.started = time.monotonic()
            live[i] = (job, _Row(job._request(), len(job.prompt_ids)))
            admitted += 1
        self.stats["batches"] += admitted > 0
        self.stats["requests"] += admitted
        self.stats["largest_batch"] = max(self.stats["largest_batch"], len(batch))

    def _hand_out(self, batch: _ServingBatch, live: dict, hook: _RowHook, sampling: dict) -> None:
        """Give every row its new token; the rows that finish leave the batch now."""
        alive = []
        for r, (i, token) in enumerate(zip(batch.rows, batch.last.tolist())):
            job, row = live[i]
            hook._step(row, token)
            if row.done is None:
                alive.append(r)
                continue
            del live[i], sampling[i]
            self.stats["cancelled"] += row.done == "cancelled"
            self._release(job)
            job._send("done", StreamResult(row.text.strip(), row.done, row.prompt_tokens, row.generated, row.pieces))
        if len(alive) < len(batch):
            batch.keep(alive)

    def _fail(self, job: Job, message: str) -> None:
        self._release(job)
        job._send("error", message)

    def _close(self, waiting: deque[Job], live: dict) -> None:
        for job in [*waiting, *(j for j, _ in live.values())]:
            self._fail(job, "the server is shutting down")
        self.running = 0

    # ---- models the running batch cannot hold: a batch at a time ----
    def _run_whole_batches(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch, closing = self._gather(first)
            live = [j for j in batch if not j.cancelled()]
            for j in batch:
                if j.cancelled():
                    self._release(j)
            if live:
                self._generate(live)
            if closing:
                return

    def _generate(self, jobs: list[Job]) -> None:
        now = time.monotonic()
        for j in jobs:
            j.started = now
        self.stats["batches"] += 1
        self.stats["requests"] += len(jobs)
        self.stats["largest_batch"] = max(self.stats["largest_batch"], len(jobs))
        self.running = len(jobs)
        try:
            results: list[StreamResult] = generate_stream_batch(self.model, self.tokenizer,
                                                                [j._request() for j in jobs])
        except Exception as e:  # a failed batch fails its requests, not the server
            self.log(f"generation failed for a batch of {len(jobs)}: {e!r}")
            for j in jobs:
                self._fail(j, f"generation failed: {e}")
            return
        finally:
            self.running = 0
        for j, r in zip(jobs, results):
            self.stats["cancelled"] += r.finish_reason == "cancelled"
            self._release(j)
            j._send("done", r)
