"""code: write a Python function to a spec; verified by running the spec's unit tests in the sandbox."""

from __future__ import annotations

from dataclasses import dataclass

from mtsft.tasks import formats
from mtsft.tasks.builtin import partition as P
from mtsft.tasks.builtin._common import BuiltinTask
from mtsft.tasks.references import CodeReference
from mtsft.tasks.builtin.code_specs import SPECS
from mtsft.tasks.crossing import Crossed, CrossingDraw, clauses

TEMPLATES = {
    "en": ["Write a Python function {d}.", "Implement {d} in Python. Return only the code.",
           "Please write Python code: a function {d}.", "I need a Python helper: {d}. Just the code please.",
           "Code this in Python: {d}.", "Can you write a function {d}? Put the code in a code block.",
           "Python exercise: define {d}.", "Give me an implementation of {d} (Python 3, no explanation).",
           "My unit tests expect a function {d}. Write it in Python.", "Fill in the body of {d}, using Python."],
    "zh": ["用Python写一个函数{d}。", "请用Python实现{d}。只返回代码。", "请写Python代码：函数{d}。",
           "我需要一个Python辅助函数：{d}。只要代码。", "用Python编写：{d}。", "能写一个函数{d}吗？请把代码放在代码块里。",
           "Python练习：定义{d}。", "给出{d}的实现（Python 3，不要解释）。",
           "我的单元测试需要一个函数{d}，请用Python写出来。", "用Python补全函数{d}的实现。"],
}


def fenced(code: str) -> str:
    return f"```python\n{code.rstrip()}\n```"


@dataclass
class Code(BuiltinTask):
    templates = TEMPLATES
    reference_model = CodeReference  # the fields score() reads
    timeout: float = 5.0
    executes_code = True  # its score runs unit tests in the sandbox: curation batches these apart

    def generate(self, rng, lang, *, held_out=False):
        template_id, template = self.pick_template(rng, lang, held_out)
        spec = P.choose(rng, SPECS, held_out)(rng)  # held-out specs never appear in training
        answer = fenced(spec["solution"])
        return self.build([template.format(d=spec[lang]), answer], lang=lang, template=template_id,
                          held_out=held_out, reference={"answer": answer, "entry_point": spec["name"],
                                                        "tests": spec["tests"]})

    def score(self, output, record, *, allow_unsafe: bool | None = None):
        """pass@1 of this one sample: 1.0 only when every test passes (MBPP `setup` code and
        HumanEval-style `check` + `entry_point` references included), else 0. `allow_unsafe`: run it without
        the OS wall where none exists (`mtsft.sandbox.run_tests`; None: MTSFT_UNSAFE_EXEC decides)."""
        from mtsft.sandbox import run_tests

        ref = record["reference"]
        tests = ref.get("tests") or []
        if isinstance(tests, str):
            tests = [tests]
        setup = ref.get("setup") or ""
        check = ref.get("check") or ref.get("test") or ""
        if not tests and not check:  # nothing to verify against: no score at all, never a free pass
            raise ValueError("code reference has no tests (`tests`, or `check` with `entry_point`)")
        code, _ = formats.extract_code(output)
        if not code.strip() or not formats._parses(code):
            return 0.0  # nothing runnable: no need to start a process
        result = run_tests(code, tests, setup=setup, check=check, entry_point=ref.get("entry_point") or "",
                           timeout=self.timeout, allow_unsafe=allow_unsafe)
        return 1.0 if result.all_passed else 0.0

    def format_violations(self, output, record):
        return formats.check_not_empty(output) or formats.check_code(output)

    def output_likeness(self, output):
        return formats.code_likeness(output)

    def crossed_outputs(self, draw: CrossingDraw) -> list[Crossed]:
        items = [draw.pick("steps_tail") for _ in range(draw.rng.choice([1, 2]))]
        lines = [draw.pick("steps_head")] if draw.rng.random() < 0.7 else []
        lines += [f"{i}. {c}" for i, c in enumerate(clauses(draw.material) + items, 1)]
        spec = draw.material.rstrip("。.") + ("。" if draw.lang == "zh" else ".")
        if draw.lang == "en" and spec[:1].isupper():
            spec = spec[0].lower() + spec[1:]
        return [Crossed("\n".join(lines), "brainstorming", "spec_as_list"),
                Crossed(draw.pick("explain_code").format(spec=spec), "open_qa", "spec_explained"),
                draw.translated_request()]


TASK = Code(
    name="code",
    description={"en": "Write a Python function that meets a specification (checked by unit tests).",
                 "zh": "按要求编写Python函数（用单元测试检验）。"},
    signals={"en": [r"\b(?:python|function|implement|code)\b", r"`\w+\(.*?\)`"],
             "zh": [r"[Pp]ython", r"函数", r"代码", r"编写|实现"]},
    family="reasoning",
)
