"""Run untrusted Python (model-written code and its unit tests) in a separate, fenced-in process, and
decide the verdict in the parent from results the solution cannot write.

Never `exec` in the mtsft process: a generated `while True: pass` or `os.system("rm -rf ~")` must not be
able to hang or harm the run, and a generated `print(<result line>); os._exit(0)` must not pass.

The verdict (see SECURITY.md for the threat model):
- The parent parses every test with `ast` first. Each `assert` becomes a *check*: the operands that hold
  only literals (the expected values, e.g. `== [1, 2]`) are evaluated in the parent by a small literal
  evaluator and never sent to the child; the child evaluates only the operands that need the solution and
  sends their values back. Every call inside those operands is wrapped so that its result must be plain
  data of exact built-in types (int, str, list, dict, ...; no subclasses, no user objects): an object
  whose `__eq__` always says True fails before any comparison runs. The comparison itself runs in the
  parent on decoded built-in values.
- Results travel over a private pipe (not stdout/stderr, which the solution shares), moved to a random
  descriptor before the solution runs, each line carrying a per-run random nonce and a sequence number;
  any malformed line, wrong nonce, gap or line after the end marker fails the run. The run passes only
  when the child reports every test step done, every top-level check exactly once, then the end marker:
  any exit before the last test (`os._exit`, `sys.exit`, a crash) is a failure.
- A check's built-in and math calls (`abs`, `math.isclose`, `sorted`, `all`, `isinstance`, ...; see
  _Template) run in the parent on the values the child sends for the parts that need the solution.
- The tests run in a namespace of their own, never the solution's: a copy of the interpreter's original
  builtins, private instances of the modules they use (loaded afresh before the solution runs), and from
  the solution only the non-built-in names they refer to. Each test step runs as a function whose harness
  helpers, and the built-ins, modules and imported names it reads, are its own locals. A solution that
  defines `abs`, patches `math.isclose`, fakes `sys.modules['math']` or rebinds its caller's globals
  changes nothing the tests call.
- Result lines are JSON under a per-line cap (RESULT_LINE_CAP): the parent never parses more.

The process wall (`_wall`): bubblewrap namespaces where they work (the work dir the only writable mount,
a seccomp filter refusing anonymous memory files), else refusal (`SandboxUnavailable`) unless unsafe
execution is allowed explicitly (`allow_unsafe=True` or MTSFT_UNSAFE_EXEC=1); rlimits; a deadline that
kills the whole process tree; output read with a byte cap. An audit hook stays inside as a
second layer only (code it watches can switch it off). Every result says which wall ran (`mode`).
"""

from __future__ import annotations

import ast
import builtins
import collections
import json
import marshal
import math
import operator
import os
import resource
import secrets
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from functools import lru_cache

from mtsft.text import parse_python

STATUSES = ("passed", "failed", "error", "timeout", "memory", "refused", "forged")
OUTPUT_CAP = 1 << 20          # bytes of stdout/stderr kept; beyond it the pipe is closed on the child
RESULT_CAP = 8 << 20          # bytes of result channel accepted; beyond it the run fails
RESULT_LINE_CAP = 1 << 20     # bytes of one result line (one reported value) the evaluator parses; beyond it
                              # the child reports the value as too large, and a longer line is never parsed
EMIT, STRICT, CALL, STEP, ENV = "__mtsft_emit__", "__mtsft_strict__", "__mtsft_call__", "__mtsft_step__", "__mtsft_env__"

# ---- the child's side ---------------------------------------------------------------------------------
# It runs in the child process only (a string, passed with -c). It reads its spec (and the nonce) from
# stdin before any solution code runs, then replaces stdin with /dev/null.
_RUNNER = r'''
import os, sys, builtins
def _main(argv):
    # every name the harness uses later is a local of this function, bound before the solution runs:
    # rebinding builtins or this module's globals from the solution does not reach them
    from builtins import (BaseException, abs, bool, bytearray, bytes, compile, complex, dict, enumerate,
                          exec, filter, float, frozenset, int, isinstance, iter, list, map, memoryview,
                          range, repr, reversed, set, str, tuple, type, zip)
    _fd0 = int(argv[1])
    _write, _repr, _type, _str = os.write, repr, type, str
    _isinstance, _float_hex, _bytes_hex, _enum = isinstance, float.hex, bytes.hex, enumerate
    _exit, _BaseException, _exec, _compile, _dict = os._exit, BaseException, exec, compile, dict
    chunks = []
    while True:
        chunk = os.read(0, 1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
    devnull = os.open(os.devnull, os.O_RDONLY); os.dup2(devnull, 0); os.close(devnull)
    import marshal, fcntl, _collections
    # these compare like dict (OrderedDict loses its order-sensitivity against another OrderedDict);
    # a Counter is told by name, as importing collections costs milliseconds: a look-alike gains nothing,
    # as only the plain items it holds are sent
    DICTS = (dict, _collections.OrderedDict, _collections.defaultdict)
    DEQUE = _collections.deque
    spec = marshal.loads(b"".join(chunks)); del chunks
    nonce = spec.pop("nonce")
    # the result channel: moved to a random high descriptor, the inherited one closed
    import resource
    top = min(resource.getrlimit(resource.RLIMIT_NOFILE)[0], 1024)
    low = top // 2
    fd = fcntl.fcntl(_fd0, fcntl.F_DUPFD_CLOEXEC, low + int.from_bytes(os.urandom(2), "little") % (top - 4 - low))
    os.close(_fd0)
    pristine = tuple(builtins.__dict__.items())
    # The tests' own world, built before the solution runs: a copy of the original builtins whose
    # __import__ hands out private instances of the modules the tests use, loaded afresh from their
    # source (a solution that patches `math.isclose`, a module's helpers or sys.modules reaches only the
    # shared instances it can name), and the solution's names the tests refer to, bound one by one.
    ModuleType, real_import = _type(sys), builtins.__import__
    import _frozen_importlib as boot
    private = {}
    for name in spec.pop("modules"):
        try:
            real_import(name)
            real = sys.modules[name]
        except _BaseException:
            continue
        mod = None
        if "." not in name and name not in ("sys", "builtins"):
            try:
                found = boot._find_spec(name, None)
                mod = boot.module_from_spec(found)
                sys.modules[name] = mod  # as an import does: code that looks itself up finds this one
                try:
                    found.loader.exec_module(mod)
                finally:
                    sys.modules[name] = real
            except _BaseException:
                mod = None
        if mod is None:  # a submodule, or one that cannot load twice: a copy of its namespace as it is now
            mod = ModuleType(name)
            mod.__dict__.update(real.__dict__)
        private[name] = mod
    for name, mod in _dict(private).items():
        parent, _, leaf = name.rpartition(".")
        if parent in private:
            private[parent].__dict__[leaf] = mod
    def private_import(name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0 and name in private:
            return private[name] if fromlist else private[name.partition(".")[0]]
        return real_import(name, globals, locals, fromlist, level)
    test_builtins = _dict(pristine)
    test_builtins["__import__"] = private_import
    builtin_names = frozenset(test_builtins)
    pinned = {}
    for name, where in _dict(spec["pinned"]).items():
        try:
            if where[0] == "b":
                pinned[name] = test_builtins[where[1]]
            elif where[0] == "m":
                pinned[name] = private[where[1]]
            else:  # a module's attribute, or its submodule
                sub = private.get(where[1] + "." + where[2])
                pinned[name] = sub if sub is not None else getattr(private[where[1]], where[2])
        except _BaseException:
            pass  # the step's own import (or name) fails as it would have
    state = {"seq": 0, "step": -1}
    ITER_TYPES = tuple(_type(x) for x in (iter([]), iter(()), iter(""), map(abs, []), filter(None, []),
                                          zip(), enumerate([]), reversed([]), range(0), iter(range(0)),
                                          iter({}), iter(set()), (i for i in ()), {}.keys(), {}.values(),
                                          {}.items()))
    class StrictError(_BaseException):
        """BaseException so that `except Exception` in test code cannot swallow it."""
    from _json import encode_basestring_ascii as quote
    line_cap = spec["line_cap"]
    def dump(v):
        # JSON, which the evaluator parses with bounded memory (a Python literal's AST costs it hundreds of
        # bytes per byte); payloads hold only lists, ints and strings
        t = _type(v)
        if t is int:
            return int.__repr__(v)
        if t is str:
            return quote(v)
        return "[" + ",".join([dump(x) for x in list.__iter__(v)]) + "]"
    def send(kind, payload):
        body = dump(payload)
        if kind == "C" and len(body) > line_cap - 200:
            body = dump([payload[0], payload[1], "bad value: over the %d-byte result line cap" % line_cap])
        line = ("%s %d %s %s\n" % (nonce, state["seq"], kind, body)).encode("ascii")
        state["seq"] += 1
        view = memoryview(line)
        while view:
            n = _write(fd, view)
            view = view[n:]
    def enc(v, depth=0, budget=None):
        budget = budget if budget is not None else [200000]
        budget[0] -= 1
        if budget[0] < 0 or depth > 60:
            raise StrictError("value too large or too deep")
        t = _type(v)
        if v is None: return ["n"]
        if t is bool: return ["T" if v else "F"]
        if t is int: return ["i", int.__repr__(v)]
        if t is float: return ["f", _float_hex(v)]
        if t is complex: return ["c", _float_hex(v.real), _float_hex(v.imag)]
        if t is str: return ["s", str.__str__(v)]
        if t is bytes: return ["b", _bytes_hex(v)]
        if t is bytearray: return ["B", _bytes_hex(bytes(v))]
        if t is list: return ["l", [enc(x, depth + 1, budget) for x in list.__iter__(v)]]
        if t is tuple: return ["t", [enc(x, depth + 1, budget) for x in tuple.__iter__(v)]]
        if t is set: return ["S", [enc(x, depth + 1, budget) for x in set.__iter__(v)]]
        if t is frozenset: return ["Z", [enc(x, depth + 1, budget) for x in frozenset.__iter__(v)]]
        if t in DICTS or (t.__name__ == "Counter" and t.__module__ == "collections" and _isinstance(v, dict)):
            return ["d", [[enc(k, depth + 1, budget), enc(dict.__getitem__(v, k), depth + 1, budget)]
                                   for k in dict.__iter__(v)]]
        if t is DEQUE: return ["q", [enc(x, depth + 1, budget) for x in DEQUE.__iter__(v)]]
        raise StrictError("not plain data: %s" % t.__qualname__)
    def strict(v, listed=0):
        # a call's result must be plain data of exact built-in types (or a built-in iterator, whose
        # items are checked where they are consumed; sent as a list where the evaluator consumes it)
        if _type(v) in ITER_TYPES:
            if not listed:
                return v
            v = list(v)
        enc(v)
        return v
    BUILTIN_CALLABLES = (_type(len), _type([].append), _type("".join), _type(object.__init__),
                         _type((1).__add__))
    builtin_types = frozenset(v for k, v in pristine if _type(v) is type)
    def call(func):
        t = _type(func)
        if t in BUILTIN_CALLABLES or (t is type and func in builtin_types):
            return func
        def checked(*args, **kwargs):
            return strict(func(*args, **kwargs))
        return checked
    def emit(check, values):
        try:
            payload = [check, state["step"], [enc(v) for v in values]]
        except StrictError as e:
            payload = [check, state["step"], "bad value: %s" % (e.args[0] if e.args else "")]
        send("C", payload)
    def describe(e):
        try:
            if _type(e).__module__ == "builtins":
                return "%s: %s" % (_type(e).__name__, _str(e)[:300])
            args = _BaseException.__getattribute__(e, "args")
            text = args[0] if _type(args) is tuple and args and _type(args[0]) is str else ""
            return "%s: %s" % (_type(e).__name__, text[:300])
        except _BaseException:
            return "unprintable exception"
    ns = {"__name__": "__sandbox__"}
    try:
        _exec(_compile(spec["code"], "solution.py", "exec"), ns)
    except _BaseException as e:
        send("X", ["solution", describe(e)])
        _exit(0)
    # the tests' namespace: a module the tests use is the private one, a built-in name is the original
    # (unless the tests call a solution function of that name as the entry point), and any other name the
    # tests refer to is the solution's (its functions keep their own globals, helpers and imports)
    entry, tg = spec["entry"], {"__name__": "__test__"}
    for name in spec["names"]:
        if name in private:
            tg[name] = private[name]
        elif name in builtin_names and name != entry:
            continue
        else:
            value = _dict.get(ns, name, tg)
            if value is not tg:
                tg[name] = value
    for i, (name, src) in _enum(spec["steps"]):
        state["step"] = i
        tg["__builtins__"] = _dict(test_builtins)
        tg[%EMIT%] = emit; tg[%STRICT%] = strict; tg[%CALL%] = call
        try:
            _exec(_compile(src, name, "exec"), tg)
            step = tg.pop(%STEP%, None)
            if step is not None:
                step(emit, strict, call, pinned)
        except _BaseException as e:
            send("E", [i, describe(e)])
            if i < spec["first_test"]:
                _exit(0)
            continue
        send("D", i)
    send("Z", state["seq"])
    _exit(0)
%HOOK%
_main(sys.argv)
'''.replace("%EMIT%", repr(EMIT)).replace("%STRICT%", repr(STRICT)).replace("%CALL%", repr(CALL)).replace("%STEP%", repr(STEP))

# The second layer: an audit hook (PEP 578) that refuses process creation, sockets, native-library
# loading and writes outside the work dir. Code it watches can neuter it; the wall outside does not rely
# on it.
_HOOK = r'''
def _install_hook():
    ROOT = os.path.realpath(os.getcwd())
    class SandboxViolation(BaseException):
        pass
    blocked = ("os.fork", "os.forkpty", "os.system", "os.exec", "os.posix_spawn", "os.spawn",
               "subprocess.Popen", "os.kill", "os.killpg", "ctypes.dlopen", "ctypes.dlsym",
               "ctypes.call_function", "os.startfile", "pty.spawn", "webbrowser.open")
    path_events = ("os.remove", "os.rename", "os.mkdir", "os.rmdir", "os.chmod", "os.chown", "os.symlink",
                   "os.link", "os.truncate", "shutil.rmtree", "shutil.move", "os.utime")
    write = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
    realpath, join, fsdecode, sep = os.path.realpath, os.path.join, os.fsdecode, os.sep
    def inside(path):
        if isinstance(path, int):
            return True
        full = realpath(join(ROOT, fsdecode(path)))
        return full == ROOT or full.startswith(ROOT + sep)
    def hook(event, args):
        if event in blocked or event.startswith("socket."):
            raise SandboxViolation(event)
        if event == "open":
            path, mode, flags = args
            writing = (flags or 0) & write or (mode and any(c in str(mode) for c in "wax+"))
            if writing and not inside(path):
                raise SandboxViolation("write outside the sandbox: %s" % (path,))
        elif event in path_events:
            for p in args[:2]:
                if isinstance(p, (str, bytes)) and not inside(p):
                    raise SandboxViolation("%s outside the sandbox: %s" % (event, p))
    sys.addaudithook(hook)
_install_hook()
'''


# ---- the parent's side: test plans ----------------------------------------------------------------------

class _Unsafe(Exception):
    pass


_SAFE_CALLS = {"set": set, "frozenset": frozenset, "list": list, "tuple": tuple, "dict": dict, "sorted": sorted,
               "abs": abs, "round": round, "len": len, "float": float, "int": int, "str": str, "bool": bool,
               "min": min, "max": max, "sum": sum, "complex": complex, "bytes": bytes}
_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow}


def _size(v) -> int:
    return len(v) if isinstance(v, (str, bytes, list, tuple, set, frozenset, dict)) else 1


def _safe_eval(node: ast.AST):
    """The value of an expression that holds only literals, containers and a few pure built-in calls;
    `_Unsafe` for anything else (names, attributes, other calls). Nothing is executed."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        items = [_safe_eval(e) for e in node.elts]
        return {ast.List: list, ast.Tuple: tuple, ast.Set: set}[type(node)](items)
    if isinstance(node, ast.Dict):
        if any(k is None for k in node.keys):
            raise _Unsafe("dict unpacking")
        return {_safe_eval(k): _safe_eval(v) for k, v in zip(node.keys, node.values)}
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd, ast.Not)):
        v = _safe_eval(node.operand)
        return {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: operator.not_}[type(node.op)](v)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        a, b = _safe_eval(node.left), _safe_eval(node.right)
        if isinstance(node.op, ast.Pow) and (not isinstance(b, (int, float)) or abs(b) > 256):
            raise _Unsafe("large power")
        if isinstance(node.op, ast.Mult) and _size(a) * _size(b) > 100_000 and not (
                isinstance(a, (int, float)) and isinstance(b, (int, float))):
            raise _Unsafe("large repetition")
        try:
            return _BINOPS[type(node.op)](a, b)
        except Exception as e:
            raise _Unsafe(str(e)) from None
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _SAFE_CALLS
            and not any(isinstance(a, ast.Starred) for a in node.args)
            and all(k.arg == "reverse" for k in node.keywords)):
        args = [_safe_eval(a) for a in node.args]
        kwargs = {k.arg: _safe_eval(k.value) for k in node.keywords}
        try:
            return _SAFE_CALLS[node.func.id](*args, **kwargs)
        except Exception as e:
            raise _Unsafe(str(e)) from None
    raise _Unsafe(type(node).__name__)


_CMP = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
        ast.Gt: operator.gt, ast.GtE: operator.ge, ast.In: lambda a, b: a in b,
        ast.NotIn: lambda a, b: a not in b, ast.Is: operator.is_, ast.IsNot: operator.is_not}
_SINGLETONS = (None, True, False)

# ---- what the evaluator computes itself ----
# A check's built-in and math calls (`abs(f(x) - y) < 1e-6`, `math.isclose(f(x), 4.2)`, `sorted(f(x))`,
# `all(...)`, `isinstance(f(x), float)`) run here on the values the child sends for the parts that need the
# solution (the holes): nothing the solution does in the child (a rebound `abs`, a patched module reached
# through gc or frames) can change them. Each is pure and bounded on the data a result line can hold.
_PARENT_CALLS = {name: getattr(builtins, name) for name in (
    "abs", "all", "any", "bool", "complex", "dict", "divmod", "float", "frozenset", "int", "isinstance", "len",
    "list", "max", "min", "pow", "round", "set", "sorted", "str", "sum", "tuple")}
_PARENT_ATTRS = {("math", name): getattr(math, name) for name in (
    "isclose", "fabs", "sqrt", "floor", "ceil", "trunc", "isnan", "isinf", "isfinite", "log", "log2", "log10",
    "exp", "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "hypot", "degrees", "radians", "copysign",
    "fsum", "gcd", "pi", "e", "tau", "inf", "nan")}
_PARENT_ATTRS[("collections", "Counter")] = collections.Counter
_CALLABLE = {id(f) for f in [*_PARENT_CALLS.values(), *_PARENT_ATTRS.values()] if callable(f)}
# functions that consume an iterable: a built-in iterator the child has for their argument (a generator,
# a dict view) is sent as a list
_CONSUMERS = {id(f) for f in (sorted, set, frozenset, list, tuple, dict, all, any, sum, min, max,
                              collections.Counter, math.fsum)}
HOLE = "__mtsft_hole_"
_MISSING = object()


def _template_eval(node: ast.AST, holes: list):
    """The value of a check's template (see _Template): literals, the hole values, the functions above,
    arithmetic, comparisons and subscripts, with the literal evaluator's bounds on powers and repetition."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name) and node.id.startswith(HOLE):
        return holes[int(node.id[len(HOLE):])]
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return {ast.List: list, ast.Tuple: tuple, ast.Set: set}[type(node)](_template_eval(e, holes) for e in node.elts)
    if isinstance(node, ast.Dict):
        return {_template_eval(k, holes): _template_eval(v, holes) for k, v in zip(node.keys, node.values)}
    if isinstance(node, ast.UnaryOp):
        v = _template_eval(node.operand, holes)
        return {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: operator.not_}[type(node.op)](v)
    if isinstance(node, ast.BinOp):
        a, b = _template_eval(node.left, holes), _template_eval(node.right, holes)
        _check_bounds(type(node.op), a, b)
        return _BINOPS[type(node.op)](a, b)
    if isinstance(node, ast.Compare):
        values = [_template_eval(n, holes) for n in [node.left, *node.comparators]]
        return all(_CMP[type(op)](a, b) for op, a, b in zip(node.ops, values, values[1:]))
    if isinstance(node, ast.Subscript):
        return _template_eval(node.value, holes)[_template_eval(node.slice, holes)]
    if isinstance(node, ast.Slice):
        return slice(*(_template_eval(n, holes) if n is not None else None for n in (node.lower, node.upper, node.step)))
    if isinstance(node, ast.Call):
        func = _template_eval(node.func, holes)
        args = [_template_eval(a, holes) for a in node.args]
        kwargs = {k.arg: _template_eval(k.value, holes) for k in node.keywords}
        if id(func) not in _CALLABLE:
            raise _Unsafe("not a function the evaluator runs")
        if func is pow and len(args) == 2:
            _check_bounds(ast.Pow, *args)
        if func is round and len(args) > 1 and isinstance(args[1], int) and abs(args[1]) > 1000:
            raise _Unsafe("large rounding")
        return func(*args, **kwargs)
    raise _Unsafe(type(node).__name__)


def _check_bounds(op: type, a, b) -> None:
    if op is ast.Pow and isinstance(a, int) and isinstance(b, int) and (
            b > 10_000 or max(a.bit_length(), 1) * b > 1_000_000):
        raise _Unsafe("large power")
    if op is ast.Mult and _size(a) * _size(b) > 100_000 and not (
            isinstance(a, (int, float)) and isinstance(b, (int, float))):
        raise _Unsafe("large repetition")


class _Template:
    """A check's operand split into what the evaluator computes itself (a call of the functions above, on
    literals and on values) and holes: the sub-expressions only the child can evaluate (they involve the
    solution), each appended to `child` (in evaluation order) and named HOLE<i> in the template. A name
    counts as the built-in or module function only where the tests do not bind it otherwise (`pinned`)."""

    def __init__(self, child: list[ast.expr], pinned: dict[str, tuple]):
        self.child, self.pinned = child, pinned

    def operand(self, node: ast.expr) -> tuple:
        """("p", value) for a literal, ("c", i) for one hole, ("e", template) for a computed expression."""
        kind = self.kind(node)
        if kind == "lit":
            return "p", _safe_eval(node)
        if kind == "hole":
            return "c", self._hole(node, False)
        return "e", self.build(node)

    def resolve(self, node: ast.expr):
        if isinstance(node, ast.Name):
            where = self.pinned.get(node.id)
            if where == ("b", node.id) and node.id in _PARENT_CALLS:
                return _PARENT_CALLS[node.id]
            if where and where[0] == "a":
                return _PARENT_ATTRS.get(where[1:], _MISSING)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if self.pinned.get(node.value.id) == ("m", node.value.id):
                return _PARENT_ATTRS.get((node.value.id, node.attr), _MISSING)
        return _MISSING

    def parts(self, node: ast.expr) -> list | None:
        """The sub-expressions of a node the evaluator can compute from its parts; None for any other."""
        if isinstance(node, ast.Call):
            func = self.resolve(node.func)
            if (func is _MISSING or id(func) not in _CALLABLE or any(isinstance(a, ast.Starred) for a in node.args)
                    or any(k.arg is None for k in node.keywords) or (func is sum and len(node.args) > 1)):
                return None  # (`sum(lists, [])` is quadratic: the child computes it)
            args = [*node.args, *(k.value for k in node.keywords)]
            # a bare name handed to a function (or in a tuple of them: `isinstance(x, (A, B))`) may be a
            # class or a function: only the child has it
            bare = [e for a in args for e in (a.elts if isinstance(a, (ast.Tuple, ast.List)) else [a])
                    if isinstance(e, (ast.Name, ast.Attribute))]
            if any(self.kind(e) == "hole" for e in bare):
                return None
            return args
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            return [node.left, node.right]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd, ast.Not)):
            return [node.operand]
        if isinstance(node, ast.Compare) and all(type(op) in _CMP and not isinstance(op, (ast.Is, ast.IsNot))
                                                 for op in node.ops):  # identity does not survive a round trip
            return [node.left, *node.comparators]
        if isinstance(node, ast.Subscript):
            return [node.value, node.slice]
        if isinstance(node, ast.Slice):
            return [n for n in (node.lower, node.upper, node.step) if n is not None]
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)) and not any(isinstance(e, ast.Starred) for e in node.elts):
            return list(node.elts)
        if isinstance(node, ast.Dict) and all(k is not None for k in node.keys):
            return [x for kv in zip(node.keys, node.values) for x in kv]
        return None

    def kind(self, node: ast.expr) -> str:
        """"lit" (a literal), "parent" (computed here) or "hole" (evaluated by the child)."""
        try:
            _safe_eval(node)
            return "lit"
        except _Unsafe:
            pass
        if self.resolve(node) is not _MISSING:
            return "parent"
        return "parent" if self.parts(node) is not None else "hole"

    def _hole(self, node: ast.expr, listed: bool) -> int:
        self.child.append(_strict(node, listed))
        return len(self.child) - 1

    def build(self, node: ast.expr, listed: bool = False) -> ast.expr:
        kind = self.kind(node)
        if kind == "lit":
            return ast.Constant(_safe_eval(node))
        if kind == "hole":
            return ast.Name(HOLE + str(self._hole(node, listed)), ast.Load())
        found = self.resolve(node)
        if found is not _MISSING:
            return ast.Constant(found)
        if isinstance(node, ast.Call):
            func = self.resolve(node.func)
            consumer = id(func) in _CONSUMERS
            return ast.Call(ast.Constant(func), [self.build(a, consumer) for a in node.args],
                            [ast.keyword(k.arg, self.build(k.value)) for k in node.keywords])
        if isinstance(node, ast.BinOp):
            return ast.BinOp(self.build(node.left), node.op, self.build(node.right))
        if isinstance(node, ast.UnaryOp):
            return ast.UnaryOp(node.op, self.build(node.operand))
        if isinstance(node, ast.Compare):
            return ast.Compare(self.build(node.left), node.ops, [self.build(c) for c in node.comparators])
        if isinstance(node, ast.Subscript):
            return ast.Subscript(self.build(node.value), self.build(node.slice), ast.Load())
        if isinstance(node, ast.Slice):
            return ast.Slice(*(self.build(n) if n is not None else None for n in (node.lower, node.upper, node.step)))
        if isinstance(node, ast.Set):
            return ast.Set([self.build(e) for e in node.elts])
        if isinstance(node, (ast.List, ast.Tuple)):
            return type(node)([self.build(e) for e in node.elts], ast.Load())
        keys, values = [], []
        for k, v in zip(node.keys, node.values):
            keys.append(self.build(k))
            values.append(self.build(v))
        return ast.Dict(keys, values)


@dataclass
class _Check:
    """One assert: the parent compares `operands` (("p", value) known here, ("c", i) the i-th value the
    child sends, ("e", template) computed here from those values, see _Template) with `ops`, or (no ops)
    tests the truth of the one operand against `truth`."""
    step: int
    ops: list = field(default_factory=list)
    operands: list = field(default_factory=list)
    truth: bool = True
    reports: tuple = (1, 1)  # (min, max or None) reports when its step completes; see _report_bounds

    def judge(self, values: list) -> bool:
        try:
            resolved = [values[x] if kind == "c" else _template_eval(x, values) if kind == "e" else x
                        for kind, x in self.operands]
            if not self.ops:
                return bool(resolved[0]) is self.truth
            return all(_CMP[op](a, b) for op, a, b in zip(self.ops, resolved, resolved[1:]))
        except Exception:  # an operand that cannot be computed from what the child sent (e.g. abs of a str)
            return False


class _StrictCalls(ast.NodeTransformer):
    """`f(x)` -> `__mtsft_call__(f)(x)` wherever a call's result is used as a value: at run time a
    function that is not built in (the solution's) must return plain data of exact built-in types. A call
    that only builds an input (an argument, or an item of a container handed on as an argument, like
    `f([Pair(1, 2)])`) is left alone; its result is not what the test compares."""

    def __init__(self):
        self.passing = False

    def generic_visit(self, node):
        keep = isinstance(node, (ast.List, ast.Tuple, ast.Set, ast.Dict, ast.Starred, ast.keyword))
        saved, self.passing = self.passing, self.passing and keep
        try:
            return super().generic_visit(node)
        finally:
            self.passing = saved

    def visit_Call(self, node):
        saved = self.passing
        self.passing = False
        node.func = self.visit(node.func)
        self.passing = True
        node.args = [self.visit(a) for a in node.args]
        node.keywords = [self.visit(k) for k in node.keywords]
        self.passing = saved
        if saved:
            return node
        return ast.Call(ast.Call(ast.Name(CALL, ast.Load()), [node.func], []), node.args, node.keywords)


def _strict(node: ast.expr, listed: bool = False) -> ast.expr:
    """`node` for the child, its value checked as plain data (`listed`: a built-in iterator sent as a list)."""
    return ast.Call(ast.Name(STRICT, ast.Load()), [_StrictCalls().visit(node), *([ast.Constant(1)] if listed else [])], [])


class _Asserts(ast.NodeTransformer):
    """Turn each `assert` of one step into an emit of the operands the child must evaluate."""

    def __init__(self, checks: list[_Check], step: int, bounds: dict[int, tuple], pinned: dict[str, tuple]):
        self.checks, self.step, self.bounds, self.pinned = checks, step, bounds, pinned

    def visit_Assert(self, node):
        bound = self.bounds.get(id(node), (0, None))
        test = node.test
        parts = test.values if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And) else [test]
        return [ast.fix_missing_locations(ast.copy_location(self._one(p, bound), node)) for p in parts]

    def _one(self, test: ast.expr, bound: tuple) -> ast.stmt:
        check = _Check(self.step, reports=bound)
        child: list[ast.expr] = []
        if isinstance(test, ast.Compare) and all(type(op) in _CMP for op in test.ops):
            template = _Template(child, self.pinned)
            operands = [template.operand(node) for node in [test.left, *test.comparators]]
            identity_ok = all(not isinstance(op, (ast.Is, ast.IsNot)) or
                              any(k == "p" and any(v is s for s in _SINGLETONS) for k, v in (a, b))
                              for op, a, b in zip(test.ops, operands, operands[1:]))
            if identity_ok:
                check.ops, check.operands = [type(op) for op in test.ops], operands
            else:  # `x is y` between non-singletons cannot survive a round trip: judge its truth in the child
                child[:], check.operands = [_strict(test)], [("c", 0)]
        elif isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            check.operands, check.truth = [_Template(child, self.pinned).operand(test.operand)], False
        else:
            check.operands = [_Template(child, self.pinned).operand(test)]
        self.checks.append(check)
        k = len(self.checks) - 1
        return ast.Expr(ast.Call(ast.Name(EMIT, ast.Load()),
                                 [ast.Constant(k), ast.Tuple(child, ast.Load())], []))


@dataclass
class TestPlan:
    steps: list[tuple[str, str]]   # (name, rewritten source) in run order
    checks: list[_Check]
    first_test: int                # steps before it are set-up: failing one fails everything
    n_tests: int
    names: list[str] = field(default_factory=list)    # every name the steps refer to (see _names_and_modules)
    modules: list[str] = field(default_factory=list)  # modules the steps use, loaded privately for them
    pinned: dict[str, tuple] = field(default_factory=dict)  # names bound as each step's locals (_pinned_names)


def plan_tests(tests=(), *, setup: str = "", check: str = "", entry_point: str = "") -> TestPlan:
    """Rewrite test sources for the child: MBPP/own assert lists (`tests`, with `setup` run after the
    solution), HumanEval-style `check` source defining `check(candidate)` with the tested function's
    `entry_point`. Raises SyntaxError where a test does not parse."""
    pre: list[tuple[str, str]] = [("setup", setup)] if setup.strip() else []
    bodies: list[tuple[str, str]] = [(f"test_{i}", t) for i, t in enumerate(tests)]
    if check.strip():
        tree = parse_python(check)
        defs = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "check"]
        others = [n for n in tree.body if not (isinstance(n, ast.FunctionDef) and n.name == "check")]
        pre.append(("check_setup", ast.unparse(ast.Module(others, [])) + f"\ncandidate = {entry_point or 'None'}\n"))
        body = defs[-1].body if defs else []
        flat = not any(_own_nodes(stmt, (ast.Return, ast.Yield, ast.YieldFrom, ast.Nonlocal, ast.Global))
                       for stmt in body)
        if defs and flat:
            param = defs[-1].args.args[0].arg if defs[-1].args.args else "candidate"
            pre[-1] = (pre[-1][0], pre[-1][1] + f"{param} = candidate\n")
            bodies += [(f"check_{i}", ast.unparse(stmt)) for i, stmt in enumerate(body)
                       if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant))]
        elif defs:  # a check() that returns early: run it whole, its asserts still judged here
            bodies.append(("check", ast.unparse(defs[-1]) + f"\ncheck({entry_point or 'None'})\n"))
    steps, checks, names, modules = [], [], set(), set()
    trees = [parse_python(src) for _, src in pre + bodies]
    for tree in trees:
        _names_and_modules(tree, names, modules)
    local = {n: where for n, where in _pinned_names(trees, modules, entry_point).items() if n in names}
    for i, ((name, _), tree) in enumerate(zip(pre + bodies, trees)):
        tree = ast.fix_missing_locations(_Asserts(checks, i, _report_bounds(tree), local).visit(tree))
        steps.append((name, ast.unparse(_as_function(tree, local))))
    return TestPlan(steps, checks, len(pre), len(bodies), sorted(names | {entry_point} - {""}), sorted(modules),
                    local)


def _pinned_names(trees: list[ast.Module], modules: set[str], entry_point: str) -> dict[str, tuple]:
    """{name: where its value comes from} for the built-in names, modules and imported names the tests use,
    which each step binds as its own locals when it starts, from the child's original builtins ("b") and
    private modules ("m": a module, "a": a module's attribute): a solution function that rebinds `abs`,
    `math` or `Counter` in its caller's globals (`sys._getframe(1).f_globals`) does not reach them. Left
    out: names the tests bind otherwise (or import from two places), dunders and the entry point."""
    otherwise, sources = set(), {}
    for tree in trees:
        visitor = _ImportSources()
        for stmt in tree.body:
            visitor.visit(stmt)
        otherwise |= visitor.names
        for name, found in visitor.sources.items():
            sources.setdefault(name, set()).update(found)
    pinned: dict[str, tuple] = {n: ("b", n) for n in vars(builtins)
                                if not n.startswith("__") and n not in otherwise and n not in sources}
    pinned.update((m, ("m", m)) for m in modules if "." not in m and m not in otherwise)
    for name, found in sources.items():
        if len(found) == 1 and ("?",) not in found and name not in otherwise:
            pinned[name] = next(iter(found))
    pinned.pop(entry_point, None)
    return pinned


def _names_and_modules(tree: ast.AST, names: set[str], modules: set[str]) -> None:
    """Add the names `tree` refers to, and the modules it imports or uses as `name.attr` where `name` is a
    standard-library module (MBPP tests call `math.isclose` and rely on the solution's `import math`):
    the child gives the tests private instances of these, never the solution's."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.add(node.id)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and (
                node.value.id in sys.stdlib_module_names):
            modules.add(node.value.id)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                modules.update(".".join(parts[:k]) for k in range(1, len(parts) + 1))
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            parts = node.module.split(".")
            modules.update(".".join(parts[:k]) for k in range(1, len(parts) + 1))
            # `from os import path`: the name may be a submodule (the child skips those that are not)
            modules.update(f"{node.module}.{a.name}" for a in node.names if a.name != "*")


_CONDITIONAL = (ast.If, ast.IfExp, ast.Try, ast.While, ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda,
                ast.ClassDef, ast.Match, ast.BoolOp, getattr(ast, "TryStar", ast.Try))


def _own_nodes(node: ast.AST, kinds: tuple) -> bool:
    """Whether `node` is or holds one of `kinds` outside nested functions, lambdas and classes."""
    if isinstance(node, kinds):
        return True
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
        return False
    return any(_own_nodes(child, kinds) for child in ast.iter_child_nodes(node))


def _report_bounds(tree: ast.Module) -> dict[int, tuple[int, int | None]]:
    """How often each assert of a step must be reported when the step completes: exactly once at top
    level, at least once in a `for` body, any number under a condition or in a nested function."""
    bounds: dict[int, tuple[int, int | None]] = {}

    def walk(node, bound):
        for child in ast.iter_child_nodes(node):
            b = bound
            if isinstance(child, _CONDITIONAL):
                b = (0, None)
            elif isinstance(child, (ast.For, ast.AsyncFor)) and bound != (0, None):
                b = (1, None)
            if isinstance(child, ast.Assert):
                bounds[id(child)] = bound
            walk(child, b)

    walk(tree, (1, 1))
    return bounds


class _Bound(ast.NodeVisitor):
    """Names a step binds at its own level (not inside nested functions, classes or comprehensions)."""

    def __init__(self):
        self.names: set[str] = set()

    def visit_Name(self, node):
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            self.names.add(node.id)

    def visit_FunctionDef(self, node):
        self.names.add(node.name)
        for d in node.decorator_list:
            self.visit(d)

    visit_AsyncFunctionDef = visit_ClassDef = visit_FunctionDef

    def visit_Lambda(self, node):
        pass

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = visit_Lambda

    def visit_Import(self, node):
        self.names.update((a.asname or a.name.split(".")[0]) for a in node.names)

    visit_ImportFrom = visit_Import

    def visit_ExceptHandler(self, node):
        if node.name:
            self.names.add(node.name)
        self.generic_visit(node)


class _ImportSources(_Bound):
    """`_Bound` for the names a step binds other than by imports, and `sources`: {name: {where each import
    of it comes from}} (see _pinned_names; ("?",) for a relative or star import)."""

    def __init__(self):
        super().__init__()
        self.sources: dict[str, set[tuple]] = {}

    def visit_Import(self, node):
        for a in node.names:
            name = a.asname or a.name.partition(".")[0]
            self.sources.setdefault(name, set()).add(("m", a.name if a.asname else name))

    def visit_ImportFrom(self, node):
        for a in node.names:
            where = ("a", node.module, a.name) if node.module and not node.level and a.name != "*" else ("?",)
            self.sources.setdefault(a.asname or a.name, set()).add(where)


def _as_function(tree: ast.Module, pinned: dict[str, tuple] | None = None) -> ast.Module:
    """The step as `def __mtsft_step__(emit, strict, call, env)` whose names it binds are declared global:
    the harness's functions, and the `pinned` names it reads (`abs = env["abs"]`, see _pinned_names), are
    then the step's own locals, which code the step calls cannot rebind by writing to the module's
    globals. (A step with `import *` stays at module level.)"""
    if any(isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names) for n in ast.walk(tree)):
        return tree
    bound, otherwise = _Bound(), _ImportSources()
    for stmt in tree.body:
        bound.visit(stmt)
        otherwise.visit(stmt)
    # a pinned name the step imports (`import math`, `from collections import Counter`) stays its local too
    global_names = bound.names - ((bound.names - otherwise.names) & set(pinned))
    names = sorted(global_names - {EMIT, STRICT, CALL, ENV})
    loads = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    pins = [ast.Assign([ast.Name(n, ast.Store())], ast.Subscript(ast.Name(ENV, ast.Load()), ast.Constant(n), ast.Load()))
            for n in sorted((loads & set(pinned or ())) - global_names)]
    body = ([ast.Global(names)] if names else []) + pins + (tree.body or [ast.Pass()])
    args = ast.arguments([], [ast.arg(n) for n in (EMIT, STRICT, CALL, ENV)], None, [], [], None, [])
    func = ast.FunctionDef(STEP, args, body, [], None, None)
    return ast.fix_missing_locations(ast.Module([func], []))


# ---- the parent's side: running and judging -----------------------------------------------------------

@dataclass
class SandboxResult:
    status: str  # one of STATUSES
    passed: int = 0
    total: int = 0
    detail: str = ""
    seconds: float = 0.0
    stdout: str = field(default="", repr=False)
    mode: str = ""  # which wall ran the code: "bwrap", "unsafe", ...

    @property
    def all_passed(self) -> bool:
        """pass@1 for one sample: every test passed."""
        return self.status == "passed"

    @property
    def fraction(self) -> float:
        """Share of unit tests passed (diagnostics only; scores use `all_passed`)."""
        if self.status not in ("passed", "failed") or self.total == 0:
            return float(self.status == "passed")
        return self.passed / self.total


def _decode(x):
    tag = x[0]
    if tag == "n":
        return None
    if tag in ("T", "F"):
        return tag == "T"
    if tag == "i":
        return int(x[1])
    if tag == "f":
        return float.fromhex(x[1])
    if tag == "c":
        return complex(float.fromhex(x[1]), float.fromhex(x[2]))
    if tag == "s":
        return x[1]
    if tag in ("b", "B"):
        return (bytes if tag == "b" else bytearray).fromhex(x[1])
    if tag == "l":
        return [_decode(v) for v in x[1]]
    if tag == "t":
        return tuple(_decode(v) for v in x[1])
    if tag in ("S", "Z"):
        return (set if tag == "S" else frozenset)(_decode(v) for v in x[1])
    if tag == "q":
        return collections.deque(_decode(v) for v in x[1])
    if tag == "d":
        return {_decode(k): _decode(v) for k, v in x[1]}
    raise ValueError(f"unknown tag {tag!r}")


def judge(plan: TestPlan, channel: bytes, nonce: str) -> tuple[str, int, str]:
    """(status, tests passed, detail) from the result channel's bytes. Fails closed: anything that is
    not exactly the expected conversation is a failure."""
    done, errors, seen, failed_steps = set(), {}, {}, set()
    ended, fatal, expect = False, "", 0
    lines = channel.split(b"\n")
    if lines[-1] == b"":
        lines.pop()  # else a partial last line (the child killed mid-write): it fails to parse below
    for raw in lines:
        if len(raw) > RESULT_LINE_CAP:  # never parsed: its parse alone would grow the evaluator
            return "failed", 0, f"a result line over the {RESULT_LINE_CAP >> 20} MB cap (RESULT_LINE_CAP)"
        try:
            got_nonce, seq, kind, payload = raw.decode("utf-8").split(" ", 3)
            if not secrets.compare_digest(got_nonce, nonce) or int(seq) != expect or ended:
                raise ValueError("bad nonce or sequence")
            expect += 1
            value = json.loads(payload)
            if kind == "Z":
                ended = True
            elif kind == "D" and type(value) is int:
                done.add(value)
            elif kind == "E":
                errors[int(value[0])] = str(value[1])
            elif kind == "X":
                fatal = f"{value[0]}: {value[1]}"
            elif kind == "C":
                k, step, values = value
                if not (0 <= k < len(plan.checks)) or not (0 <= step < len(plan.steps)) or (
                        plan.checks[k].step != step and plan.checks[k].reports != (0, None)):
                    return "forged", 0, "check reported out of place"  # (a nested function's may run later)
                seen[k] = seen.get(k, 0) + 1
                try:
                    ok = not isinstance(values, str) and plan.checks[k].judge([_decode(v) for v in values])
                except (ValueError, TypeError, IndexError, OverflowError, RecursionError):
                    ok = False
                if not ok:
                    failed_steps.add(step)
                    errors.setdefault(step, f"{plan.steps[step][0]} -> assertion failed"
                                            + (f" ({values})" if isinstance(values, str) else ""))
            else:
                raise ValueError(f"unknown line kind {kind!r}")
        except (ValueError, SyntaxError, MemoryError, RecursionError, UnicodeDecodeError, TypeError, IndexError,
                KeyError):
            return "forged", 0, "result channel holds a line the harness did not write"
    for k, c in enumerate(plan.checks):
        low, high = c.reports
        if c.step in done and not (low <= seen.get(k, 0) and (high is None or seen.get(k, 0) <= high)):
            failed_steps.add(c.step)
            errors.setdefault(c.step, f"{plan.steps[c.step][0]} -> a check was not reported as often as it runs")
    done -= failed_steps
    passed = sum(1 for i in range(plan.first_test, len(plan.steps)) if i in done and i not in errors)
    setup_ok = all(i in done and i not in errors for i in range(plan.first_test))
    messages = [errors[i] for i in sorted(errors)]
    if fatal:
        status = _status_of(fatal)
        return status, 0, fatal
    if not setup_ok:
        return _status_of(messages[0] if messages else ""), 0, "set-up failed: " + (messages[0] if messages else "")
    if not ended:
        return "failed", 0, "the child exited before the last test"
    if passed == plan.n_tests and not messages:
        return "passed", passed, ""
    return "failed", passed, messages[0] if messages else "a test was not reported"


def _status_of(message: str) -> str:
    if "SandboxViolation" in message:
        return "refused"
    if "MemoryError" in message:
        return "memory"
    return "error"


# ---- the wall ------------------------------------------------------------------------------------------

UNSAFE_ENV = "MTSFT_UNSAFE_EXEC"
WORK_MB = 16          # the private tmpfs work dir's size, and the largest file the code may write
MAX_OPEN_FILES = 64
MAX_PROCS = 32        # processes of the sandbox's own uid (where it gets one; see _bwrap_identity)
SANDBOX_UID = 65534   # the uid the code sees inside its user namespace


class SandboxUnavailable(RuntimeError):
    """No operating-system isolation here, and unsafe execution was not allowed explicitly."""


def _world_reachable(path: str) -> bool:
    """Every directory above `path` searchable and the file readable by any uid."""
    path = os.path.realpath(path)
    try:
        if not os.stat(path).st_mode & 0o004:
            return False
        parent = os.path.dirname(path)
        while parent != "/":
            if not os.stat(parent).st_mode & 0o001:
                return False
            parent = os.path.dirname(parent)
    except OSError:
        return False
    return True


def _python_for(unprivileged: bool) -> str:
    """The interpreter that runs the code: this one, or (where an unprivileged uid cannot reach this one)
    the system's python3."""
    own = os.path.realpath(sys.executable)
    if not unprivileged or _world_reachable(own):
        return own
    system = shutil.which("python3", path="/usr/bin:/bin")
    return os.path.realpath(system) if system and _world_reachable(system) else ""


def _bwrap_args(python: str) -> list[str]:
    """bubblewrap: new user, PID, mount, IPC, UTS, cgroup and network namespaces, uid 65534 with no
    capabilities, no nested user namespaces, a read-only view of the interpreter and the libraries it
    loads (no /etc, /home, /root, /tmp, project or data folders), a fresh /proc and a minimal /dev, and a
    private size-capped tmpfs as the work dir. It dies with its parent; when its first process exits the
    kernel kills every other process of the PID namespace."""
    args = [shutil.which("bwrap") or "bwrap", "--unshare-all", "--unshare-user", "--disable-userns",
            "--die-with-parent", "--new-session", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID),
            "--cap-drop", "ALL", "--hostname", "sandbox", "--proc", "/proc", "--dev", "/dev",
            # bubblewrap's /dev (and the /dev/shm in it) is a tmpfs as large as the host's, and `--size` caps
            # only `--tmpfs`: read-only, so that the capped work dir is the one place the code can write to
            # (the device nodes are mounts of their own and stay usable)
            "--remount-ro", "/dev"]
    for d in ("/usr/lib", "/usr/lib64", "/usr/lib32"):
        if os.path.isdir(d) and not os.path.islink(d):
            args += ["--ro-bind", d, d]
    for d in ("/lib", "/lib64", "/lib32"):
        if os.path.islink(d):
            args += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            args += ["--ro-bind", d, d]
    args += ["--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    prefix = os.path.dirname(os.path.dirname(python))  # .../bin/python3.x -> ...
    if prefix in ("/usr", "/"):
        args += ["--ro-bind", python, python]
    else:
        args += ["--ro-bind", prefix, prefix]
        version = f"python{sys.version_info.major}.{sys.version_info.minor}"
        for site in (os.path.join(prefix, "lib", version, "site-packages"),):
            if os.path.isdir(site):
                args += ["--tmpfs", site, "--remount-ro", site]  # third-party packages stay out of view
    args += ["--size", str(WORK_MB << 20), "--tmpfs", "/sandbox", "--remount-ro", "/", "--chdir", "/sandbox", "--"]
    return args


def _bwrap_identity() -> dict:
    """Popen keywords that start bubblewrap as a fresh unprivileged uid of its own when mtsft runs as
    root (so that RLIMIT_NPROC counts this sandbox's processes only); nothing otherwise."""
    if os.getuid() != 0:
        return {}
    uid = 1_000_000 + secrets.randbelow(1_000_000)
    return {"user": uid, "group": uid, "extra_groups": []}


# ---- the seccomp filter bubblewrap installs (`--seccomp FD`) ----
# Anonymous memory-backed files are refused: `memfd_create` (33 memfds of 16 MB each held 528 MB under a
# 512 MB address-space limit, as writing to a file maps nothing), `memfd_secret`, System V shared memory and
# message queues and POSIX message queues (segments and queues outlive every mapping and descriptor), and
# io_uring (kernel attack surface no test needs). The program is assembled by hand: it is eight
# instructions plus one per syscall, and no seccomp binding is in the venv (libseccomp's Python bindings
# are a Debian system package, python3-seccomp, that a virtual environment does not see).
_AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
_REFUSED_SYSCALLS = {  # name: (x86_64, aarch64) numbers
    "memfd_create": (319, 279), "memfd_secret": (447, 447), "shmget": (29, 194), "msgget": (68, 186),
    "mq_open": (240, 180), "io_uring_setup": (425, 425)}
_X32_BIT = 0x40000000  # x86_64's x32 ABI: the same calls under other numbers, refused as a whole
_BPF_LD_ABS, _BPF_JEQ, _BPF_JGE, _BPF_RET = 0x20, 0x15, 0x35, 0x06
_RET_ALLOW, _RET_EPERM = 0x7FFF0000, 0x00050000 | 1


def seccomp_program(machine: str | None = None) -> bytes:
    """The classic-BPF seccomp program (struct sock_filter[]) bubblewrap loads: refuse the calls above with
    EPERM, and every call of another architecture (an i386 `int 0x80` from the x86_64 interpreter); b""
    on a machine it has no syscall numbers for."""
    machine = machine or os.uname().machine
    if machine not in _AUDIT_ARCH:
        return b""
    column = list(_AUDIT_ARCH).index(machine)
    numbers = [nrs[column] for nrs in _REFUSED_SYSCALLS.values()]

    def op(code, k, jt=0, jf=0):
        return struct.pack("=HBBI", code, jt, jf, k)

    body = [op(_BPF_LD_ABS, 4),                                  # seccomp_data.arch
            op(_BPF_JEQ, _AUDIT_ARCH[machine], 1, 0), op(_BPF_RET, _RET_EPERM),
            op(_BPF_LD_ABS, 0)]                                  # seccomp_data.nr
    if machine == "x86_64":
        body += [op(_BPF_JGE, _X32_BIT, len(numbers) + 1, 0)]
    body += [op(_BPF_JEQ, nr, len(numbers) - i, 0) for i, nr in enumerate(numbers)]
    return b"".join(body + [op(_BPF_RET, _RET_ALLOW), op(_BPF_RET, _RET_EPERM)])


def _with_seccomp(prefix: list[str]) -> tuple[list[str], int | None]:
    """The bubblewrap command with `--seccomp FD` added, and FD (a pipe holding the program, to pass to
    the child and close after starting it); unchanged where this machine has no program."""
    program = seccomp_program()
    if not program:
        return prefix, None
    r, w = os.pipe()
    try:
        os.write(w, program)  # a few hundred bytes: far below a pipe's buffer
    finally:
        os.close(w)
    return [prefix[0], "--seccomp", str(r), *prefix[1:]], r


@lru_cache(maxsize=4)
def _bwrap_works(python: str, as_other_uid: bool) -> bool:
    if not python or not shutil.which("bwrap"):
        return False
    cmd, fd = _with_seccomp(_bwrap_args(python) + [python, "-I", "-S", "-c", "import os; open('probe', 'w').write('x')"])
    try:
        return subprocess.run(cmd, capture_output=True, timeout=20, cwd="/", pass_fds=(fd,) if fd is not None else (),
                              **(_bwrap_identity() if as_other_uid else {})).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False
    finally:
        if fd is not None:
            os.close(fd)


def _wall(allow_unsafe: bool | None) -> tuple[str, list[str], dict]:
    """(mode, command prefix up to the interpreter, extra Popen keywords) for this machine."""
    unprivileged = os.getuid() == 0
    python = _python_for(unprivileged)
    if unprivileged and _bwrap_works(python, True):
        return "bwrap", _bwrap_args(python) + [python], _bwrap_identity()
    own = os.path.realpath(sys.executable)
    if _bwrap_works(own, False):
        return "bwrap", _bwrap_args(own) + [own], {}
    if allow_unsafe is None:
        allow_unsafe = os.environ.get(UNSAFE_ENV, "").strip().lower() in ("1", "true", "yes")
    if not allow_unsafe:
        raise SandboxUnavailable(
            "refusing to run generated code: bubblewrap (bwrap) is missing or cannot create namespaces here. "
            "Install bubblewrap, or allow running it without isolation: `mtsft eval score --unsafe-exec`, "
            f"`mtsft eval run --unsafe-exec`, or {UNSAFE_ENV}=1 for any command.")
    return "unsafe", [*_network_isolation_prefix(), sys.executable], {}


def mode(allow_unsafe: bool | None = None) -> str:
    """Which wall generated code runs behind here: "bwrap", "unsafe" (only when allowed explicitly), or
    "unavailable"; for reports."""
    try:
        return _wall(allow_unsafe)[0]
    except SandboxUnavailable:
        return "unavailable"


@lru_cache(maxsize=1)
def _network_isolation_prefix() -> tuple[str, ...]:
    """`unshare -rn` (new user + network namespace) when this kernel lets this process use it."""
    exe = shutil.which("unshare")
    if not exe:
        return ()
    try:
        ok = subprocess.run([exe, "-rn", "true"], capture_output=True, timeout=5).returncode == 0
    except (OSError, subprocess.SubprocessError):
        ok = False
    return (exe, "-rn") if ok else ()


def _lower(which: int, soft: int, hard: int) -> None:
    """Set a limit no higher than the one already in force: raising a hard limit fails (a user's
    `ulimit -n 48` made every child die in preexec_fn), and a lower limit is only stricter."""
    now_soft, now_hard = resource.getrlimit(which)
    if now_hard != resource.RLIM_INFINITY:
        hard = min(hard, now_hard)
    resource.setrlimit(which, (min(soft, hard), hard))


def _limits(memory_mb: int, cpu_seconds: int, nproc: bool):
    def apply() -> None:  # runs in the child between fork and exec; bubblewrap and the code inherit them
        mem = memory_mb * 1024 * 1024
        _lower(resource.RLIMIT_AS, mem, mem)
        _lower(resource.RLIMIT_CPU, cpu_seconds, cpu_seconds + 1)
        _lower(resource.RLIMIT_FSIZE, WORK_MB << 20, WORK_MB << 20)
        _lower(resource.RLIMIT_CORE, 0, 0)
        _lower(resource.RLIMIT_NOFILE, MAX_OPEN_FILES, MAX_OPEN_FILES)
        if nproc:  # only where the sandbox has a uid of its own: the count is per uid, host-wide
            _lower(resource.RLIMIT_NPROC, MAX_PROCS, MAX_PROCS)
    return apply


def run_tests(code: str, tests: list[str] | tuple[str, ...] = (), *, setup: str = "", check: str = "",
              entry_point: str = "", timeout: float = 5.0, memory_mb: int = 512,
              allow_unsafe: bool | None = None) -> SandboxResult:
    """Run `code`, then each test (e.g. "assert f(2) == 4"; MBPP `setup` code; a HumanEval `check`
    source with its `entry_point`) in a sandboxed subprocess; the parent judges the results.
    `allow_unsafe` (default: the MTSFT_UNSAFE_EXEC environment variable) lets code run without
    operating-system isolation where bubblewrap cannot; otherwise that raises SandboxUnavailable."""
    start = time.perf_counter()
    wall, prefix, identity = _wall(allow_unsafe)
    try:
        plan = plan_tests(tests, setup=setup, check=check, entry_point=entry_point)
    except SyntaxError as e:
        return SandboxResult("error", total=len(tests), detail=f"test does not parse: {e}", mode=wall)
    total = plan.n_tests
    nonce = secrets.token_hex(16)
    spec = marshal.dumps({"nonce": nonce, "code": code, "steps": plan.steps, "first_test": plan.first_test,
                          "names": plan.names, "modules": plan.modules, "pinned": plan.pinned, "entry": entry_point,
                          "line_cap": RESULT_LINE_CAP})
    runner = _RUNNER.replace("%HOOK%", _HOOK)
    with tempfile.TemporaryDirectory(prefix="mtsft-sandbox-") as tmp:
        r, w = os.pipe()
        prefix, filter_fd = _with_seccomp(prefix) if wall == "bwrap" else (prefix, None)
        home = "/sandbox" if wall == "bwrap" else tmp
        env = {"PATH": "/usr/bin:/bin", "HOME": home, "TMPDIR": home, "PYTHONDONTWRITEBYTECODE": "1",
               "PYTHONHASHSEED": "0", "LANG": "C.UTF-8"}
        try:
            proc = subprocess.Popen([*prefix, "-I", "-S", "-c", runner, str(w)], cwd=tmp if wall != "bwrap" else "/",
                                    env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    start_new_session=True, pass_fds=(w,) if filter_fd is None else (w, filter_fd),
                                    preexec_fn=_limits(memory_mb, int(timeout) + 1, bool(identity)), **identity)
        finally:
            os.close(w)
            if filter_fd is not None:
                os.close(filter_fd)
        out, err, channel, timed_out, flooded = _communicate(proc, r, spec, timeout)
    seconds = time.perf_counter() - start
    stdout = out.decode("utf-8", "replace")
    if flooded:
        return SandboxResult("failed", total=total, detail="result channel over its byte cap", seconds=seconds,
                             stdout=stdout, mode=wall)
    status, passed, detail = judge(plan, channel, nonce)
    if timed_out and status != "passed":
        status, detail = "timeout", f"killed after {timeout:g} s"
    if status == "failed" and not channel and proc.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        status, detail = "timeout", "CPU limit reached"
    if status == "failed" and not channel:
        tail = err.decode("utf-8", "replace").strip().splitlines()
        if tail and "MemoryError" in tail[-1]:
            status = "memory"
        detail = tail[-1][:300] if tail else f"exit code {proc.returncode}"
    return SandboxResult(status, passed if status in ("passed", "failed") else 0, total, detail, seconds, stdout,
                         mode=wall)


def _communicate(proc: subprocess.Popen, result_fd: int, spec: bytes, timeout: float):
    """Feed the spec, read stdout/stderr (each capped) and the result channel until the child exits or
    the deadline passes; then kill the whole process group. Returns (stdout, stderr, channel, timed out,
    channel flooded)."""
    deadline = time.monotonic() + timeout
    out_fd, err_fd = proc.stdout.fileno(), proc.stderr.fileno()
    files = {out_fd: proc.stdout, err_fd: proc.stderr}
    bufs = {out_fd: bytearray(), err_fd: bytearray(), result_fd: bytearray()}
    caps = {out_fd: OUTPUT_CAP, err_fd: OUTPUT_CAP, result_fd: RESULT_CAP}
    open_fds = set(bufs)
    timed_out = flooded = False
    try:
        proc.stdin.write(spec)
        proc.stdin.close()
    except OSError:
        pass
    try:
        exited = 0.0
        while open_fds and not flooded:
            left = deadline - time.monotonic()
            if left <= 0 and not exited:
                timed_out = True
                break
            ready, _, _ = select.select(list(open_fds), [], [], 0 if exited else min(left, 0.2))
            if exited and (not ready or time.monotonic() > exited + 0.2):
                break  # the child is gone: what a survivor writes later is ignored
            for fd in ready:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    open_fds.discard(fd)
                    continue
                bufs[fd] += chunk
                if len(bufs[fd]) > caps[fd]:
                    del bufs[fd][caps[fd]:]
                    open_fds.discard(fd)
                    if fd == result_fd:
                        flooded = True
                    else:
                        files[fd].close()  # the child's writes now fail instead of filling our memory
            if not exited and proc.poll() is not None:
                exited = time.monotonic()
    finally:
        _kill_group(proc)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for f in files.values():
            if not f.closed:
                f.close()
        os.close(result_fd)
    return bytes(bufs[out_fd]), bytes(bufs[err_fd]), bytes(bufs[result_fd]), timed_out, flooded


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass

