"""The batching engine: concurrent requests are queued and generated together in ONE `generate` call.

One worker thread owns the model (no threads racing on it). It takes the first waiting request and keeps
gathering while more arrive less than `batch_wait` seconds apart (a burst), for at most `max_wait` seconds
and `max_batch` requests, and runs them as one batch through
`generate_stream_batch`; each row streams into its own job, stops on its own, and a job whose client went
away is cancelled (its row stops at the next token and its slot is free at once). At most `max_pending`
jobs wait or run; one more gets `QueueFull` (the API answers 429).
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from dataclasses import dataclass, field

from mtsft.eval.generate import StreamRequest, StreamResult, generate_stream_batch


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
        self.stats = {"batches": 0, "requests": 0, "largest_batch": 0, "cancelled": 0}

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
        """The client went away: stop its row and free its slot now."""
        job._cancelled.set()
        self._release(job)

    def _release(self, job: Job) -> None:
        with self._lock:
            if not job._released:
                job._released = True
                self._pending -= 1

    # ---- the worker ----
    def _gather(self, first: Job) -> tuple[list[Job], bool]:
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

    def _run(self) -> None:
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
        requests = [StreamRequest(j.prompt, j.max_new_tokens, j.temperature, j.top_p, j.stop,
                                  on_text=(lambda piece, j=j: j._send("text", piece)), cancelled=j.cancelled)
                    for j in jobs]
        self.stats["batches"] += 1
        self.stats["requests"] += len(jobs)
        self.stats["largest_batch"] = max(self.stats["largest_batch"], len(jobs))
        try:
            results: list[StreamResult] = generate_stream_batch(self.model, self.tokenizer, requests)
        except Exception as e:  # a failed batch fails its requests, not the server
            self.log(f"generation failed for a batch of {len(jobs)}: {e!r}")
            for j in jobs:
                j._send("error", f"generation failed: {e}")
                self._release(j)
            return
        for j, r in zip(jobs, results):
            self.stats["cancelled"] += r.finish_reason == "cancelled"
            self._release(j)
            j._send("done", r)
