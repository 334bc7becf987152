"""Serving under load: 32 chat requests arriving over about 8 s against `mtsft serve`, then the same 32 one
after another.

    .venv/bin/python bench/bench_serve.py                       # embedded 135M model, 32 requests, 64 tokens
    .venv/bin/python bench/bench_serve.py --model tiny --requests 16 --max-tokens 16   # a smoke run

Starts `mtsft serve` on 127.0.0.1 (a free port) as a separate process, as a user would, waits for /health,
then sends every request streaming (server-sent events) so time to first token is measured too. In the
concurrent phase request i is sent `i * arrive_over / requests` seconds after the first (a steady stream, as
users arrive, not one burst), so each joins a batch that is already decoding: continuous batching. The server
runs one torch thread by default (`--threads`): on a shared 2-core machine two threads were 4x slower. Greedy,
a fixed token count per request (`max_tokens`; prompts from the built-in suite and real general
instructions, zh and en) so both phases do the same work. Everything is bounded: a deadline per request and
per phase. Prints requests/s, p50/p95 latency and time to first token of both phases, the throughput
ratio and the failures against the targets (issue 29: median time to first token at most 2 s, at least 5x
the sequential requests/s, 0 failures); writes bench/results/serve.json (`--name`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from results import save_result  # noqa: E402


TARGET_TTFT_S = 2.0  # issue 29: median time to first token of the concurrent phase
TARGET_RATIO = 5.0   # issue 29: concurrent requests/s over sequential


def prompts(n: int) -> list[list[dict]]:
    from mtsft import tasks
    from mtsft.datasets import real_eval_records
    from mtsft.eval.evaluate import last_prompt
    from mtsft.tasks.synth import synth_records

    builtin = synth_records(len(tasks.names()) * 4, seed=5, clean=True, eval_split=True)[: n // 2]
    general = list(real_eval_records(["alpaca_en_demo", "alpaca_zh_demo"]))[: n - len(builtin)]
    return [last_prompt(r) for r in builtin + general][:n]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(model: str, port: int, max_batch: int, threads: int | None) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "mtsft", "serve", "--model", model, "--port", str(port), "--max-batch",
           str(max_batch), "--max-queue", "256", *(["--threads", str(threads)] if threads else [])]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


async def wait_healthy(client, url: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited: {proc.stderr.read()[-2000:]}")
        try:
            if (await client.get(f"{url}/health")).status_code == 200:
                return
        except Exception:
            pass
        await asyncio.sleep(0.5)
    raise TimeoutError("the server did not come up")


async def one(client, url: str, messages: list[dict], max_tokens: int, timeout: float) -> dict:
    body = {"messages": messages, "max_tokens": max_tokens, "temperature": 0, "stream": True,
            "stream_options": {"include_usage": True}}
    start = time.perf_counter()
    first, tokens, pieces = None, 0, 0
    try:
        async with asyncio.timeout(timeout):
            async with client.stream("POST", f"{url}/v1/chat/completions", json=body) as r:
                if r.status_code != 200:
                    return {"ok": False, "error": f"HTTP {r.status_code}: {(await r.aread())[:200]!r}"}
                done = False
                async for line in r.aiter_lines():
                    if not line.startswith("data: "):
                        continue
                    if line == "data: [DONE]":
                        done = True
                        break
                    event = json.loads(line[6:])
                    if event.get("usage"):
                        tokens = event["usage"]["completion_tokens"]
                    if event["choices"] and event["choices"][0]["delta"].get("content"):
                        pieces += 1
                        first = first or time.perf_counter()
                if not done:
                    return {"ok": False, "error": "stream ended without [DONE]"}
    except (TimeoutError, asyncio.TimeoutError):
        return {"ok": False, "error": f"no answer within {timeout}s"}
    except Exception as e:  # a failed request is counted, not fatal
        return {"ok": False, "error": repr(e)}
    end = time.perf_counter()
    return {"ok": True, "latency": end - start, "ttft": (first or end) - start, "tokens": tokens, "pieces": pieces}


async def arriving(delay: float, *args) -> dict:
    """One request sent `delay` seconds into the phase; its times count from when it was sent."""
    await asyncio.sleep(delay)
    return await one(*args)


def summary(rows: list[dict], seconds: float) -> dict:
    ok = [r for r in rows if r["ok"]]
    lat = sorted(r["latency"] for r in ok)
    ttft = sorted(r["ttft"] for r in ok)

    def pct(values, q):
        return round(values[min(len(values) - 1, int(q * len(values)))], 3) if values else None

    return {"requests": len(rows), "failed": len(rows) - len(ok), "seconds": round(seconds, 2),
            "requests_per_s": round(len(ok) / seconds, 3),
            "tokens_per_s": round(sum(r["tokens"] for r in ok) / seconds, 1),
            "latency_p50_s": pct(lat, 0.5), "latency_p95_s": pct(lat, 0.95),
            "ttft_p50_s": pct(ttft, 0.5), "ttft_p95_s": pct(ttft, 0.95),
            "mean_stream_chunks": round(statistics.mean(r["pieces"] for r in ok), 1) if ok else None,
            "errors": sorted({r["error"] for r in rows if not r["ok"]})[:5]}


async def main(args) -> dict:
    import httpx

    convs = prompts(args.requests)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start_server(args.model, port, args.max_batch, args.threads)
    try:
        limits = httpx.Limits(max_connections=args.requests + 4)
        async with httpx.AsyncClient(timeout=args.request_timeout, limits=limits) as client:
            await wait_healthy(client, url, proc, args.startup_timeout)
            await one(client, url, convs[0], 4, args.request_timeout)  # warm-up
            start = time.perf_counter()
            spacing = args.arrive_over / len(convs)
            concurrent = await asyncio.wait_for(
                asyncio.gather(*(arriving(i * spacing, client, url, c, args.max_tokens, args.request_timeout)
                                 for i, c in enumerate(convs))),
                args.phase_timeout)
            conc = summary(concurrent, time.perf_counter() - start)
            health = (await client.get(f"{url}/health")).json()
            print(f"concurrent: {conc}")
            start, sequential = time.perf_counter(), []
            for c in convs:
                if time.perf_counter() - start > args.phase_timeout:
                    sequential.append({"ok": False, "error": "phase deadline"})
                    continue
                sequential.append(await one(client, url, c, args.max_tokens, args.request_timeout))
            seq = summary(sequential, time.perf_counter() - start)
            print(f"sequential: {seq}")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    ratio = round(conc["requests_per_s"] / seq["requests_per_s"], 2) if seq["requests_per_s"] else None
    checks = {"ttft_p50": conc["ttft_p50_s"] is not None and conc["ttft_p50_s"] <= TARGET_TTFT_S,
              "throughput": bool(ratio and ratio >= TARGET_RATIO),
              "no_failures": conc["failed"] == 0 and seq["failed"] == 0}
    return {"model": args.model, "requests": args.requests, "arrive_over_s": args.arrive_over,
            "max_tokens": args.max_tokens, "max_batch": args.max_batch, "threads": args.threads or "torch default",
            "concurrent": conc, "sequential": seq, "throughput_ratio": ratio,
            "engine": {k: health.get(k) for k in ("batches", "requests", "largest_batch", "steps")},
            "target": f"concurrent median time to first token <= {TARGET_TTFT_S} s, >= {TARGET_RATIO}x the "
                      "sequential requests/s, 0 failures",
            "checks": checks, "met": all(checks.values())}


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="builtin")
    p.add_argument("--requests", type=int, default=32)
    p.add_argument("--max-tokens", type=int, default=64)
    p.add_argument("--max-batch", type=int, default=32)
    p.add_argument("--arrive-over", type=float, default=8.0,
                   help="seconds over which the concurrent requests are sent, evenly (0: all at once)")
    p.add_argument("--threads", type=int, default=1, help="server torch threads (0: torch's default)")
    p.add_argument("--request-timeout", type=float, default=600)
    p.add_argument("--phase-timeout", type=float, default=1200)
    p.add_argument("--startup-timeout", type=float, default=300)
    p.add_argument("--name", default="serve", help="results file name (bench/results/NAME.json)")
    args = p.parse_args()
    result = asyncio.run(main(args))
    print(f"throughput: concurrent {result['concurrent']['requests_per_s']} req/s vs sequential "
          f"{result['sequential']['requests_per_s']} req/s = {result['throughput_ratio']}x (target {TARGET_RATIO}x); "
          f"median time to first token {result['concurrent']['ttft_p50_s']} s concurrent, "
          f"{result['sequential']['ttft_p50_s']} s sequential (target {TARGET_TTFT_S} s); "
          f"failures {result['concurrent']['failed']} + {result['sequential']['failed']}; "
          f"target met: {result['met']} {result['checks']}")
    save_result(args.name, result)
