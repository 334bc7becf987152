"""How well the crosstalk judge (`mtsft.eval.judge`) tells which task an output performs, given its prompt.

The evaluation pairs are frozen files, built once (`--build`) BEFORE any tuning and never rebuilt:

    bench/data/crosstalk_test.jsonl   the frozen test set: registry pairs (held-out templates, held-out
                                      phrase pools, seeds the judge never trains on) and real-set pairs
                                      (Tatoeba, CMRC2018, GSM8K, MBPP, ChnSentiCorp, online shopping,
                                      MSRA NER; rows and prompt wordings disjoint from the dev set's);
                                      half of each task's pairs deliberately crossed, content kept.
    bench/data/crosstalk_dev.jsonl    the dev set used for tuning features (same recipe, other seeds,
                                      other rows, other real-set prompt wordings).

The judge itself trains only on registry pairs from the training templates (seed 0). This prints accuracy
(performed task right) overall, per task, on crossed and clean pairs separately, with the intended task
given (as `eval run` knows it) and read from the prompt alone; then the intended x performed confusion
matrix and the crosstalk rate per task (judged vs true), and saves them to bench/results/crosstalk_judge.json.

    python bench/crosstalk_judge.py            # evaluate on the frozen test set
    python bench/crosstalk_judge.py --dev      # evaluate on the dev set (for tuning)
    python bench/crosstalk_judge.py --build    # write the data files (refuses to overwrite them)
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import DATASETS, save_result  # noqa: E402

from mtsft.eval.judge import make_pairs  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"
TEST, DEV = DATA / "crosstalk_test.jsonl", DATA / "crosstalk_dev.jsonl"
SEEDS = {"test": 20261126, "dev": 777}

# ---- real-set pairs: prompt wordings (first half dev, second half test) and crossed outputs --------

PROMPTS = {
    "translation_en": ["Translate this into Chinese:\n{s}", "What is the Chinese for \"{s}\"?",
                       "Give me a Chinese version of this sentence: {s}", "Put the following into natural Chinese.\n{s}"],
    "translation_zh": ["把这句话翻译成英文：\n{s}", "“{s}”用英文怎么说？", "请译成英语：{s}", "帮我把下面这句翻成英文。\n{s}"],
    "rc": ["阅读下面的文章，回答问题。\n文章：{c}\n问题：{q}", "根据材料回答：{q}\n\n{c}",
           "请根据以下短文回答问题，答案尽量简短。\n{c}\n问题：{q}", "短文：{c}\n请问：{q}"],
    "math": ["Solve this word problem and give the final answer.\n{q}", "{q}\nShow your working.",
             "Math question: {q}", "Please work out the answer step by step: {q}"],
    "code": ["{t} Write it in Python.", "Implement this in Python: {t}",
             "Python task: {t} Return only the code.", "Please write Python code for the following. {t}"],
    "senti": ["判断下面这条评论的情感倾向，回答正面或负面：{r}", "这条酒店评论是好评还是差评？只回答正面或负面。\n{r}",
              "情感分类（正面/负面）：{r}", "请给这条评论打上情感标签（正面、负面）：\n{r}"],
    "cat": ["这条评论说的是哪类商品？可选：{opts}。\n{r}", "商品类别分类，从{opts}中选一个：{r}",
            "请判断评论对应的商品类别（{opts}）：\n{r}", "下面的评论属于哪个类别？选项：{opts}\n{r}"],
    "ner": ["从下面的句子中抽取人名、地名和机构名，用JSON输出，键为PER、LOC、ORG：{t}",
            "命名实体识别：找出句中的PER、LOC、ORG，以JSON格式返回。\n{t}",
            "请把这句话里的人名、地名、组织机构名抽取出来，输出JSON（PER/LOC/ORG）：{t}",
            "抽取实体（JSON，键PER、LOC、ORG）：\n{t}"],
}
EXPLAIN_ZH = ["这条评论应该是{label}。评论里说“{snip}”，可以看出作者的态度，所以判断为{label}。",
              "我的判断是{label}，主要依据是“{snip}”这部分内容，整体语气也比较一致。",
              "从“{snip}”来看，评论者的感受很明显，因此归为{label}比较合适，其他选项不太符合。",
              "综合来看属于{label}：文中“{snip}”这句话最能说明问题。"]
REPLY_ZH = {0: ["非常抱歉给您带来了不好的体验，我们会认真改进，希望您下次再给我们一次机会！", "很抱歉让您失望了，您的意见我们已经记下，会尽快处理。",
                "真不好意思，给您添麻烦了！能具体说说哪里不满意吗？我们一定改。", "抱歉抱歉，这次确实没做好，欢迎随时联系客服为您处理。"],
            1: ["感谢您的好评！很高兴您喜欢，期待您下次再来！", "谢谢您的支持，您的满意就是我们最大的动力！",
                "太开心听到您这么说了，欢迎常来哦！", "多谢夸奖！我们会继续努力，保持好的服务。"]}
LIST_HEAD = ["The function should:", "Requirements:", "To sum up the task:", "Checklist:"]
LIST_TAIL = ["Handle the empty case.", "Return the result.", "Add a few tests.", "Keep it readable."]
EXPLAIN_CODE = ["You can solve this by thinking about it step by step: {t} Go through the input once and keep track of what you need, then return it.",
                "The idea is simple. {t} A loop over the data with a helper variable is enough in most cases.",
                "This is a standard exercise: {t} Break it into small steps, check each against the examples, and you are done.",
                "Here's the approach: {t} Use a clear loop, avoid global state, and return the value at the end."]
SUMMARY_ZH = ["简单说，", "这段话主要讲：", "", "概括来说，"]
NER_LABELS = ["政治", "社会", "体育", "经济", "军事", "文化", "国际", "科技"]


def _jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _gsm_solution(answer: str, rng: random.Random) -> str:
    text = re.sub(r"<<[^>]*>>", "", answer)
    body, _, final = text.rpartition("####")
    final = final.strip()
    return body.strip() + "\n" + rng.choice([f"#### {final}", f"The answer is {final}.", f"Answer: {final}"])


def _gsm_code(answer: str, rng: random.Random) -> str | None:
    calcs = re.findall(r"<<([^=>]+)=([^>]+)>>", answer)
    if not calcs:
        return None
    lines = [f"step{i} = {expr.strip()}" for i, (expr, _) in enumerate(calcs, 1)]
    body = "\n".join(lines) + f"\nprint(step{len(calcs)})"
    if rng.random() < 0.5:
        body = "def solve():\n" + "\n".join("    " + ln for ln in lines) + f"\n    return step{len(calcs)}\n\nprint(solve())"
    return f"```python\n{body}\n```"


def _clauses(text: str) -> list[str]:
    return [c.strip(" ，,。.;；") for c in re.split(r"[,，;；。]|(?<=[a-z])\. ", text) if len(c.strip()) > 3]


def _lead(text: str, n: int) -> str:
    parts = [p for p in re.split(r"(?<=[。！？])", text) if p.strip()]
    return "".join(parts[:n]).strip()


def real_pairs(split: str, per_set: int, rng: random.Random) -> list[dict]:
    """Clean and crossed pairs from the real sets: dev takes rows from the front of each shuffled file and
    the first half of the prompt wordings, test from further on and the second half."""
    half = slice(0, 2) if split == "dev" else slice(2, 4)

    def rows_of(name: str, n: int) -> list[dict]:
        rows = _jsonl(DATASETS / name)
        random.Random(name).shuffle(rows)  # one fixed order per file; dev and test cut disjoint slices
        return rows[:n] if split == "dev" else rows[len(rows) // 2:len(rows) // 2 + n]

    def tmpl(key: str) -> str:
        return rng.choice(PROMPTS[key][half])

    out: list[dict] = []

    def add(task, prompt, output, performed, kind, src, lang):
        out.append({"intended": task, "performed": performed, "crossed": performed != task, "kind": kind,
                    "lang": lang, "source": f"real:{src}", "prompt": prompt, "output": output})

    # translation: clean both directions; crossed = another real set's request wrapped in the translation
    # prompt and done as that task (solved, coded, classified, extracted) instead of translated.
    gsm, mbpp = rows_of("gsm8k_train.jsonl", 4 * per_set), rows_of("mbpp_train.jsonl", 4 * per_set)
    senti, ner = rows_of("chnsenticorp_htl_3k.jsonl", 4 * per_set), rows_of("msra_ner_3k.jsonl", 4 * per_set)
    cmrc, shop = rows_of("cmrc2018_trial.jsonl", 4 * per_set), rows_of("online_shopping_10cats_4k.jsonl", 4 * per_set)
    tat = rows_of("tatoeba_zh_en_3k.jsonl", per_set)
    for i, row in enumerate(tat):
        zh_src = i % 2 == 1
        key = "translation_zh" if zh_src else "translation_en"
        if i % 4 < 2:
            add("translation", tmpl(key).format(s=row["zh"] if zh_src else row["en"]), row["en"] if zh_src else row["zh"],
                "translation", "clean", "tatoeba", "zh" if zh_src else "en")
            continue
        if zh_src:
            pick = rng.choice(["senti", "ner"])
            if pick == "senti":
                r = senti[-1 - i]
                add("translation", tmpl(key).format(s=r["review"]), "正面" if r["label"] else "负面", "classification",
                    "translation_classified", "tatoeba+chnsenticorp", "zh")
            else:
                r = ner[-1 - i]
                add("translation", tmpl(key).format(s=r["text"]), json.dumps(r["entities"], ensure_ascii=False),
                    "extraction", "translation_extracted", "tatoeba+msra_ner", "zh")
        else:
            if rng.random() < 0.5:
                r = gsm[-1 - i]
                add("translation", tmpl(key).format(s=r["question"]), _gsm_solution(r["answer"], rng), "math",
                    "translation_solved", "tatoeba+gsm8k", "en")
            else:
                r = mbpp[-1 - i]
                add("translation", tmpl(key).format(s=r["text"]), "```python\n" + r["code"].replace("\r\n", "\n").replace("\t", "    ") + "\n```",
                    "code", "translation_coded", "tatoeba+mbpp", "en")
    # reading comprehension: the answer span, or the passage summarised (its lead) instead.
    for i, row in enumerate(cmrc[:per_set]):
        prompt = tmpl("rc").format(c=row["context"], q=row["question"])
        if i % 2 == 0:
            add("reading_comprehension", prompt, row["answers"][0], "reading_comprehension", "clean", "cmrc2018", "zh")
        else:
            add("reading_comprehension", prompt, rng.choice(SUMMARY_ZH) + _lead(row["context"], rng.choice([1, 2]))[:160],
                "summarization", "passage_summarised", "cmrc2018", "zh")
    # math: the worked solution, or the same computation written as code, or the problem restated.
    for i, row in enumerate(gsm[:per_set]):
        prompt = tmpl("math").format(q=row["question"])
        code = _gsm_code(row["answer"], rng)
        if i % 2 == 0 or code is None:
            add("math", prompt, _gsm_solution(row["answer"], rng), "math", "clean", "gsm8k", "en")
        elif i % 4 == 1:
            add("math", prompt, code, "code", "solved_as_code", "gsm8k", "en")
        else:
            statements = re.split(r"(?<=[.!?])\s+", row["question"].strip())
            add("math", prompt, "In short: " + " ".join(s for s in statements if not s.endswith("?")),
                "summarization", "problem_restated", "gsm8k", "en")
    # code: the reference code, or the spec restated as a list, or explained in prose.
    for i, row in enumerate(mbpp[:per_set]):
        prompt = tmpl("code").format(t=row["text"])
        if i % 2 == 0:
            add("code", prompt, "```python\n" + row["code"].replace("\r\n", "\n").replace("\t", "    ").strip() + "\n```",
                "code", "clean", "mbpp", "en")
        elif i % 4 == 1:
            items = _clauses(row["text"]) + [rng.choice(LIST_TAIL)]
            add("code", prompt, rng.choice(LIST_HEAD) + "\n" + "\n".join(f"{k}. {c}" for k, c in enumerate(items, 1)),
                "brainstorming", "spec_as_list", "mbpp", "en")
        else:
            add("code", prompt, rng.choice(EXPLAIN_CODE).format(t=row["text"]), "open_qa", "spec_explained", "mbpp", "en")
    # classification: the label, an explanation instead of it, or a customer-service reply to the review.
    for i, row in enumerate(senti[:per_set // 2] + shop[:per_set - per_set // 2]):
        is_cat = "category" in row
        cats = ["书籍", "平板", "手机", "水果", "洗发水", "热水器", "蒙牛", "衣服", "计算机", "酒店"]
        prompt = tmpl("cat").format(opts="、".join(cats), r=row["review"]) if is_cat else tmpl("senti").format(r=row["review"])
        label = row["category"] if is_cat else ("正面" if row["label"] else "负面")
        src = "online_shopping" if is_cat else "chnsenticorp"
        if i % 2 == 0:
            add("classification", prompt, label, "classification", "clean", src, "zh")
        elif i % 4 == 1:
            snip = (_clauses(row["review"]) or [row["review"]])[0][:30]
            add("classification", prompt, rng.choice(EXPLAIN_ZH).format(label=label, snip=snip), "open_qa",
                "label_explained", src, "zh")
        else:
            add("classification", prompt, rng.choice(REPLY_ZH[int(row["label"])]), "chitchat", "replied_to_review", src, "zh")
    # extraction: the entities as JSON, or the sentence restated in prose, or a topic label.
    for i, row in enumerate(ner[:per_set]):
        prompt = tmpl("ner").format(t=row["text"])
        if i % 2 == 0:
            add("extraction", prompt, json.dumps(row["entities"], ensure_ascii=False), "extraction", "clean", "msra_ner", "zh")
        elif i % 4 == 1:
            add("extraction", prompt, rng.choice(SUMMARY_ZH) + row["text"], "summarization", "restated_in_prose",
                "msra_ner", "zh")
        else:
            add("extraction", prompt, rng.choice(NER_LABELS), "classification", "labelled", "msra_ner", "zh")
    return out


def build(split: str, registry_per_task_lang: int, real_per_set: int) -> list[dict]:
    rows = make_pairs(SEEDS[split], registry_per_task_lang, held_out=True)
    rows += real_pairs(split, real_per_set, random.Random(SEEDS[split]))
    for k, row in enumerate(rows):
        row["id"] = f"{split}-{k:05d}"
    return rows


# ---- evaluation ----------------------------------------------------------------------------------


def evaluate(rows: list[dict], judge) -> dict:
    t0 = time.perf_counter()
    given = judge.judge_many([(r["prompt"], r["output"]) for r in rows], [r["intended"] for r in rows])
    t_given = time.perf_counter() - t0
    blind = judge.judge_many([(r["prompt"], r["output"]) for r in rows])
    result: dict = {"n": len(rows), "seconds_per_1000": round(1000 * t_given / max(1, len(rows)), 2)}
    for mode, verdicts in (("intended_given", given), ("prompt_only", blind)):
        ok = [v.performed_task == r["performed"] for v, r in zip(verdicts, rows)]
        cross_ok = [v.crossed == r["crossed"] for v, r in zip(verdicts, rows)]
        per: dict = defaultdict(lambda: {"clean": [0, 0], "crossed": [0, 0]})
        per_src: dict = defaultdict(lambda: [0, 0])
        for r, good in zip(rows, ok):
            cell = per[r["intended"]]["crossed" if r["crossed"] else "clean"]
            cell[0] += good
            cell[1] += 1
            src = r["source"].split(":")[0] + ("" if r["source"].startswith("registry") else ":" + r["source"].split(":")[1])
            per_src[src][0] += good
            per_src[src][1] += 1
        tasks_ = sorted(per)
        real = [(g, r) for g, r in zip(ok, rows) if r["source"].startswith("real:")]
        summary = {
            "accuracy": sum(ok) / len(ok),
            "crossed_detection_accuracy": sum(cross_ok) / len(cross_ok),
            "accuracy_clean": _ratio([g for g, r in zip(ok, rows) if not r["crossed"]]),
            "accuracy_crossed": _ratio([g for g, r in zip(ok, rows) if r["crossed"]]),
            "real_sets_only": {"accuracy": _ratio([g for g, _ in real]),
                               "clean": _ratio([g for g, r in real if not r["crossed"]]),
                               "crossed": _ratio([g for g, r in real if r["crossed"]]), "n": len(real)},
            "per_task": {t: {"clean": _cell(per[t]["clean"]), "crossed": _cell(per[t]["crossed"]),
                             "all": _cell([per[t]["clean"][0] + per[t]["crossed"][0], per[t]["clean"][1] + per[t]["crossed"][1]])}
                         for t in tasks_},
            "per_source": {s: _cell(v) for s, v in sorted(per_src.items())},
        }
        performed_names = sorted({v.performed_task for v in verdicts} | {r["performed"] for r in rows})
        confusion = {t: dict(Counter(v.performed_task for v, r in zip(verdicts, rows) if r["intended"] == t)) for t in tasks_}
        summary["confusion_intended_x_judged"] = {t: {p: confusion[t].get(p, 0) for p in performed_names} for t in tasks_}
        summary["crosstalk_rate"] = {t: {"judged": _ratio([v.crossed for v, r in zip(verdicts, rows) if r["intended"] == t]),
                                         "true": _ratio([r["crossed"] for r in rows if r["intended"] == t])} for t in tasks_}
        summary["errors"] = [{"id": r["id"], "intended": r["intended"], "performed": r["performed"], "kind": r["kind"],
                              "judged": v.performed_task, "confidence": round(v.confidence, 3), "reason": v.reason}
                             for v, r in zip(verdicts, rows) if v.performed_task != r["performed"]][:60]
        result[mode] = summary
    # The baseline the judge replaces: each task's output_likeness, from the output alone (no prompt).
    from mtsft import tasks

    names = tasks.names()
    likely = [max(names, key=lambda n: tasks.get(n).output_likeness(r["output"])) for r in rows]
    base_ok = [p == r["performed"] for p, r in zip(likely, rows)]
    result["output_only_baseline"] = {
        "accuracy": _ratio(base_ok), "clean": _ratio([g for g, r in zip(base_ok, rows) if not r["crossed"]]),
        "crossed": _ratio([g for g, r in zip(base_ok, rows) if r["crossed"]]),
        "translation_clean": _ratio([g for g, r in zip(base_ok, rows) if r["intended"] == "translation" and not r["crossed"]])}
    return result


def _ratio(flags: list) -> float | None:
    return round(sum(flags) / len(flags), 4) if flags else None


def _cell(pair: list[int]) -> dict:
    return {"accuracy": round(pair[0] / pair[1], 4) if pair[1] else None, "n": pair[1]}


def show(result: dict) -> None:
    for mode in ("intended_given", "prompt_only"):
        s = result[mode]
        print(f"\n== {mode}: accuracy {s['accuracy']:.1%} (clean {s['accuracy_clean']:.1%}, crossed "
              f"{s['accuracy_crossed']:.1%}); crossed-or-not right {s['crossed_detection_accuracy']:.1%}; n={result['n']}")
        print(f"{'task':24} {'clean':>13} {'crossed':>13} {'all':>13}  crosstalk judged/true")
        for t, cell in s["per_task"].items():
            c = [f"{cell[k]['accuracy']:.1%} ({cell[k]['n']})" if cell[k]["n"] else "-" for k in ("clean", "crossed", "all")]
            rate = s["crosstalk_rate"][t]
            print(f"{t:24} {c[0]:>13} {c[1]:>13} {c[2]:>13}  {rate['judged']:.1%} / {rate['true']:.1%}")
        rs = s["real_sets_only"]
        print(f"real sets only: {rs['accuracy']:.1%} (clean {rs['clean']:.1%}, crossed {rs['crossed']:.1%}, n={rs['n']})")
        print("by source: " + ", ".join(f"{k} {v['accuracy']:.1%} ({v['n']})" for k, v in s["per_source"].items()))
    b = result["output_only_baseline"]
    print(f"\noutput-only baseline (argmax of the registry's output_likeness, no prompt): {b['accuracy']:.1%} "
          f"(clean {b['clean']:.1%}, crossed {b['crossed']:.1%}; clean translations {b['translation_clean']:.1%})")
    s = result["intended_given"]
    names = sorted({p for row in s["confusion_intended_x_judged"].values() for p in row})
    short = {n: n[:6] for n in names}
    print("\nconfusion (intended given), rows = intended, columns = judged performed:")
    print(f"{'':22}" + "".join(f"{short[n]:>7}" for n in names))
    for t, row in s["confusion_intended_x_judged"].items():
        print(f"{t:22}" + "".join(f"{row.get(n, 0):>7}" for n in names))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", action="store_true", help="write bench/data/crosstalk_{dev,test}.jsonl (never overwrites)")
    ap.add_argument("--dev", action="store_true", help="evaluate on the dev set instead of the frozen test set")
    ap.add_argument("--show-errors", type=int, default=0)
    args = ap.parse_args(argv)
    if args.build:
        for path, split, reg, real in ((DEV, "dev", 10, 24), (TEST, "test", 25, 60)):
            if path.exists():
                print(f"{path} exists; frozen, not rebuilt")
                continue
            rows = build(split, reg, real)
            with open(path, "w", encoding="utf-8") as f:
                for row in rows:
                    f.write(json.dumps(row, ensure_ascii=False) + "\n")
            print(f"wrote {path}: {len(rows)} pairs, {sum(r['crossed'] for r in rows)} crossed")
        return
    from mtsft.eval.judge import default_judge

    t0 = time.perf_counter()
    judge = default_judge()
    fit_s = time.perf_counter() - t0
    path = DEV if args.dev else TEST
    rows = _jsonl(path)
    result = evaluate(rows, judge)
    result.update({"data": str(path.relative_to(Path(__file__).resolve().parents[1])), "train_seconds": round(fit_s, 1)})
    show(result)
    for err in result["intended_given"]["errors"][: args.show_errors]:
        print(err)
    if not args.dev:
        save_result("crosstalk_judge", result, argv)


if __name__ == "__main__":
    main()
