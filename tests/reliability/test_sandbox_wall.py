"""Generated code behind an operating-system wall (issue 19, item 1): each hostile snippet is contained.

For every snippet: its side effect on the host is absent, the evaluating process (and a sentinel process
beside it) is alive, no process of the run survives the deadline, the evaluator's memory stays bounded,
and the verdict is a failure. Each snippet's `solve()` returns 1 only if its attack worked inside the
sandbox, so a wall that let it through would also turn the verdict into a pass. The snippets that first
switch the audit hook off print NEUTERED once the hook is verifiably off: what contains them then is the
wall, not the hook. Skipped (with the reason) where bubblewrap cannot create namespaces.
"""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from mtsft import sandbox

pytestmark = pytest.mark.skipif(sandbox.mode(allow_unsafe=False) != "bwrap",
                                reason="bubblewrap is missing or cannot create namespaces on this machine")

PROJECT_FILE = Path(__file__).resolve().parents[2] / "pyproject.toml"
TESTS = ["assert solve() == 1"]

# three ways to switch the in-process audit hook off (the second layer), as issue 19 found them
NEUTER_CODE = '''
import gc, os
for h in [o for o in gc.get_objects() if type(o).__name__ == "function" and o.__name__ == "hook"]:
    fv = h.__code__.co_freevars
    src = ("def outer():\\n" + "".join("    %s = None\\n" % n for n in fv) + "    def hook(event, args):\\n"
           + "        " + ("; ".join(fv) or "pass") + "\\n        return None\\n    return hook\\n")
    g = {}
    exec(src, g)
    h.__code__ = g["outer"]().__code__
os.kill(os.getpid(), 0)  # an event the hook refuses: reaching the next line means it is off
print("NEUTERED", flush=True)
'''
NEUTER_CELLS = '''
import gc, os
for h in [o for o in gc.get_objects() if type(o).__name__ == "function" and o.__name__ == "hook"]:
    for name, cell in zip(h.__code__.co_freevars, h.__closure__):
        if name in ("blocked", "path_events"):
            cell.cell_contents = ()
        if name == "inside":
            cell.cell_contents = lambda p: True
os.kill(os.getpid(), 0)
print("NEUTERED", flush=True)
'''
NEUTER_FRAMES = '''
import sys
f = sys._getframe()
while f is not None:
    if "_install_hook" in f.f_globals:
        f.f_globals["isinstance"] = lambda *a: True  # the hook's `inside()` now says yes to every path
    f = f.f_back
try:
    open("/neuter-probe", "w")
except BaseException as e:
    if type(e).__name__ != "SandboxViolation":
        print("NEUTERED", flush=True)
'''


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _survivors(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


@pytest.fixture
def sentinel():
    """A process of the evaluating user beside the run: hostile code must not be able to signal it."""
    proc = subprocess.Popen(["sleep", "60"])
    yield proc.pid
    proc.kill()
    proc.wait()


def run(code: str, timeout: float = 3.0) -> sandbox.SandboxResult:
    start = time.monotonic()
    result = sandbox.run_tests(code, TESTS, timeout=timeout)
    assert time.monotonic() - start < timeout + 5, "the deadline did not hold"
    assert result.mode == "bwrap"
    return result


def contained(result: sandbox.SandboxResult, *, neutered: bool = False) -> None:
    assert result.status != "passed" and not result.all_passed, result
    if neutered:
        assert "NEUTERED" in result.stdout, f"the audit hook was not switched off: {result}"


# ---- the audit hook switched off three ways, then an escape that it alone would have stopped ------------

def test_hook_neutered_by_code_swap_then_shell_command(tmp_path):
    target = tmp_path / "pwned"
    code = NEUTER_CODE + f'''
os.system("touch {target}")
import subprocess
try:
    subprocess.run([sys.executable, "-c", "open({str(target)!r}, 'w')"])
except BaseException:
    pass
import sys
def solve():
    return int(os.path.exists({str(target)!r}))
'''
    contained(run("import sys\n" + code), neutered=True)
    assert not target.exists()


def test_hook_neutered_by_closure_cells_then_write_outside(tmp_path):
    target = tmp_path / "pwned"
    code = NEUTER_CELLS + f'''
ok = 0
try:
    open({str(target)!r}, "w").write("x")
    ok = 1
except OSError:
    pass
def solve():
    return ok
'''
    contained(run(code), neutered=True)
    assert not target.exists()


def test_hook_neutered_through_frame_globals_then_write_outside(tmp_path):
    target = tmp_path / "pwned"
    code = NEUTER_FRAMES + f'''
ok = 0
for path in ({str(target)!r}, "/usr/lib/pwned", "/pwned"):
    try:
        open(path, "w").write("x")
        ok = 1
    except OSError:
        pass
def solve():
    return ok
'''
    contained(run(code), neutered=True)
    assert not target.exists() and not Path("/usr/lib/pwned").exists()


# ---- escapes that never needed the hook switched off ----------------------------------------------------

def test_dir_fd_writes_outside(tmp_path):
    code = f'''
import os
ok = 0
for d in ({str(tmp_path)!r}, "/usr/lib", "/"):
    try:
        dfd = os.open(d, os.O_RDONLY)
        fd = os.open("pwned", os.O_CREAT | os.O_WRONLY, dir_fd=dfd)
        os.write(fd, b"x")
        ok = 1
    except OSError:
        pass
    try:
        open("local", "w").close()
        os.rename("local", "pwned", dst_dir_fd=os.open(d, os.O_RDONLY))
        ok = 1
    except OSError:
        pass
def solve():
    return ok
'''
    contained(run(code))
    assert not (tmp_path / "pwned").exists() and not Path("/usr/lib/pwned").exists()


def test_hard_link_to_a_host_file(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("original")
    code = f'''
import os
ok = 0
for src in ({str(victim)!r}, "/usr/lib/os-release", {str(PROJECT_FILE)!r}):
    try:
        os.link(src, "hl", src_dir_fd=None)
        with open("hl", "a") as f:
            f.write("pwned")
        ok = 1
    except (OSError, BaseException):
        pass
def solve():
    return ok
'''
    contained(run(code))
    assert victim.read_text() == "original"


def test_fork_exec_starts_a_shell(tmp_path):
    target = tmp_path / "pwned"
    code = f'''
import _posixsubprocess, os, sys
ok = 0
for argv in ([b"/bin/sh", b"-c", b"touch {target}"], [sys.executable.encode(), b"-c", b"open({str(target)!r}, 'w')"]):
    r, w = os.pipe()
    common = (argv, [argv[0]], True, (w,), None, None, -1, -1, -1, -1, -1, -1, r, w, True, False, -1,
              None, None, None, -1, None)
    try:
        try:
            pid = _posixsubprocess.fork_exec(*common, False)
        except TypeError:
            pid = _posixsubprocess.fork_exec(*common)
        os.waitpid(pid, 0)
    except BaseException:
        pass
    ok = ok or os.path.exists({str(target)!r})
def solve():
    return int(ok)
'''
    contained(run(code))
    assert not target.exists()


def test_pidfd_send_signal_to_the_evaluator(sentinel):
    code = NEUTER_CODE + f'''
import signal
ok = 0
for pid in ({os.getpid()}, {sentinel}, {os.getppid()}):
    try:
        fd = os.pidfd_open(pid)
        signal.pidfd_send_signal(fd, signal.SIGKILL)
        ok = 1
    except OSError:
        pass
def solve():
    return ok
'''
    contained(run(code), neutered=True)
    assert _alive(os.getpid()) and _alive(sentinel)


def test_kill_every_process_it_can_see(sentinel):
    code = NEUTER_CODE + "os.kill(-1, 9)\ndef solve():\n    return 1\n"
    contained(run(code))
    assert _alive(sentinel)


def test_reading_etc_passwd_and_project_files():
    code = f'''
ok = 0
for path in ("/etc/passwd", "/etc/shadow", {str(PROJECT_FILE)!r}, {str(Path.home() / ".bashrc")!r},
             "/proc/1/root/etc/passwd"):
    try:
        open(path, "rb").read(1)
        ok = 1
        print("READ", path)
    except OSError:
        pass
def solve():
    return ok
'''
    result = run(code)
    contained(result)
    assert "READ" not in result.stdout


def test_af_unix_socket_to_the_host(tmp_path):
    path = str(tmp_path / "s.sock")
    listeners = []
    for address in (path, "\0mtsft-wall-" + uuid.uuid4().hex):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(address)
        s.listen(1)
        s.setblocking(False)
        listeners.append((s, address))
    code = NEUTER_CODE + f'''
import socket
ok = 0
for address in {[a for _, a in listeners]!r}:
    try:
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.connect(address)
        c.sendall(b"hello")
        ok = 1
    except OSError:
        pass
def solve():
    return ok
'''
    contained(run(code), neutered=True)
    for s, _ in listeners:
        with pytest.raises(BlockingIOError):
            s.accept()
        s.close()


def test_tcp_to_localhost():
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.setblocking(False)
    port = server.getsockname()[1]
    code = NEUTER_CODE + f'''
import socket
ok = 0
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=1).sendall(b"hello")
    ok = 1
except OSError:
    pass
def solve():
    return ok
'''
    contained(run(code), neutered=True)
    with pytest.raises(BlockingIOError):
        server.accept()
    server.close()


def test_output_flood_is_capped():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB
    code = "import sys\nchunk = 'x' * (1 << 20)\nfor _ in range(300):\n    sys.stdout.write(chunk)\ndef solve():\n    return 1\n"
    result = run(code, timeout=10)
    contained(result)
    assert len(result.stdout) <= sandbox.OUTPUT_CAP
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 100, f"the evaluator grew by {grown_mb:.0f} MB"
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss < 1024 * 1024


def test_setsid_orphan_does_not_outlive_the_deadline():
    marker = "mtsft-orphan-" + uuid.uuid4().hex
    code = NEUTER_CELLS + f'''
import sys, time
if os.fork() == 0:
    os.setsid()
    os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(30)", {marker!r}])
time.sleep(30)
def solve():
    return 1
'''
    start = time.monotonic()
    result = run(code, timeout=2)
    assert time.monotonic() - start < 5, "a grandchild holding the pipes stretched the deadline"
    contained(result, neutered=True)
    assert result.status == "timeout"
    time.sleep(0.2)
    assert _survivors(marker) == []


def test_orphan_of_a_finished_run_is_killed_with_it():
    marker = "mtsft-orphan-" + uuid.uuid4().hex
    code = NEUTER_CELLS + f'''
import sys
if os.fork() == 0:
    os.setsid()
    os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(30)", {marker!r}])
def solve():
    return 0
'''
    contained(run(code), neutered=True)
    time.sleep(0.2)
    assert _survivors(marker) == []


def test_disk_fill_hits_the_cap():
    code = '''
ok = 0
try:
    with open("big", "wb") as f:
        for _ in range(200):
            f.write(b"x" * (1 << 20))
    ok = 1
except OSError:
    pass
def solve():
    return ok
'''
    contained(run(code))


def test_fork_bomb_is_contained(sentinel):
    marker = "mtsft-bomb-" + uuid.uuid4().hex
    code = NEUTER_CELLS + f'''
import sys
for _ in range(10000):
    try:
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(30)", {marker!r}])
    except OSError:
        break
def solve():
    return 0
'''
    contained(run(code, timeout=3), neutered=True)
    time.sleep(0.2)
    assert _survivors(marker) == [] and _alive(sentinel)


def test_a_well_behaved_solution_passes_behind_the_wall():
    result = sandbox.run_tests("def solve():\n    return 1\n", TESTS)
    assert (result.status, result.mode) == ("passed", "bwrap")


# ---- memory held outside the address space (issue 26, item 2), with the audit hook off --------------------

FILL_FILES = '''
held = 0
def fill(folder, mb):
    """`mb` MB in files of 8 MB (each under the 16 MB file-size limit)."""
    global held
    chunk = b"x" * (1 << 20)
    try:
        for i in range(mb // 8):
            with open("%s/fill%d" % (folder, i), "wb") as f:
                for _ in range(8):
                    f.write(chunk)
                    f.flush()
                    held += 1
    except OSError as e:
        print("stopped:", e, flush=True)
'''


@pytest.mark.parametrize("folder", ["/dev/shm", "/dev"])
def test_64_mb_into_dev_or_dev_shm_with_the_hook_off_is_refused(folder):
    code = NEUTER_CODE + FILL_FILES + f"fill({folder!r}, 64)\ndef solve():\n    return int(held >= 64)\n"
    result = run(code, timeout=10)
    contained(result, neutered=True)
    assert "stopped:" in result.stdout


def test_memfd_create_of_528_mb_is_refused():
    code = NEUTER_CODE + '''
held, fds = 0, []
try:
    for i in range(33):  # 33 x 16 MB: each under the file-size limit, none of it mapped
        fd = os.memfd_create("m%d" % i)
        fds.append(fd)
        for _ in range(16):
            os.write(fd, b"x" * (1 << 20))
            held += 1
except OSError as e:
    print("stopped:", e, flush=True)
def solve():
    return int(held >= 528)
'''
    result = run(code, timeout=10)
    contained(result, neutered=True)
    assert "Operation not permitted" in result.stdout


def test_system_v_shared_memory_is_refused():
    code = NEUTER_CODE + '''
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.shmget.restype = ctypes.c_int
segment = libc.shmget(0, 64 << 20, 0o1600)  # IPC_PRIVATE, IPC_CREAT | 0600
print("shmget:", segment, ctypes.get_errno(), flush=True)
def solve():
    return int(segment >= 0)
'''
    result = run(code)
    contained(result, neutered=True)
    assert "shmget: -1 1" in result.stdout  # EPERM


def test_every_writable_mount_is_size_capped():
    """What the code can write to: each read-write mount other than the device nodes, /proc and devpts
    is a tmpfs with a size no larger than the work dir's."""
    result = sandbox.run_tests("print(open('/proc/self/mountinfo').read(), flush=True)\ndef solve():\n    return 1\n",
                               TESTS)
    assert result.status == "passed", result
    writable = []
    for line in filter(None, result.stdout.splitlines()):
        fields = line.split()
        point, options, fstype, super_options = fields[4], fields[5], fields[-3], fields[-1]
        if "rw" in options.split(",") and fstype not in ("proc", "devpts", "devtmpfs"):
            writable.append((point, fstype, super_options))
    assert writable, result.stdout
    for point, fstype, super_options in writable:
        size = dict(o.partition("=")[::2] for o in super_options.split(",")).get("size", "")
        assert fstype == "tmpfs" and size.endswith("k") and int(size[:-1]) <= sandbox.WORK_MB * 1024, (point, super_options)
