"""Math problem kinds (written for this project): arithmetic structures, each told as several scenarios.

A kind is a scenario: its own problem text and worked solution in English and Chinese, over the numbers one
structure draws (`STRUCTURES`). The worked solution names the scenario's things and units, so two kinds never
share a worked answer once digits are masked; that masked worked answer is the kind's "skeleton". The eight
original kinds of `math._problem` stay as kinds too ("legacy-0".."legacy-7"). The train / held-out split is
over kinds (`partition`), so an evaluation problem is a kind training never saw.
"""

from __future__ import annotations

import random

from mtsft.tasks.builtin import content
from mtsft.tasks.builtin import partition as P
from mtsft.tasks.builtin import tables as T


def _g_groups(rng):
    a, b, c = rng.randint(2, 30), rng.randint(2, 9), rng.randint(3, 12)
    return {"a": a, "b": b, "c": c, "bc": b * c, "ans": a + b * c}


def _g_rate(rng):
    v, t = rng.randint(3, 40), rng.randint(2, 9)
    return {"v": v, "t": t, "ans": v * t}


def _g_discount(rng):
    p, d = rng.randint(3, 30) * 20, rng.choice([10, 20, 25, 50])
    return {"p": p, "d": d, "off": p * d // 100, "ans": p - p * d // 100}


def _g_share(rng):
    n, k = rng.randint(3, 12), rng.randint(2, 9)
    return {"n": n, "total": n * k, "ans": k}


def _g_area(rng):
    w, h = rng.randint(3, 25), rng.randint(3, 25)
    return {"w": w, "h": h, "ans": w * h}


def _g_left(rng):
    c = rng.randint(20, 60) * 10
    a, b = rng.randint(20, 90), rng.randint(20, 90)
    return {"c": c, "a": a, "b": b, "ab": a + b, "ans": c - a - b}


def _g_two_prices(rng):
    p1, q1, p2, q2 = rng.randint(2, 15), rng.randint(2, 8), rng.randint(2, 15), rng.randint(2, 8)
    return {"p1": p1, "q1": q1, "p2": p2, "q2": q2, "t1": p1 * q1, "t2": p2 * q2, "ans": p1 * q1 + p2 * q2}


def _g_change(rng):
    price, q = rng.randint(3, 20), rng.randint(2, 6)
    cost = price * q
    paid = (cost // 50 + 1) * 50
    return {"price": price, "q": q, "cost": cost, "paid": paid, "ans": paid - cost}


def _g_average(rng):
    a, b = rng.randint(50, 99), rng.randint(50, 99)
    c = rng.randint(50, 99)
    c += (-(a + b + c)) % 3
    return {"a": a, "b": b, "c": c, "total": a + b + c, "ans": (a + b + c) // 3}


def _g_fraction(rng):
    k = rng.choice([2, 3, 4, 5])
    n = k * rng.randint(3, 20)
    return {"n": n, "k": k, "part": n // k, "ans": n - n // k}


def _g_grid(rng):
    r, c = rng.randint(4, 15), rng.randint(4, 15)
    e = rng.randint(1, r * c // 3)
    return {"r": r, "c": c, "rc": r * c, "e": e, "ans": r * c - e}


def _g_more_than(rng):
    y, d = rng.randint(5, 30), rng.randint(2, 10)
    return {"y": y, "d": d, "x": y + d, "ans": 2 * y + d}


def _g_ceil(rng):
    k = rng.randint(4, 12)
    n = k * rng.randint(2, 9) + rng.randint(1, k - 1)
    return {"n": n, "k": k, "full": n // k, "rest": n % k, "ans": n // k + 1}


def _g_increase(rng):
    p, r = rng.randint(1, 15) * 20, rng.choice([10, 20, 25, 50])
    return {"p": p, "r": r, "up": p * r // 100, "ans": p + p * r // 100}


STRUCTURES = {"groups": _g_groups, "rate": _g_rate, "discount": _g_discount, "share": _g_share, "area": _g_area,
              "left": _g_left, "two_prices": _g_two_prices, "change": _g_change, "average": _g_average,
              "fraction": _g_fraction, "grid": _g_grid, "more_than": _g_more_than, "ceil": _g_ceil,
              "increase": _g_increase}

# A kind: its structure and its (problem, worked solution) in "en" and "zh", over the structure's values
# and {who}, a person's name (content/math_kinds.jsonl); its key is the English problem.
KINDS = [{"key": f"legacy-{i}", "legacy": i} for i in range(8)] + [
    {"key": row["en"][0], **row} for row in content.rows("math_kinds")]


def draw(rng: random.Random, lang: str, held_out: bool, legacy) -> tuple[tuple[str, str], int]:
    """((problem, worked solution), answer) from a kind of the right part; `legacy(rng, lang, kind)` draws
    one of math.py's original eight kinds."""
    kind = P.choose(rng, KINDS, held_out)
    if "legacy" in kind:
        return legacy(rng, lang, kind["legacy"])
    values = STRUCTURES[kind["structure"]](rng)
    who = rng.choice(T.PEOPLE)[lang]
    problem, working = kind[lang]
    return (problem.format(who=who, **values), working.format(who=who, **values)), values["ans"]
