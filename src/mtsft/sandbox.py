"""Run untrusted Python (model-written code and its unit tests) in a separate, fenced-in process.

Never `exec` in the mtsft process: a generated `while True: pass` or `os.system("rm -rf ~")` must not be
able to hang or harm the run. The child process gets:
- its own empty temporary directory as cwd and HOME, a minimal environment, `python -I -S` (no site
  packages, no user paths);
- resource limits (address space, CPU seconds, file size, no core dumps) set with `resource.setrlimit`
  before exec, and a wall-clock timeout after which its whole process group is killed;
- an audit hook (PEP 578, cannot be removed once installed) that refuses process creation, sockets,
  native-library loading and any write, delete or rename outside its directory;
- where the kernel allows it (`unshare -rn`), an empty network namespace as a second wall.
The result says what happened: passed, failed, error, timeout, memory or refused (with the event).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

RESULT_MARK = "__MTSFT_SANDBOX_RESULT__"
STATUSES = ("passed", "failed", "error", "timeout", "memory", "refused")

# The child's side: installs the audit hook, runs the solution, then each test statement, and prints one
# result line. It is a string because it runs in the child process only.
_RUNNER = r'''
import json, os, sys
_out = sys.__stdout__
ROOT = os.path.realpath(os.getcwd())
class SandboxViolation(BaseException):
    """BaseException so that `except Exception` in the sandboxed code cannot swallow it."""
_BLOCKED = ("os.fork", "os.forkpty", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "subprocess.Popen",
            "os.kill", "os.killpg", "ctypes.dlopen", "ctypes.dlsym", "ctypes.call_function", "os.startfile",
            "pty.spawn", "webbrowser.open")
_PATH_EVENTS = ("os.remove", "os.rename", "os.mkdir", "os.rmdir", "os.chmod", "os.chown", "os.symlink",
                "os.link", "os.truncate", "shutil.rmtree", "shutil.move", "os.utime")
_WRITE = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
def _inside(path):
    if isinstance(path, int):
        return True
    full = os.path.realpath(os.path.join(ROOT, os.fsdecode(path)))
    return full == ROOT or full.startswith(ROOT + os.sep)
def _hook(event, args):
    if event in _BLOCKED or event.startswith("socket."):
        raise SandboxViolation(event)
    if event == "open":
        path, mode, flags = args
        writing = (flags or 0) & _WRITE or (mode and any(c in str(mode) for c in "wax+"))
        if writing and not _inside(path):
            raise SandboxViolation(f"write outside the sandbox: {path}")
    elif event in _PATH_EVENTS:
        for p in args[:2]:
            if isinstance(p, (str, bytes)) and not _inside(p):
                raise SandboxViolation(f"{event} outside the sandbox: {p}")
spec = json.load(open("spec.json"))
sys.addaudithook(_hook)
result = {"status": "passed", "passed": 0, "total": len(spec["tests"]), "detail": ""}
def _run(src, name, ns):
    exec(compile(src, name, "exec"), ns)
def _fail(status, detail):
    result["status"] = status
    result["detail"] = result["detail"] or detail[:300]
ns = {"__name__": "__sandbox__"}
try:
    _run(spec["code"], "solution.py", ns)
    for i, test in enumerate(spec["tests"]):
        try:
            _run(test, f"test_{i}", ns)
            result["passed"] += 1
        except AssertionError as e:
            _fail("failed", f"{test} -> AssertionError {e}")
        except (SandboxViolation, MemoryError, RecursionError):
            raise
        except Exception as e:
            _fail("failed", f"{test} -> {type(e).__name__}: {e}")
except SandboxViolation as e:
    _fail("refused", str(e)); result["status"] = "refused"
except MemoryError:
    _fail("memory", "MemoryError"); result["status"] = "memory"
except BaseException as e:
    _fail("error", f"{type(e).__name__}: {e}"); result["status"] = "error"
_out.write("\n%s %s\n" % ("__MTSFT_SANDBOX_RESULT__", json.dumps(result)))
_out.flush()
os._exit(0)
'''


@dataclass
class SandboxResult:
    status: str  # one of STATUSES
    passed: int = 0
    total: int = 0
    detail: str = ""
    seconds: float = 0.0
    stdout: str = field(default="", repr=False)

    @property
    def fraction(self) -> float:
        """Share of unit tests passed; 0 when the code did not even run to the end."""
        if self.status not in ("passed", "failed") or self.total == 0:
            return float(self.status == "passed")
        return self.passed / self.total


@lru_cache(maxsize=1)
def _network_isolation_prefix() -> tuple[str, ...]:
    """`unshare -rn` (new user + network namespace) when this kernel lets an unprivileged process use it."""
    exe = shutil.which("unshare")
    if not exe:
        return ()
    try:
        ok = subprocess.run([exe, "-rn", "true"], capture_output=True, timeout=5).returncode == 0
    except (OSError, subprocess.SubprocessError):
        ok = False
    return (exe, "-rn") if ok else ()


def _limits(memory_mb: int, cpu_seconds: int):
    def apply() -> None:  # runs in the child between fork and exec
        mem = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
        resource.setrlimit(resource.RLIMIT_FSIZE, (16 * 1024 * 1024, 16 * 1024 * 1024))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if os.getuid() != 0:  # root ignores NPROC; the audit hook refuses forks either way
            resource.setrlimit(resource.RLIMIT_NPROC, (64, 64))
    return apply


def run_tests(code: str, tests: list[str] | tuple[str, ...] = (), *, timeout: float = 5.0,
              memory_mb: int = 512) -> SandboxResult:
    """Run `code`, then each test statement (e.g. "assert f(2) == 4"), in a sandboxed subprocess."""
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mtsft-sandbox-") as tmp:
        Path(tmp, "spec.json").write_text(json.dumps({"code": code, "tests": list(tests)}), encoding="utf-8")
        Path(tmp, "runner.py").write_text(_RUNNER, encoding="utf-8")
        cmd = [*_network_isolation_prefix(), sys.executable, "-I", "-S", "runner.py"]
        env = {"PATH": "/usr/bin:/bin", "HOME": tmp, "TMPDIR": tmp, "PYTHONDONTWRITEBYTECODE": "1",
               "PYTHONHASHSEED": "0", "LANG": "C.UTF-8"}
        proc = subprocess.Popen(cmd, cwd=tmp, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True,
                                preexec_fn=_limits(memory_mb, int(timeout) + 1))
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            out, err = proc.communicate()
            return SandboxResult("timeout", total=len(tests), detail=f"killed after {timeout:g} s",
                                 seconds=time.perf_counter() - start)
        finally:
            _kill_group(proc)  # a child that escaped into the background must not outlive the run
    return _parse(out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), proc.returncode,
                  len(tests), time.perf_counter() - start)


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _parse(out: str, err: str, returncode: int, n_tests: int, seconds: float) -> SandboxResult:
    for line in reversed(out.splitlines()):
        if line.startswith(RESULT_MARK):
            data = json.loads(line[len(RESULT_MARK):])
            return SandboxResult(data["status"], data["passed"], data["total"], data["detail"], seconds,
                                 out[: out.rfind(RESULT_MARK)])
    if returncode == -signal.SIGXCPU or returncode == -signal.SIGKILL:
        return SandboxResult("timeout", total=n_tests, detail="CPU limit reached", seconds=seconds)
    if "MemoryError" in err:
        return SandboxResult("memory", total=n_tests, detail="MemoryError", seconds=seconds)
    tail = err.strip().splitlines()[-1] if err.strip() else f"exit code {returncode}"
    return SandboxResult("error", total=n_tests, detail=tail[:300], seconds=seconds)
