"""`mtsft serve`: an OpenAI-compatible HTTP API and a web chat page, on one batching engine.

Routes: POST /v1/chat/completions (JSON or server-sent events), GET /v1/models, GET /health, GET / (the
web page, plain HTML/CSS/JS shipped in the package), GET /api/info (what the page shows: tasks, tag mode,
the diagnosis report link), GET /report (the latest diagnosis report, when one exists).

Every error is a JSON body in OpenAI's shape, `{"error": {"message", "type", "param", "code"}}`, with a 4xx
for anything the client can fix: bad JSON, wrong types, empty or unknown-role messages, n != 1, max_tokens
over the cap, an oversize body (413), a missing or wrong key (401), a full queue (429).

Differences from OpenAI, on purpose: temperature defaults to 0 (greedy, the answers eval scores);
an extra `task` field forces a task tag (the page's task selector). With an API key every route but
/health needs `Authorization: Bearer KEY`; the page's static files carry no data and stay open, so a
browser can load the page and send the key it is given.

Hostile clients (SECURITY.md "Serving"):
- Without a key, the server answers only requests whose `Host` is this machine's loopback name or the
  address it is bound to (plus `allowed_hosts`), so a web page on another site that rebinds its DNS name to
  127.0.0.1 gets a 400; and a POST must be `Content-Type: application/json` (else 415), which a cross-site
  page can send only after a CORS preflight this server never grants. With a key, neither is needed: the
  browser of a cross-site page does not hold the key.
- Every request must arrive whole, headers and body, within `request_timeout` seconds of its first byte
  (or of the connection opening), else the connection is closed; an idle kept-alive connection is closed
  after `KEEP_ALIVE` seconds. The answer itself may stream for as long as it takes.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import time
import uuid
from pathlib import Path
from typing import Literal

import h11
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from uvicorn.protocols.http.h11_impl import H11Protocol

from mtsft.serve.engine import Engine, Job, QueueFull
from mtsft.serve.session import Loaded, prepare, task_names

STATIC = Path(__file__).parent / "static"
MAX_BODY = 1 << 20  # bytes
REQUEST_TIMEOUT = 10.0  # seconds for a whole request (headers and body) to arrive
KEEP_ALIVE = 5  # seconds an idle kept-alive connection stays open
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
WILDCARD_BINDS = ("", "0.0.0.0", "::")


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: Literal["text"]
    text: str


class Message(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "user", "assistant", "developer"]
    content: str | list[ContentPart]
    name: str | None = None

    def text(self) -> str:
        return self.content if isinstance(self.content, str) else "".join(p.text for p in self.content)


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")
    include_usage: bool = False


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    model: str | None = None
    messages: list[Message] = Field(min_length=1)
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    stop: str | list[str] | None = None
    n: int = 1
    stream: bool = False
    stream_options: StreamOptions | None = None
    seed: int | None = None
    task: str | None = None  # mtsft extension: force this task's tag

    @field_validator("n")
    @classmethod
    def _one(cls, v: int) -> int:
        if v != 1:
            raise ValueError("only n=1 is supported")
        return v

    @field_validator("stop")
    @classmethod
    def _stops(cls, v):
        stops = [v] if isinstance(v, str) else list(v or [])
        if len(stops) > 4:
            raise ValueError("at most 4 stop sequences")
        if any(s == "" for s in stops):
            raise ValueError("a stop sequence is empty")
        return stops


class APIError(Exception):
    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error", param: str | None = None,
                 code: str | None = None):
        super().__init__(message)
        self.status, self.message, self.type, self.param, self.code = status, message, type, param, code

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


def _validation_message(e: ValidationError) -> tuple[str, str | None]:
    first = e.errors()[0]
    loc = ".".join(str(x) for x in first.get("loc", ()) if not (isinstance(x, str) and x in (
        "str", "list[ContentPart]", "list[str]", "function-after[_stops(), union[str,list[str],none]]")))
    msg = first.get("msg", "invalid value").removeprefix("Value error, ")
    if first.get("type") == "missing":
        msg = "field required"
    more = f" (and {len(e.errors()) - 1} more problem(s))" if len(e.errors()) > 1 else ""
    return (f"{loc}: {msg}{more}" if loc else msg + more), (loc or None)


def find_report(run: Path | None) -> Path | None:
    """The newest diagnosis report.html beside a diagnosis.json under the run or its parent (a pipeline)."""
    if run is None:
        return None
    from mtsft.runfiles import diagnosis_folders

    found = []
    for root in {run.resolve(), run.resolve().parent}:
        for folder in diagnosis_folders(root):
            html = folder / "report.html"
            if html.exists():
                found.append(html)
        if len(found) > 50:
            break
    return max(found, key=lambda p: p.stat().st_mtime) if found else None


def local_hosts(bound: str = "127.0.0.1", extra: tuple[str, ...] | list[str] = ()) -> list[str]:
    """The Host names a keyless server answers: loopback, the address it is bound to (not a wildcard, which
    names no host) and `extra`; IPv6 literals in brackets, as they appear in a Host header."""
    names = list(LOOPBACK_NAMES)
    for name in (bound, *extra):
        if name in WILDCARD_BINDS:
            continue
        names.append(f"[{name}]" if ":" in name and not name.startswith("[") else name)
    return [n.lower() for n in dict.fromkeys(names)]


def read_api_key(path: str | Path) -> str:
    """The API key kept in a file (one line; surrounding whitespace ignored), so it never shows in `ps`."""
    key = Path(path).read_text(encoding="utf-8").strip()
    if not key:
        raise ValueError(f"{path}: the API key file is empty")
    if any(c.isspace() for c in key):
        raise ValueError(f"{path}: an API key is one line with no spaces")
    return key


def is_json(content_type: str | None) -> bool:
    return (content_type or "").partition(";")[0].strip().lower() == "application/json"


def create_app(loaded: Loaded, *, api_key: str | None = None, max_tokens_cap: int = 1024,
               default_max_tokens: int = 256, max_batch: int = 32, batch_wait: float = 0.05,
               max_pending: int = 128, max_body: int = MAX_BODY, report: Path | None = None, engine=None,
               allowed_hosts: list[str] | None = None, log=print):
    """The ASGI app. Without `api_key` it answers only `allowed_hosts` (default: `local_hosts()`)."""
    from contextlib import asynccontextmanager

    engine = engine or Engine(loaded.model, loaded.tokenizer, max_batch=max_batch, batch_wait=batch_wait,
                              max_wait=10 * batch_wait,
                              max_pending=max_pending, log=log)
    report = report or find_report(loaded.run)
    known_tasks = task_names()

    @asynccontextmanager
    async def lifespan(app):
        engine.start()
        yield
        engine.stop()

    app = FastAPI(title="mtsft", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.engine = engine

    def error(status: int, message: str, **kw) -> JSONResponse:
        return JSONResponse(APIError(status, message, **kw).body(), status_code=status)

    @app.exception_handler(APIError)
    async def _api_error(request, e: APIError):
        headers = {"WWW-Authenticate": "Bearer"} if e.status == 401 else None
        return JSONResponse(e.body(), status_code=e.status, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request, e):
        code = {404: "not_found", 405: "method_not_allowed"}.get(e.status_code)
        return error(e.status_code, f"{request.method} {request.url.path}: {e.detail}", code=code)

    @app.exception_handler(RequestValidationError)
    async def _request_error(request, e):
        return error(400, str(e.errors()[0].get("msg")) if e.errors() else "invalid request")

    @app.exception_handler(Exception)
    async def _bug(request, e):  # never a bare 500 page; the log keeps the cause
        log(f"internal error on {request.url.path}: {e!r}")
        return error(500, f"internal error: {type(e).__name__}", type="server_error")

    open_paths = {"/health", "/", "/favicon.ico"}

    @app.middleware("http")
    async def _auth(request: Request, call_next):
        path = request.url.path
        if api_key and path not in open_paths and not path.startswith("/static/"):
            given = request.headers.get("authorization", "")
            scheme, _, token = given.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), api_key.encode()):
                what = "missing API key: send `Authorization: Bearer KEY`" if not given else "invalid API key"
                return JSONResponse(APIError(401, what, code="invalid_api_key").body(), status_code=401,
                                    headers={"WWW-Authenticate": "Bearer"})
        if not api_key and request.method == "POST" and not is_json(request.headers.get("content-type")):
            # a cross-site page may POST text/plain or a form with no CORS preflight; JSON needs one
            return error(415, f"POST {path}: the body must be sent as `Content-Type: application/json`",
                         code="unsupported_media_type")
        return await call_next(request)

    if not api_key:  # answers only to this machine's names: a DNS-rebinding page gets a 400
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts or local_hosts(),
                           www_redirect=False)

    @app.get("/health")
    async def health():
        return {"status": "ok", "model": loaded.name, "pending": engine.pending, **engine.stats}

    @app.get("/v1/models")
    async def models():
        return {"object": "list", "data": [{"id": loaded.name, "object": "model", "created": int(time.time()),
                                            "owned_by": "mtsft"}]}

    @app.get("/api/info")
    async def info():
        return {"model": loaded.name, "tag_mode": loaded.tag_mode, "tasks": known_tasks,
                "max_tokens_cap": max_tokens_cap, "default_max_tokens": default_max_tokens,
                "auth_required": bool(api_key), "report": "/report" if report else None}

    @app.get("/report")
    async def diagnosis_report():
        if report is None or not Path(report).exists():
            raise APIError(404, "no diagnosis report for this model (run `mtsft diagnose` on the run)",
                           code="not_found")
        return FileResponse(report, media_type="text/html")

    @app.get("/")
    async def index():
        return HTMLResponse((STATIC / "index.html").read_text(encoding="utf-8"))

    @app.get("/static/{name}")
    async def static(name: str):
        path = STATIC / name
        if "/" in name or name.startswith(".") or not path.is_file():
            raise APIError(404, f"no static file {name!r}", code="not_found")
        return FileResponse(path)

    async def read_body(request: Request) -> bytes:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > max_body:
            raise APIError(413, f"request body is {int(length)} bytes; the limit is {max_body}",
                           code="request_too_large")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_body:
                raise APIError(413, f"request body is over the limit of {max_body} bytes", code="request_too_large")
            chunks.append(chunk)
        return b"".join(chunks)

    def parse(body: bytes) -> ChatRequest:
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError) as e:
            raise APIError(400, f"the body is not valid JSON: {e}") from None
        if not isinstance(data, dict):
            raise APIError(400, "the body must be a JSON object")
        try:  # strict: "5" is not a number, 1 is not a boolean (JSON mode still reads 1 as 1.0)
            req = ChatRequest.model_validate_json(body, strict=True)
        except ValidationError as e:
            msg, param = _validation_message(e)
            raise APIError(400, msg, param=param) from None
        for i, m in enumerate(req.messages):
            if m.role == "user" and not m.text().strip():
                raise APIError(400, f"messages.{i}.content: a user message is empty", param=f"messages.{i}.content")
        if not any(m.role == "user" for m in req.messages):
            raise APIError(400, "messages: at least one user message is needed", param="messages")
        cap = req.max_completion_tokens or req.max_tokens
        if cap is not None and cap > max_tokens_cap:
            raise APIError(400, f"max_tokens: {cap} is over this server's cap of {max_tokens_cap}",
                           param="max_tokens", code="max_tokens_exceeded")
        if req.task is not None and req.task not in known_tasks:
            raise APIError(400, f"task: unknown task {req.task!r}; known: {', '.join(known_tasks)}", param="task")
        return req

    async def make_job(req: ChatRequest) -> Job:
        messages = [{"role": "system" if m.role == "developer" else m.role, "content": m.text()} for m in req.messages]
        prompt, ids = await asyncio.to_thread(prepare, loaded, messages, req.task)  # never on the event loop
        n_prompt = len(ids)
        room = loaded.context_length - n_prompt
        if room < 1:
            raise APIError(400, f"the conversation is {n_prompt} tokens; this model's context is "
                                f"{loaded.context_length}", param="messages", code="context_length_exceeded")
        wanted = req.max_completion_tokens or req.max_tokens or default_max_tokens
        job = Job(prompt, min(wanted, room), req.temperature, req.top_p, tuple(req.stop or ()),
                  loop=asyncio.get_running_loop(), events=asyncio.Queue(), prompt_ids=ids)
        try:
            return engine.submit(job)
        except QueueFull as e:
            raise APIError(429, str(e), type="rate_limit_error", code="queue_full") from None

    def usage(r) -> dict:
        return {"prompt_tokens": r.prompt_tokens, "completion_tokens": r.completion_tokens,
                "total_tokens": r.prompt_tokens + r.completion_tokens}

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request):
        req = parse(await read_body(request))
        job = await make_job(req)
        cid, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())

        def chunk(delta: dict, finish: str | None = None, **extra) -> str:
            body = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": loaded.name,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
            return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

        if req.stream:
            include_usage = bool(req.stream_options and req.stream_options.include_usage)

            async def events():
                finished = False
                try:
                    yield chunk({"role": "assistant", "content": ""})
                    while True:
                        kind, value = await job.events.get()
                        if kind == "text":
                            yield chunk({"content": value})
                        elif kind == "done":
                            yield chunk({}, value.finish_reason if value.finish_reason != "cancelled" else "stop")
                            if include_usage:
                                body = {"id": cid, "object": "chat.completion.chunk", "created": created,
                                        "model": loaded.name, "choices": [], "usage": usage(value)}
                                yield f"data: {json.dumps(body)}\n\n"
                            break
                        else:
                            yield f"data: {json.dumps(APIError(500, value, type='server_error').body())}\n\n"
                            break
                    finished = True
                    yield "data: [DONE]\n\n"
                finally:
                    if not finished:
                        engine.cancel(job)  # the client went away: free its slot, stop its row

            return StreamingResponse(events(), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

        while True:
            try:
                kind, value = await asyncio.wait_for(job.events.get(), timeout=0.5)
            except (asyncio.TimeoutError, TimeoutError):
                if await request.is_disconnected():
                    engine.cancel(job)
                    return JSONResponse({}, status_code=499)
                continue
            if kind == "done":
                break
            if kind == "error":
                raise APIError(500, value, type="server_error")
        return {"id": cid, "object": "chat.completion", "created": created, "model": loaded.name,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": value.text},
                             "finish_reason": value.finish_reason, "logprobs": None}],
                "usage": usage(value)}

    return app


class DeadlineH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request to arrive whole, headers and body.

    uvicorn has no such timeout (encode/uvicorn#157): its keep-alive timer covers only the idle time after
    an answer and is reset by every byte, and an ASGI middleware runs only once the headers are in. So a
    client that sends half a request, or one byte every few seconds, would hold its connection (and a
    handler waiting on the body) forever. Here the clock starts when the connection opens or a request's
    first byte arrives, is not reset by later bytes, and stops once h11 has the whole request.
    """

    request_timeout = REQUEST_TIMEOUT
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._arm()  # a connection that never sends a byte is dropped too

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state in (h11.IDLE, h11.SEND_BODY):  # a request (or its body) is half in
            self._arm()
        else:
            self._disarm()

    def connection_lost(self, exc) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(self.request_timeout, self._expire)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.logger.info("closed a connection whose request did not arrive within %ss", self.request_timeout)
            self.transport.close()


def server_config(app, *, host: str = "127.0.0.1", port: int = 8000, request_timeout: float = REQUEST_TIMEOUT,
                  **kw):
    """uvicorn's config for `app`: its h11 protocol with the request deadline, the keep-alive timeout."""
    import uvicorn

    protocol = type("DeadlineH11Protocol", (DeadlineH11Protocol,), {"request_timeout": request_timeout})
    return uvicorn.Config(app, host=host, port=port, http=protocol, timeout_keep_alive=KEEP_ALIVE,
                          **{"log_level": "warning", **kw})


def serve(loaded: Loaded, *, host: str = "127.0.0.1", port: int = 8000, allowed_hosts: tuple[str, ...] = (),
          log=print, **kw) -> None:
    import uvicorn

    app = create_app(loaded, log=log, allowed_hosts=local_hosts(host, allowed_hosts), **kw)
    log(f"serving {loaded.name} on http://{host}:{port}  (web chat at /, API at /v1/chat/completions)")
    uvicorn.Server(server_config(app, host=host, port=port, timeout_graceful_shutdown=5)).run()
