"""Code specs with reference solutions and unit tests (written for this project).

Each spec is a function of the RNG so that constants (the divisor, the threshold, the function name)
vary: a few dozen specs then give thousands of distinct prompts, each with tests that pin the behaviour.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from mtsft.tasks.builtin.content_code import MORE_SPECS

Spec = dict  # {"name", "en", "zh", "solution", "tests": [assert statements]}


def _name(rng: random.Random, *choices: str) -> str:
    return rng.choice(choices)


def reverse_string(rng):
    name = _name(rng, "reverse_string", "reverse_text", "flip_string")
    return {"name": name, "en": f"`{name}(s)` that returns the string `s` reversed",
            "zh": f"`{name}(s)`，返回把字符串 `s` 反转后的结果",
            "solution": f"def {name}(s):\n    return s[::-1]\n",
            "tests": [f"assert {name}('abc') == 'cba'", f"assert {name}('') == ''", f"assert {name}('level') == 'level'"]}


def is_prime(rng):
    name = _name(rng, "is_prime", "check_prime", "prime")
    return {"name": name, "en": f"`{name}(n)` that returns True if the integer `n` is a prime number and False otherwise",
            "zh": f"`{name}(n)`，判断整数 `n` 是否为质数，是则返回 True，否则返回 False",
            "solution": (f"def {name}(n):\n    if n < 2:\n        return False\n    i = 2\n    while i * i <= n:\n"
                         f"        if n % i == 0:\n            return False\n        i += 1\n    return True\n"),
            "tests": [f"assert {name}(2)", f"assert {name}(97)", f"assert not {name}(1)", f"assert not {name}(91)"]}


def sum_multiples(rng):
    k = rng.randint(2, 9)
    name = _name(rng, "sum_multiples", "multiples_sum", f"sum_of_multiples_of_{k}")
    return {"name": name, "en": f"`{name}(n)` that returns the sum of all positive multiples of {k} that are smaller than `n`",
            "zh": f"`{name}(n)`，返回所有小于 `n` 的 {k} 的正倍数之和",
            "solution": f"def {name}(n):\n    return sum(range({k}, n, {k})) if n > {k} else 0\n",
            "tests": [f"assert {name}({10 * k + 1}) == {sum(range(k, 10 * k + 1, k))}", f"assert {name}(1) == 0",
                      f"assert {name}({k}) == 0"]}


def count_char(rng):
    c = rng.choice("aeiostx")
    name = _name(rng, "count_char", f"count_{c}", "occurrences")
    return {"name": name, "en": f"`{name}(text)` that returns how many times the letter '{c}' appears in `text` (case-insensitive)",
            "zh": f"`{name}(text)`，返回字母 '{c}' 在 `text` 中出现的次数（不区分大小写）",
            "solution": f"def {name}(text):\n    return text.lower().count('{c}')\n",
            "tests": [f"assert {name}('{c}{c.upper()}b{c}') == 3", f"assert {name}('') == 0", f"assert {name}('zzz') == 0"]}


def greater_than(rng):
    t = rng.randint(0, 50)
    name = _name(rng, "filter_greater", "above_threshold", "keep_large")
    nums = sorted(rng.sample(range(-10, 100), 6))
    return {"name": name, "en": f"`{name}(nums)` that returns a new list with the numbers in `nums` greater than {t}, in their original order",
            "zh": f"`{name}(nums)`，返回一个新列表，包含 `nums` 中所有大于 {t} 的数，保持原来的顺序",
            "solution": f"def {name}(nums):\n    return [x for x in nums if x > {t}]\n",
            "tests": [f"assert {name}({nums}) == {[x for x in nums if x > t]}", f"assert {name}([]) == []",
                      f"assert {name}([{t}]) == []"]}


def factorial(rng):
    name = _name(rng, "factorial", "fact", "compute_factorial")
    return {"name": name, "en": f"`{name}(n)` that returns n! for a non-negative integer `n` (0! is 1)",
            "zh": f"`{name}(n)`，对非负整数 `n` 返回 n 的阶乘（0 的阶乘为 1）",
            "solution": f"def {name}(n):\n    result = 1\n    for i in range(2, n + 1):\n        result *= i\n    return result\n",
            "tests": [f"assert {name}(0) == 1", f"assert {name}(5) == 120", f"assert {name}(10) == 3628800"]}


def fibonacci(rng):
    name = _name(rng, "fibonacci", "fib", "nth_fibonacci")
    return {"name": name, "en": f"`{name}(n)` that returns the n-th Fibonacci number, with {name}(0) = 0 and {name}(1) = 1",
            "zh": f"`{name}(n)`，返回第 n 个斐波那契数，其中 {name}(0) = 0，{name}(1) = 1",
            "solution": f"def {name}(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n",
            "tests": [f"assert {name}(0) == 0", f"assert {name}(1) == 1", f"assert {name}(10) == 55"]}


def repeat_words(rng):
    k = rng.randint(2, 4)
    name = _name(rng, "repeat_words", "echo_words", f"repeat_{k}_times")
    return {"name": name, "en": f"`{name}(words)` that returns a list where every word of `words` appears {k} times in a row",
            "zh": f"`{name}(words)`，返回一个列表，其中 `words` 里的每个词连续出现 {k} 次",
            "solution": f"def {name}(words):\n    return [w for w in words for _ in range({k})]\n",
            "tests": [f"assert {name}(['a', 'b']) == {['a'] * k + ['b'] * k}", f"assert {name}([]) == []"]}


def gcd(rng):
    name = _name(rng, "gcd", "greatest_common_divisor", "common_divisor")
    return {"name": name, "en": f"`{name}(a, b)` that returns the greatest common divisor of two positive integers",
            "zh": f"`{name}(a, b)`，返回两个正整数的最大公约数",
            "solution": f"def {name}(a, b):\n    while b:\n        a, b = b, a % b\n    return a\n",
            "tests": [f"assert {name}(12, 18) == 6", f"assert {name}(7, 13) == 1", f"assert {name}(100, 25) == 25"]}


def word_count(rng):
    name = _name(rng, "word_count", "count_words", "word_frequencies")
    return {"name": name, "en": f"`{name}(text)` that returns a dict mapping each lower-cased word of `text` (split on whitespace) to how often it occurs",
            "zh": f"`{name}(text)`，返回一个字典，统计 `text` 中每个单词（按空白分割并转成小写）出现的次数",
            "solution": (f"def {name}(text):\n    counts = {{}}\n    for word in text.lower().split():\n"
                         f"        counts[word] = counts.get(word, 0) + 1\n    return counts\n"),
            "tests": [f"assert {name}('a b A') == {{'a': 2, 'b': 1}}", f"assert {name}('') == {{}}"]}


def celsius(rng):
    digits = rng.randint(0, 2)
    name = _name(rng, "c_to_f", "celsius_to_fahrenheit", "to_fahrenheit")
    return {"name": name, "en": f"`{name}(c)` that converts a temperature from Celsius to Fahrenheit, rounded to {digits} decimal places",
            "zh": f"`{name}(c)`，把摄氏温度转换为华氏温度，结果保留 {digits} 位小数",
            "solution": f"def {name}(c):\n    return round(c * 9 / 5 + 32, {digits})\n",
            "tests": [f"assert {name}(100) == 212", f"assert {name}(0) == 32", f"assert {name}(37.5) == {round(37.5 * 9 / 5 + 32, digits)}"]}


def is_anagram(rng):
    name = _name(rng, "is_anagram", "are_anagrams", "anagram")
    return {"name": name, "en": f"`{name}(a, b)` that returns True when the strings `a` and `b` contain the same letters in a different or the same order, ignoring case and spaces",
            "zh": f"`{name}(a, b)`，忽略大小写和空格，判断字符串 `a` 和 `b` 是否由相同的字母组成",
            "solution": f"def {name}(a, b):\n    norm = lambda s: sorted(s.replace(' ', '').lower())\n    return norm(a) == norm(b)\n",
            "tests": [f"assert {name}('Listen', 'Silent')", f"assert not {name}('abc', 'abd')", f"assert {name}('a b', 'ba')"]}


def run_length(rng):
    name = _name(rng, "run_length_encode", "rle", "compress")
    return {"name": name, "en": f"`{name}(s)` that run-length encodes `s`, e.g. 'aaabcc' becomes 'a3b1c2'",
            "zh": f"`{name}(s)`，对字符串 `s` 做游程编码，例如 'aaabcc' 变成 'a3b1c2'",
            "solution": (f"def {name}(s):\n    out = []\n    i = 0\n    while i < len(s):\n        j = i\n"
                         f"        while j < len(s) and s[j] == s[i]:\n            j += 1\n"
                         f"        out.append(s[i] + str(j - i))\n        i = j\n    return ''.join(out)\n"),
            "tests": [f"assert {name}('aaabcc') == 'a3b1c2'", f"assert {name}('') == ''", f"assert {name}('z') == 'z1'"]}


def second_largest(rng):
    name = _name(rng, "second_largest", "runner_up", "second_max")
    return {"name": name, "en": f"`{name}(nums)` that returns the second largest distinct value in `nums`, or None if there is none",
            "zh": f"`{name}(nums)`，返回 `nums` 中第二大的不同数值，如果不存在则返回 None",
            "solution": f"def {name}(nums):\n    values = sorted(set(nums))\n    return values[-2] if len(values) > 1 else None\n",
            "tests": [f"assert {name}([3, 1, 4, 4]) == 3", f"assert {name}([5]) is None", f"assert {name}([2, 2]) is None"]}


def chunk(rng):
    size = rng.randint(2, 4)
    name = _name(rng, "chunk", "split_into_chunks", "batched")
    items = list(range(1, 2 * size + 2))
    return {"name": name, "en": f"`{name}(items)` that splits the list `items` into consecutive chunks of {size} (the last chunk may be shorter)",
            "zh": f"`{name}(items)`，把列表 `items` 按顺序切成每块 {size} 个元素的小列表（最后一块可以更短）",
            "solution": f"def {name}(items):\n    return [items[i:i + {size}] for i in range(0, len(items), {size})]\n",
            "tests": [f"assert {name}({items}) == {[items[i:i + size] for i in range(0, len(items), size)]}",
                      f"assert {name}([]) == []"]}


def capitalize_words(rng):
    name = _name(rng, "title_case", "capitalize_words", "capitalize_each")
    return {"name": name, "en": f"`{name}(text)` that upper-cases the first letter of every space-separated word and lower-cases the rest",
            "zh": f"`{name}(text)`，把每个以空格分隔的单词首字母大写，其余字母小写",
            "solution": f"def {name}(text):\n    return ' '.join(w[:1].upper() + w[1:].lower() for w in text.split(' '))\n",
            "tests": [f"assert {name}('hello WORLD') == 'Hello World'", f"assert {name}('a') == 'A'"]}


def digit_sum(rng):
    name = _name(rng, "digit_sum", "sum_digits", "add_digits")
    return {"name": name, "en": f"`{name}(n)` that returns the sum of the decimal digits of the non-negative integer `n`",
            "zh": f"`{name}(n)`，返回非负整数 `n` 各位数字之和",
            "solution": f"def {name}(n):\n    return sum(int(d) for d in str(n))\n",
            "tests": [f"assert {name}(0) == 0", f"assert {name}(1234) == 10", f"assert {name}(99) == 18"]}


def clamp(rng):
    lo, hi = sorted(rng.sample(range(-20, 40), 2))
    name = _name(rng, "clamp", "limit", "bound")
    return {"name": name, "en": f"`{name}(x)` that returns `x` limited to the range [{lo}, {hi}]",
            "zh": f"`{name}(x)`，把 `x` 限制在区间 [{lo}, {hi}] 之内并返回",
            "solution": f"def {name}(x):\n    return max({lo}, min({hi}, x))\n",
            "tests": [f"assert {name}({lo - 5}) == {lo}", f"assert {name}({hi + 5}) == {hi}", f"assert {name}({lo}) == {lo}"]}


SPECS: list[Callable[[random.Random], Spec]] = [
    reverse_string, is_prime, sum_multiples, count_char, greater_than, factorial, fibonacci, repeat_words, gcd,
    word_count, celsius, is_anagram, run_length, second_largest, chunk, capitalize_words, digit_sum, clamp,
]
# 93 more, written as data (tests computed from the reference): see content_code.py
SPECS += MORE_SPECS
