"""The crosstalk judge reads the prompt and the output together and names the task the output performs."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import pytest

import mtsft.tasks as registry
from mtsft.eval.judge import Verdict, default_judge, judge, judge_many, make_pairs, material_of, read_prompt
from mtsft.eval.judge.model import cache_file
from mtsft.tasks.plugins import load_yaml_tasks

ROOT = Path(__file__).resolve().parents[1]
FROZEN = ROOT / "bench" / "data" / "crosstalk_test.jsonl"
# bench/data/crosstalk_test.jsonl was built once (bench/crosstalk_judge.py --build) before any tuning; a
# rebuilt or edited file would let the judge be tuned on its own test set, so its digest is pinned.
FROZEN_SHA256 = "69c990e924752eecca265d4ba5badf26cf3d838b3c8a59143d724831fe0842b5"


@pytest.fixture(scope="module")
def trained():
    return default_judge()


# ---- reading the prompt --------------------------------------------------------------------------


def test_material_is_the_quoted_content_not_the_instruction():
    assert material_of("Translate into Chinese: It is going to rain.") == "It is going to rain."
    assert material_of("Please translate the following sentence into Chinese.\nIt is going to rain.") == "It is going to rain."
    assert material_of("这句话用英语怎么说？“你好吗”") == "你好吗"
    passage = "In February, Riverstone Bank launched a bike. It sells well."
    assert material_of(f"Look at this paragraph and tell me: In which month?\n---\n{passage}\n---") == passage
    review = "The food was cold and the waiter was rude."
    assert material_of(f"{review}\n\nWhat is the right label here? Choose from positive or negative.") == review


def test_a_short_follow_up_works_on_the_previous_answer():
    msgs = [{"role": "user", "content": "把这句话改得正式一点：打印机又坏了，谁来修一下啊"},
            {"role": "assistant", "content": "打印机再次出现故障，麻烦相关同事安排维修。"},
            {"role": "user", "content": "能再短一点吗？"}]
    instruction, context, material = read_prompt(msgs)
    assert instruction == "能再短一点吗？"
    assert material == "打印机再次出现故障，麻烦相关同事安排维修。"
    assert "打印机又坏了" in context


# ---- hand-written pairs, zh and en ---------------------------------------------------------------

CODE_PROMPT = "Write a Python function `is_even(n)` that returns True when `n` is even."
ZH_SENTI = "判断这条评论的情感（正面/负面）：房间很干净，服务也很热情，下次还会再来。"
EN_SENTI = "Classify the sentiment of this review as positive or negative: The food was cold and the waiter was rude."
EN_PASSAGE = ("Read the passage and answer the question.\nQuestion: How many bikes were sold in the first month?\n---\n"
              "In March, Green Leaf Foods opened a new store in Hangzhou. The store sells fresh bread and cakes. "
              "In the first month it sold 4200 loaves, twice what the owners expected.\n---")
ZH_MATH = "小明有12个苹果，送给同学5个，又买了8个。他现在有多少个苹果？"

HAND = [
    # (prompt, output, intended, performed)
    ("Translate into Chinese: What is the capital of France?", "法国的首都是哪里？", "translation", "translation"),
    ("Translate into Chinese: What is the capital of France?", "The capital of France is Paris.", "translation", "open_qa"),
    ("把这句话翻译成英文：我明天要去北京出差。", "I am going on a business trip to Beijing tomorrow.", "translation", "translation"),
    pytest.param("翻译成英文：你最喜欢的水果是什么？", "我最喜欢的水果是芒果，因为它又甜又香。", "translation", "open_qa",
                 marks=pytest.mark.xfail(reason="known miss since issue 28: an answer in the source's language that "
                                                "reuses its words reads like the near-copies of the source real weak "
                                                "outputs are (no task), so it is not called crossed", strict=False)),
    ("翻译成英文：写一个函数，返回列表中最大的数。", "```python\ndef largest(nums):\n    return max(nums)\n```", "translation", "code"),
    (CODE_PROMPT, "```python\ndef is_even(n):\n    return n % 2 == 0\n```", "code", "code"),
    (CODE_PROMPT, "Steps:\n1. Define a function is_even that takes n.\n2. Check whether n is divisible by 2.\n"
                  "3. Return True or False.", "code", "brainstorming"),
    (ZH_SENTI, "正面", "classification", "classification"),
    (ZH_SENTI, "这条评论是正面的，因为评论者夸奖了房间干净、服务热情，整体语气非常满意，还表示下次会再来。", "classification", "open_qa"),
    (EN_SENTI, "negative", "classification", "classification"),
    (EN_SENTI, "This review is negative: the customer complains that the food was cold and the waiter was rude, "
               "so the overall impression is clearly bad.", "classification", "open_qa"),
    (EN_PASSAGE, "4200", "reading_comprehension", "reading_comprehension"),
    (EN_PASSAGE, "In short: In March, Green Leaf Foods opened a new store in Hangzhou.", "reading_comprehension",
     "summarization"),
    (ZH_MATH, "12 - 5 + 8 = 15，所以他现在有15个苹果。\n答案：15", "math", "math"),
    (ZH_MATH, "```python\napples = 12 - 5 + 8\nprint(apples)\n```", "math", "code"),
    ("从这句话里抽取人名和城市，用JSON输出，键为name、city：李伟上个月搬到了成都。", '{"name": "李伟", "city": "成都"}',
     "extraction", "extraction"),
    ("把这句话改得更正式一些：这事儿你赶紧办一下。", "请您尽快处理此事。", "rewriting", "rewriting"),
    ("把这句话改得更正式一些：这事儿你赶紧办一下。", "Please handle this matter as soon as possible.", "rewriting", "translation"),
    ("Give me 4 names for a bakery, one per line.", "1. Golden Crust\n2. Morning Loaf\n3. Flour Power\n4. The Daily Bun",
     "brainstorming", "brainstorming"),
    ("I just got back from a trip to Yunnan!", "你刚从云南旅行回来！", "chitchat", "translation"),
]


def _fields(case) -> tuple:
    return tuple(case.values) if hasattr(case, "values") else case


@pytest.mark.parametrize("prompt,output,intended,performed", HAND,
                         ids=[f"{_fields(h)[2]}->{_fields(h)[3]}-{i}" for i, h in enumerate(HAND)])
def test_hand_written_pairs(trained, prompt, output, intended, performed):
    verdict = trained.judge(prompt, output, intended=intended)
    assert verdict.performed_task == performed, verdict.reason
    assert verdict.crossed == (performed != intended)
    assert 0.0 <= verdict.confidence <= 1.0 and verdict.reason


def test_a_weak_attempt_that_reads_as_another_task_is_not_crossed(trained):
    # Issue 28: weak real outputs of the embedded model (hand-labelled in judge_hand_labels_v1/v2) were called
    # crossed: the passage's opening copied as an "answer" read as a summary, garbled Chinese as chitchat.
    # A framed restatement is still a summary (the hand-written pairs above).
    cases = [(EN_PASSAGE, "In March, Green Leaf Foods opened a new store in Hangzhou.", "reading_comprehension"),
             ("这个上学时没学过：《呼啸山庄》的作者是谁？", "谁！！你看这个！！你看这个！！你\ufffd", "open_qa"),
             ("这个上学时没学过：加拿大的首都是哪座城市？", "你可以在上学时有一个好处，你可以在上学时有一个好处，", "open_qa")]
    for prompt, output, asked in cases:
        v = trained.judge(prompt, output, intended=asked)
        assert not v.crossed, (output, v.reason)


def test_the_prompt_decides_what_the_same_output_performs(trained):
    # The same Chinese sentence is a translation of one prompt and an answer to another: an output-only
    # recogniser cannot tell them apart, the judge must.
    out = "法国的首都是巴黎。"
    assert trained.judge("Translate into Chinese: The capital of France is Paris.", out).performed_task == "translation"
    assert trained.judge("法国的首都是哪座城市？", out).performed_task == "open_qa"


def test_intended_task_is_read_from_the_prompt_when_not_given(trained):
    v = trained.judge("Translate into Chinese: What is the capital of France?", "The capital of France is Paris.")
    assert v.intended == "translation" and v.crossed
    v = trained.judge(ZH_SENTI, "正面")
    assert v.intended == "classification" and not v.crossed


def test_judge_many_matches_judge_and_the_module_functions(trained):
    items = [_fields(h)[:2] for h in HAND[:6]]
    intended = [_fields(h)[2] for h in HAND[:6]]
    batch = judge_many(items, intended)
    assert all(isinstance(v, Verdict) for v in batch)
    assert [v.performed_task for v in batch] == [judge(p, o, i).performed_task for (p, o), i in zip(items, intended)]
    assert judge_many([]) == []


def test_chat_messages_are_accepted_as_the_prompt(trained):
    msgs = [{"role": "system", "content": "You are helpful."},
            {"role": "user", "content": "Translate into Chinese: I can't find my keys anywhere."},
            {"role": "assistant", "content": "我到处都找不到我的钥匙。"},
            {"role": "user", "content": "And this one? The museum is free on the first Sunday of every month."}]
    v = trained.judge(msgs, "博物馆每个月的第一个星期日免费开放。", intended="translation")
    assert v.performed_task == "translation" and not v.crossed


# ---- accuracy on the frozen held-out set ---------------------------------------------------------


def test_frozen_test_set_is_unchanged():
    assert hashlib.sha256(FROZEN.read_bytes()).hexdigest() == FROZEN_SHA256


def test_accuracy_on_a_frozen_sample_stays_above_the_bar(trained):
    rows = [json.loads(line) for line in FROZEN.read_text(encoding="utf-8").splitlines() if line.strip()]
    sample = random.Random(0).sample(rows, 240)  # a fixed quarter: registry and real sets, all 12 tasks
    assert len({r["intended"] for r in sample}) == 12 and sum(r["crossed"] for r in sample) >= 80
    verdicts = trained.judge_many([(r["prompt"], r["output"]) for r in sample], [r["intended"] for r in sample])
    ok = [v.performed_task == r["performed"] for v, r in zip(verdicts, sample)]
    clean = [g for g, r in zip(ok, sample) if not r["crossed"]]
    crossed = [g for g, r in zip(ok, sample) if r["crossed"]]
    assert sum(ok) / len(ok) >= 0.90
    assert sum(clean) / len(clean) >= 0.85 and sum(crossed) / len(crossed) >= 0.85
    detected = [v.crossed == r["crossed"] for v, r in zip(verdicts, sample)]
    assert sum(detected) / len(detected) >= 0.90


# ---- the optional LLM judge ----------------------------------------------------------------------


@pytest.fixture()
def fake_llm():
    """A local OpenAI-compatible endpoint that answers a fixed task name and records what it was asked."""
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    seen: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            seen.append({"path": self.path, "body": json.loads(self.rfile.read(int(self.headers["Content-Length"])))})
            reply = json.dumps({"choices": [{"message": {"role": "assistant", "content": "creative_writing"}}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1", seen
    server.shutdown()


def test_llm_backup_rejudges_unsure_open_ended_pairs(trained, fake_llm):
    from mtsft.eval.judge import LLMBackup

    url, seen = fake_llm
    backup = LLMBackup(base_url=url, model="fake")
    prompt, output = "Give me 4 names for a bakery, one per line.", "Golden Crust, Morning Loaf, Flour Power."
    alone = trained.judge(prompt, output, intended="brainstorming")
    forced = trained.judge(prompt, output, intended="brainstorming", backup=backup, backup_below=1.01)
    assert forced.performed_task == "creative_writing" and forced.crossed and "LLM judge" in forced.reason
    assert seen and seen[0]["path"] == "/v1/chat/completions" and output in seen[0]["body"]["messages"][-1]["content"]
    # confident verdicts and tasks outside the open-ended family never go to the LLM
    n = len(seen)
    assert trained.judge(prompt, output, intended="brainstorming", backup=backup, backup_below=0.0) == alone
    assert trained.judge(CODE_PROMPT, "```python\ndef is_even(n):\n    return n % 2 == 0\n```", intended="code",
                         backup=backup, backup_below=1.01).performed_task == "code"
    assert len(seen) == n


def test_llm_backup_failure_keeps_the_model_verdict(trained):
    from mtsft.eval.judge import LLMBackup

    backup = LLMBackup(base_url="http://127.0.0.1:9/v1", model="none", timeout=2)
    prompt, output = "Give me 4 names for a bakery, one per line.", "1. Golden Crust\n2. Morning Loaf\n3. Flour Power\n4. Bun"
    assert trained.judge(prompt, output, "brainstorming", backup=backup, backup_below=1.01) == \
        trained.judge(prompt, output, "brainstorming")


# ---- outputs that perform no task ------------------------------------------------------------------


def test_an_echo_or_a_loop_performs_no_task_and_is_not_crosstalk(trained):
    from mtsft.eval.judge import NO_TASK

    cases = [("请把下面的句子翻译成英文：\n汤姆因为工作现在在波士顿。", "汤姆因为工作现在在波士顿。", "translation"),
             ("Clean up the wording of this for an official notice: the client hated the design, back to square one",
              "The client hated the design, back to square one", "rewriting"),
             ("随便给我3个让聊天持续下去的方法，每行一个。", "I'm going to make a new day " + "tomorrow " * 20, "brainstorming"),
             ("Translate into Chinese:\nTom is in Boston on business.", "没有" * 24, "translation")]
    for prompt, output, asked in cases:
        v = trained.judge(prompt, output, intended=asked)
        assert (v.performed_task, v.crossed) == (NO_TASK, False), (output, v)


def test_a_quoted_answer_or_a_framed_restatement_is_still_read_by_the_model(trained):
    from mtsft.eval.judge import NO_TASK

    passage = "Last winter, Ivan Petrov travelled to Yangzhou by bus. The journey took 6 hours. He visited the bell tower."
    v = trained.judge(f"When did Ivan Petrov travel to Yangzhou? The answer is in this text:\n{passage}", "Last winter",
                      intended="reading_comprehension")
    assert v.performed_task != NO_TASK
    problem = "A class has 72 students and 1/4 of them walk to school. How many students do not walk?"
    v = trained.judge(problem, "In short, a class has 72 students and 1/4 of them walk to school.", intended="math")
    assert v.performed_task != NO_TASK


# ---- task knowledge lives in the tasks: a YAML plug-in is judged like any task ----------------------

PLUGIN_YAML = """
tasks:
  - name: haiku_judge_task
    description: {en: "Write a haiku.", zh: "写一首俳句。"}
    signals: {en: ["\\\\bhaiku\\\\b"], zh: ["俳句"]}
    examples:
      - {lang: en, prompt: "Write a haiku about the autumn moon over the harbour.",
         answer: "Pale moon on the tide\\nfishing boats asleep in rows\\nthe harbour breathes slow"}
      - {lang: zh, prompt: "写一首关于港口秋月的俳句。", answer: "秋月照港湾\\n渔船静静排成行\\n潮水轻呼吸"}
  - name: sql_judge_task
    description: {en: "Write an SQL query.", zh: "写一条SQL查询。"}
    signals: {en: ["\\\\bSQL\\\\b"], zh: ["SQL"]}
    output_shape: code
    examples:
      - {lang: en, prompt: "Write an SQL query that counts the rows of table orders.", answer: "SELECT COUNT(*) FROM orders;"}
      - {lang: zh, prompt: "写一条SQL查询，统计orders表的行数。", answer: "SELECT COUNT(*) FROM orders;"}
"""


@pytest.fixture()
def plugin_file(tmp_path, monkeypatch):
    """A YAML task file, its tasks registered for this test only."""
    registry.names()  # the built-in tasks first, so the copy below holds them
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    path = tmp_path / "tasks.yaml"
    path.write_text(PLUGIN_YAML, encoding="utf-8")
    load_yaml_tasks(path, replace=True)
    return path


def test_a_yaml_plugin_task_gets_crossed_examples_without_an_edit_under_eval(plugin_file):
    rows = make_pairs(seed=0, per_task_lang=8, held_out=False, task_names=["haiku_judge_task", "sql_judge_task"])
    assert {(r["intended"], r["lang"]) for r in rows} == {(t, lang) for t in ("haiku_judge_task", "sql_judge_task")
                                                          for lang in ("en", "zh")}
    crossed = [r for r in rows if r["crossed"]]
    assert len(crossed) == len(rows) // 2
    assert {r["performed"] for r in crossed} >= {"chitchat", "summarization"}
    assert all(r["performed"] in registry.names() and r["performed"] != r["intended"] for r in crossed)
    # the content is kept: the request restated, the answer reshaped
    for r in crossed:
        if r["kind"] == "restated_request":
            assert read_prompt(r["prompt"])[2] in r["output"]
        if r["kind"] in ("answer_as_code", "answer_as_json"):
            assert "harbour" in r["output"] or "港" in r["output"] or "orders" in r["output"]
    # a code-shaped task's answer wrapped as code is still its own answer, not crossed
    assert not [r for r in crossed if r["intended"] == "sql_judge_task" and r["performed"] == "code"]


def test_the_judge_cache_lives_under_mtsft_cache_with_tilde_expanded(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("MTSFT_CACHE", "~/judge-cache")
    monkeypatch.delenv("MTSFT_JUDGE_CACHE", raising=False)
    assert cache_file().parent == tmp_path / "judge-cache"


def test_an_edited_yaml_plugin_gives_the_judge_another_cache_key(plugin_file, tmp_path, monkeypatch):
    monkeypatch.setenv("MTSFT_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("MTSFT_JUDGE_CACHE", raising=False)
    monkeypatch.setenv("MTSFT_TASKS", str(plugin_file))
    before = cache_file()
    plugin_file.write_text(PLUGIN_YAML.replace("autumn moon", "spring rain"), encoding="utf-8")
    assert cache_file() != before
    plugin_file.write_text(PLUGIN_YAML, encoding="utf-8")
    assert cache_file() == before


# ---- one type for a stored verdict --------------------------------------------------------------------


def test_a_verdict_chat_stores_is_read_back_by_diagnosis(monkeypatch):
    import mtsft.eval.judge as judge_mod
    from mtsft.diagnose.config import DiagnoseConfig
    from mtsft.diagnose.problems import performed_tasks
    from mtsft.serve.chat import judge_task

    verdict = Verdict("open_qa", 0.9, True, "asked translation; performs open_qa", intended="translation")
    monkeypatch.setattr(judge_mod, "judge", lambda prompt, output, intended=None: verdict)
    prompt = [{"role": "user", "content": "Translate into Chinese: What is the capital of France?"}]
    stored = json.loads(json.dumps(judge_task(prompt, "Paris.", "translation")))  # as a JSONL row holds it
    assert Verdict.from_record(stored) == verdict
    rows = [{"task": "translation", "messages": prompt, "prediction": "Paris.", "performed": stored}]
    [(performed, crossed, reason)], method = performed_tasks(rows, DiagnoseConfig())
    assert (performed, crossed, method) == ("open_qa", True, "stored") and "performs open_qa" in reason

