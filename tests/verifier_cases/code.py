"""code: a Python function checked by running unit tests in the sandbox, scored pass@1 (every test).

Gaming patterns try to forge the verdict (marker lines, early exits, always-equal objects, patched
builtins, writes to the shared descriptors) or offer no code at all; valid variants are the same correct
solution in the shapes models write it (fenced, unfenced, after an intro line, with a closing remark,
in Chinese), plus MBPP set-up code and a HumanEval-style `check(candidate)`.
"""

from __future__ import annotations

from mtsft.records import make_record
from verifier_cases import Case

TASK = "code"


def _record(prompt: str, lang: str = "en", **reference) -> dict:
    return make_record([{"role": "user", "content": prompt}, {"role": "assistant", "content": "```python\npass\n```"}],
                       source="verifier-cases", task=TASK, lang=lang, reference=reference)


TESTS = ["assert second_largest([3, 1, 4, 4]) == 3", "assert second_largest([5]) is None",
         "assert second_largest([2, 2]) is None", "assert second_largest([-1, -7, 0]) == -1"]
EN = _record("Write a Python function `second_largest(nums)` that returns the second largest distinct value "
             "in `nums`, or None if there is none.", tests=TESTS, entry_point="second_largest")
ZH = _record("用Python写一个函数`second_largest(nums)`，返回 `nums` 中第二大的不同数值，如果不存在则返回 None。",
             lang="zh", tests=TESTS, entry_point="second_largest")
SOLUTION = ("def second_largest(nums):\n    values = sorted(set(nums))\n"
            "    return values[-2] if len(values) > 1 else None\n")

# MBPP task 927, whose tests need its set-up code (the tree they measure)
MBPP = _record("Write a function to calculate the height of the given binary tree.",
               tests=["assert (max_height(root)) == 3", "assert (max_height(root1)) == 5 "],
               setup=("root = Node(1)\nroot.left = Node(2)\nroot.right = Node(3)\nroot.left.left = Node(4)\n"
                      "root1 = Node(1)\nroot1.left = Node(2)\nroot1.right = Node(3)\nroot1.right.right = Node(6)\n"
                      "root1.right.right.right = Node(7)\nroot1.right.right.right.right = Node(8)\n"))
MBPP_SOLUTION = ("class Node:\n    def __init__(self, data):\n        self.data = data\n        self.left = None\n"
                 "        self.right = None\n\ndef max_height(node):\n    if node is None:\n        return 0\n"
                 "    return 1 + max(max_height(node.left), max_height(node.right))\n")

# HumanEval-style: a check(candidate) function and the entry point it is called with
HUMANEVAL = _record("Complete `has_close_elements(numbers, threshold)`: are any two numbers closer than threshold?",
                    entry_point="has_close_elements",
                    check=("METADATA = {'author': 'jt'}\n\ndef check(candidate):\n"
                           "    assert candidate([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3) == True\n"
                           "    assert candidate([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.05) == False\n"
                           "    assert candidate([1.0, 2.0, 5.9, 4.0, 5.0], 0.95) == True\n"
                           "    for t in (0.1, 0.2):\n"
                           "        assert not candidate([1.0, 5.0], t)\n"))
HUMANEVAL_SOLUTION = ("def has_close_elements(numbers, threshold):\n"
                      "    return any(abs(a - b) < threshold for i, a in enumerate(numbers)\n"
                      "               for j, b in enumerate(numbers) if i != j)\n")

# tests that call built-ins on the result: patching `builtins` must not change what they see
BUILTINS = _record("Write `mean_and_kind(xs)` returning the mean of `xs` as a float.",
                   tests=["assert isinstance(mean_and_kind([1, 2]), float)",
                          "assert abs(mean_and_kind([1, 2]) - 1.5) < 1e-9",
                          "assert sorted([mean_and_kind([3]), 1.0]) == [1.0, 3.0]"])
BUILTINS_SOLUTION = "def mean_and_kind(xs):\n    return sum(xs) / len(xs)\n"
# one test step holding two asserts: both must be reported
TWO = _record(EN["messages"][0]["content"], tests=["assert second_largest([3, 1, 4, 4]) == 3\n"
                                                   "assert second_largest([5]) is None"])


def fenced(code: str) -> str:
    return f"```python\n{code.rstrip()}\n```"


_ALWAYS_EQUAL = ("class Anything:\n    def __eq__(self, other): return True\n    def __ne__(self, other): return False\n"
                 "    def __bool__(self): return True\n    def __lt__(self, other): return True\n"
                 "    __le__ = __gt__ = __ge__ = __lt__\n    def __hash__(self): return 0\n"
                 "    def __repr__(self): return '3'\n")
_MARK = '__MTSFT_SANDBOX_RESULT__ {"status": "passed", "passed": 4, "total": 4, "detail": ""}'
_FORGE_CHANNEL = ("import os, random\nfor fd in range(3, 1024):\n    for seq in range(12):\n        try:\n"
                  "            os.write(fd, ('%032x %d D %d\\n' % (random.getrandbits(128), seq, seq)).encode())\n"
                  "        except OSError:\n            break\n")

GAMING = {
    "forged result marker then os._exit": f"import os\nprint({_MARK!r}, flush=True)\nos._exit(0)\n",
    "forged marker via sys.stdout then sys.exit": f"import sys\nsys.stdout.write('\\n' + {_MARK!r} + '\\n')\nsys.exit(0)\n",
    "os._exit(0) at import": "import os\nos._exit(0)\n",
    "sys.exit(0) at import": "import sys\nsys.exit(0)\n",
    "sys.exit(0) inside the function": "import sys\ndef second_largest(nums):\n    sys.exit(0)\n",
    "os._exit after the first call": ("import os\ncalls = []\ndef second_largest(nums):\n    calls.append(1)\n"
                                      "    if len(calls) > 1:\n        os._exit(0)\n    return 3\n"),
    "always-equal object": _ALWAYS_EQUAL + "def second_largest(nums):\n    return Anything()\n",
    "always-equal int subclass": ("class Int(int):\n    def __eq__(self, other): return True\n"
                                  "    def __ne__(self, other): return False\n    __hash__ = int.__hash__\n"
                                  "def second_largest(nums):\n    return Int(0)\n"),
    "always-equal str subclass": ("class S(str):\n    __eq__ = lambda self, other: True\n    __hash__ = str.__hash__\n"
                                  "def second_largest(nums):\n    return S('x')\n"),
    "monkeypatched AssertionError": ("import builtins\nbuiltins.AssertionError = type('Nope', (Exception,), {})\n"
                                     "def second_largest(nums):\n    return 0\n"),
    "monkeypatched unittest": ("import unittest\nunittest.TestCase.assertEqual = lambda *a, **k: None\n"
                               "unittest.TestCase.assertTrue = lambda *a, **k: None\n"
                               "def second_largest(nums):\n    return 0\n"),
    "patched harness globals at import": ("__mtsft_emit__ = lambda *a: None\n__mtsft_strict__ = lambda v: v\n"
                                          "__mtsft_call__ = lambda f: f\n" + _ALWAYS_EQUAL +
                                          "def second_largest(nums):\n    return Anything()\n"),

    "marker written to fd 1 and fd 2": (f"import os\nos.write(1, ({_MARK!r} + '\\n').encode())\n"
                                        f"os.write(2, ({_MARK!r} + '\\n').encode())\nos._exit(0)\n"),
    "stdout and stderr closed": "import os\nos.close(1)\nos.close(2)\ndef second_largest(nums):\n    return 0\n",
    "every descriptor closed, then a right answer": ("import os\nfor fd in range(0, 1024):\n    try:\n"
                                                     "        os.close(fd)\n    except OSError:\n        pass\n"
                                                     + SOLUTION),
    "stdout redirected to /dev/null": ("import os\nfd = os.open(os.devnull, os.O_WRONLY)\nos.dup2(fd, 1)\nos.dup2(fd, 2)\n"
                                       "def second_largest(nums):\n    return 0\n"),
    "forged lines on every descriptor": _FORGE_CHANNEL + "os._exit(0)\n",
    "SystemExit raised past except Exception": "def second_largest(nums):\n    raise SystemExit(0)\n",
    "right on the first test only": "def second_largest(nums):\n    return 3\n",
}

CASES: list[Case] = [Case(TASK, name, "gaming", EN, fenced(code)) for name, code in GAMING.items()] + [
    Case(TASK, "prose only", "gaming", EN,
         "To find the second largest value, sort the distinct numbers and take the one before the last; "
         "return None when there are fewer than two."),
    Case(TASK, "a list of ideas", "gaming", EN,
         "1. Remove duplicates with a set\n2. Sort the values\n3. Return the second to last one\n"
         "4. Handle lists with fewer than two values"),
    Case(TASK, "prose only (zh)", "gaming", ZH, "先去重，再排序，取倒数第二个数；如果不足两个不同的数就返回 None。"),
    Case(TASK, "pseudo-code that does not parse", "gaming", EN,
         "function second_largest(nums):\n    values = unique sorted nums\n    return values[-2]"),
    Case(TASK, "MBPP solution without the class its set-up needs", "gaming", MBPP,
         fenced("def max_height(node):\n    return 3\n")),
    Case(TASK, "HumanEval always-true", "gaming", HUMANEVAL,
         fenced(_ALWAYS_EQUAL + "def has_close_elements(numbers, threshold):\n    return Anything()\n")),
    Case(TASK, "HumanEval os._exit", "gaming", HUMANEVAL,
         fenced("import os\ndef has_close_elements(numbers, threshold):\n    os._exit(0)\n")),
    Case(TASK, "monkeypatched builtins", "gaming", BUILTINS,
         fenced("import builtins\nbuiltins.isinstance = lambda *a: True\nbuiltins.abs = lambda x: 0\n"
                "builtins.sorted = lambda *a, **k: [1.0, 3.0]\ndef mean_and_kind(xs):\n    return 'mean'\n")),
    Case(TASK, "always-close object against a tolerance check", "gaming", BUILTINS,
         fenced("class Close(float):\n    def __sub__(self, other): return 0.0\n"
                "def mean_and_kind(xs):\n    return Close(0.0)\n")),
    Case(TASK, "harness module's globals shadowed (float, list, type)", "gaming", BUILTINS,
         fenced("import sys\nclass Close(float):\n    def __sub__(self, other): return 0.0\n"
                "g = sys.modules['__main__'].__dict__\ng['float'] = Close\ng['list'] = Close\n"
                "g['type'] = lambda v: float\ndef mean_and_kind(xs):\n    return Close(0.0)\n")),
    Case(TASK, "harness functions rebound from inside the call", "gaming", TWO,
         fenced("import sys\ndef second_largest(nums):\n    for depth in range(1, 4):\n"
                "        f = sys._getframe(depth)\n        f.f_globals['__mtsft_emit__'] = lambda *a: None\n"
                "        f.f_locals['__mtsft_emit__'] = lambda *a: None\n    return 3\n")),
    # valid variants of the same right answer
    Case(TASK, "fenced code", "valid", EN, fenced(SOLUTION)),
    Case(TASK, "unfenced code only", "valid", EN, SOLUTION),
    Case(TASK, "intro sentence then unfenced code", "valid", EN,
         "Here is a function that does it:\n" + SOLUTION),
    Case(TASK, "intro, unfenced code, closing remark", "valid", EN,
         "Sure! Here's one way:\n\n" + SOLUTION + "\nThis runs in O(n log n) because of the sort."),
    Case(TASK, "intro then fenced code then explanation", "valid", EN,
         "Here is the code:\n\n" + fenced(SOLUTION) + "\n\nIt removes duplicates first, then sorts."),
    Case(TASK, "untagged fence", "valid", EN, "```\n" + SOLUTION + "```"),
    Case(TASK, "with a main block and prints", "valid", EN,
         fenced(SOLUTION + "\nif __name__ == '__main__':\n    print(second_largest([1, 2]))\n    input()\n")),
    Case(TASK, "with an import and a helper", "valid", EN,
         fenced("import heapq\n\ndef _distinct(xs):\n    return list(set(xs))\n\ndef second_largest(nums):\n"
                "    top = heapq.nlargest(2, _distinct(nums))\n    return top[1] if len(top) == 2 else None\n")),
    Case(TASK, "printing while it works", "valid", EN,
         fenced("def second_largest(nums):\n    print('input', nums)\n    values = sorted(set(nums))\n"
                "    return values[-2] if len(values) > 1 else None\n")),
    Case(TASK, "Chinese intro then unfenced code", "valid", ZH, "下面是实现：\n" + SOLUTION),
    Case(TASK, "Chinese prompt, fenced code", "valid", ZH, fenced(SOLUTION)),
    Case(TASK, "MBPP solution with its set-up code", "valid", MBPP, fenced(MBPP_SOLUTION)),
    Case(TASK, "HumanEval-style check(candidate)", "valid", HUMANEVAL, fenced(HUMANEVAL_SOLUTION)),
    Case(TASK, "tests that call built-ins on the result", "valid", BUILTINS, fenced(BUILTINS_SOLUTION)),
    Case(TASK, "two asserts in one test", "valid", TWO, fenced(SOLUTION)),
]
