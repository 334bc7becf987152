"""Issue 25: one bad record never stops a job, importers write only valid JSON, decontamination compares
content. Each test is one example of the issue: the bad record is rejected with its reason (naming where it
came from), and the records beside it are still scored or kept."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from mtsft.cli import app
from mtsft.importers import import_files, import_to
from mtsft.records import iter_jsonl, read_records, sidecar

GOOD = [{"instruction": f"Say the number {i}.", "output": f"{i}"} for i in range(3)]


def good_lines(n: int = 3) -> list[bytes]:
    return [json.dumps(o).encode() for o in GOOD[:n]]


def accounted(result) -> None:
    assert result.inputs == len(result.kept) + len(result.rejected)
    assert all(r["reason"] and r["source"] for r in result.rejected)


def strict_json_lines(path) -> list:
    """Every line of `path` parsed as strict JSON (NaN, Infinity refused)."""
    def refuse(name):
        raise AssertionError(f"{path} holds the non-JSON token {name}")

    return [json.loads(line, parse_constant=refuse) for line in path.read_text(encoding="utf-8").splitlines()]


# ---- deliverable 2: a 5,000-digit integer ------------------------------------------------------------

def test_5000_digit_integer_rejects_its_line_in_data_import(tmp_path):
    path = tmp_path / "big.jsonl"
    path.write_bytes(b"\n".join([good_lines()[0], b'{"instruction": "x", "output": "y", "n": ' + b"9" * 5000 + b"}",
                                 good_lines()[1]]) + b"\n")
    out = tmp_path / "out" / "data.jsonl"
    result = import_to([str(path)], out)
    accounted(result)
    assert (len(result.kept), len(result.rejected)) == (2, 1)
    rejected = strict_json_lines(sidecar(out, "rejected.jsonl"))
    assert rejected[0]["source"] == f"{path}:2" and "4300 digits" in rejected[0]["reason"]


def test_5000_digit_integer_rejects_its_line_in_the_curation_reader(tmp_path):
    """`curate`, `classify` and `analyze` read inputs through `read_inputs`: the line is rejected there too."""
    from mtsft.data.inputs import read_inputs

    path = tmp_path / "in.jsonl"
    path.write_bytes(b"\n".join([good_lines()[0], b'{"instruction": "x", "output": ' + b"1" * 5000 + b"}",
                                 good_lines()[1]]) + b"\n")
    records, bad, files = read_inputs([str(path)])
    assert len(records) == 2 and len(bad) == 1 and files[0]["lines"] == 3
    assert bad[0]["id"].endswith(":2") and "4300 digits" in bad[0]["meta"]["rejected"]["detail"]


@pytest.mark.parametrize("command", ["classify", "analyze", "curate"])
def test_5000_digit_integer_rejects_its_line_in_classify_analyze_and_curate(tmp_path, command):
    from mtsft.tasks.synth import synth_records

    good = [json.dumps(r).encode() for r in synth_records(2, seed=3, clean=True)]  # labelled: curation keeps them
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"\n".join([good[0], b'{"instruction": "x", "output": "y", "n": ' + b"9" * 5000 + b"}",
                                 good[1]]) + b"\n")
    out = tmp_path / ("out.jsonl" if command == "classify" else "curated")
    args = {"classify": ["--out", str(out)], "analyze": ["--no-near"], "curate": ["--out", str(out), "--workers", "1"]}
    result = CliRunner().invoke(app, ["data", command, str(path), *args[command]])
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    if command == "curate":
        rejected = [json.loads(line) for line in (out / "rejected.jsonl").read_text().splitlines()]
        unreadable = [r for r in rejected if r["meta"]["rejected"]["reason"] == "unreadable"]
        assert [r["source"] for r in unreadable] == [f"{path}:2"]
        assert "4300 digits" in unreadable[0]["meta"]["rejected"]["detail"]
        assert len((out / "kept.jsonl").read_text().splitlines()) >= 1
    else:
        assert f"rejected {path}:2: unreadable JSON" in result.output.replace("\n", "")
    if command == "classify":
        assert len(out.read_text().splitlines()) == 2


def test_5000_digit_integer_in_a_json_array_is_one_rejected_input_not_a_crash(tmp_path):
    path = tmp_path / "arr.json"
    path.write_text('[{"instruction": "x", "output": "y", "n": ' + "7" * 5000 + "}]")
    (tmp_path / "good.jsonl").write_bytes(good_lines()[0] + b"\n")
    result = import_files([str(tmp_path)])
    accounted(result)
    assert len(result.kept) == 1 and "unreadable JSON array" in result.rejected[0]["reason"]


# ---- deliverable 3: NaN, Infinity, 1e999 ---------------------------------------------------------------

@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_nan_infinity_and_1e999_rows_are_rejected_and_output_is_strict_json(tmp_path, token):
    path = tmp_path / "n.jsonl"
    bad = '{"instruction": "q", "output": "a", "reference": {"value": %s}}' % token
    path.write_bytes(b"\n".join([good_lines()[0], bad.encode(), good_lines()[1]]) + b"\n")
    out = tmp_path / "out" / "data.jsonl"
    result = import_to([str(path)], out)
    accounted(result)
    assert (len(result.kept), len(result.rejected)) == (2, 1)
    assert len(strict_json_lines(out)) == 2
    rejected = strict_json_lines(sidecar(out, "rejected.jsonl"))
    assert rejected[0]["source"] == f"{path}:2"
    assert "not valid JSON" in rejected[0]["reason"] or "too large for a float" in rejected[0]["reason"]


def test_nan_in_a_json_array_row_rejects_that_row_only(tmp_path):
    path = tmp_path / "arr.json"
    path.write_text('[{"instruction": "q1", "output": "a", "reference": {"value": NaN}},'
                    ' {"instruction": "q2", "output": "b", "reference": {"value": 2}}]')
    out = tmp_path / "out" / "data.jsonl"
    result = import_to([str(path)], out)
    accounted(result)
    assert (len(result.kept), len(result.rejected)) == (1, 1)
    assert [r["reference"] for r in strict_json_lines(out)] == [{"value": 2}]
    assert "NaN or infinite" in strict_json_lines(sidecar(out, "rejected.jsonl"))[0]["reason"]


def test_nan_parquet_cell_mapped_into_a_record_rejects_that_row_only(tmp_path):
    path = tmp_path / "t.parquet"
    values = pa.array([1.0, float("nan"), float("inf")], from_pandas=False)  # NaN kept as NaN, not null
    pq.write_table(pa.table({"q": ["a", "b", "c"], "r": ["1", "2", "3"], "value": values}), path)
    out = tmp_path / "out" / "data.jsonl"
    result = import_to([str(path)], out, mapping=["prompt=q", "response=r", "reference.value=value"])
    accounted(result)
    assert (len(result.kept), len(result.rejected)) == (1, 2)
    assert [r["reference"] for r in strict_json_lines(out)] == [{"value": 1.0}]


# ---- deliverable 3: one bad Parquet cell ---------------------------------------------------------------

def test_one_bad_parquet_cell_rejects_just_that_row(tmp_path):
    path = tmp_path / "t.parquet"
    stamps = pa.array([0, 10**13, 5], pa.timestamp("s"))  # year ~318,000: Python's datetime cannot hold it
    pq.write_table(pa.table({"instruction": ["q1", "q2", "q3"], "output": ["a1", "a2", "a3"], "at": stamps}), path)
    result = import_files([str(path)])
    accounted(result)
    assert [r["messages"][0]["content"] for r in result.kept] == ["q1", "q3"]
    assert len(result.rejected) == 1 and result.rejected[0]["source"] == f"{path}#1"
    assert "'at'" in result.rejected[0]["reason"]


# ---- deliverable 3: CR-only line endings and an unterminated CSV quote --------------------------------

def test_cr_only_line_endings_count_each_jsonl_record_with_its_line(tmp_path):
    path = tmp_path / "cr.jsonl"
    path.write_bytes(b"\r".join([good_lines()[0], b'{"instruction": "x"', good_lines()[1], good_lines()[2]]) + b"\r")
    result = import_files([str(path)])
    accounted(result)
    assert result.inputs == 4 and len(result.kept) == 3
    assert [r["source"] for r in result.kept] == [f"{path}:1", f"{path}:3", f"{path}:4"]
    assert result.rejected[0]["source"] == f"{path}:2"


def test_cr_only_line_endings_in_the_record_reader(tmp_path):
    path = tmp_path / "cr.jsonl"
    recs = [{"id": str(i), "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}
            for i in range(3)]
    path.write_bytes(b"\r".join(json.dumps(r).encode() for r in recs) + b"\r\n")
    assert [line for line, _, err in iter_jsonl(path) if not err] == [1, 2, 3]
    assert [r["id"] for r in read_records(path)] == ["0", "1", "2"]


def test_cr_only_csv_counts_each_row(tmp_path):
    path = tmp_path / "cr.csv"
    path.write_bytes(b"instruction,output\rq1,a1\rq2,a2\ronly one field\rq3,a3\r")
    result = import_files([str(path)])
    accounted(result)
    assert result.inputs == 4 and len(result.kept) == 3
    assert "line 4" in result.rejected[0]["reason"]


def test_unterminated_csv_quote_rejects_its_row_and_keeps_the_rows_after_it(tmp_path):
    path = tmp_path / "q.csv"
    path.write_bytes(b'instruction,output\nq1,a1\n"broken,a2\nq3,a3\nq4,a4\n')
    result = import_files([str(path)])
    accounted(result)
    assert result.inputs == 4
    assert [r["messages"][0]["content"] for r in result.kept] == ["q1", "q3", "q4"]
    assert len(result.rejected) == 1 and "unterminated quote" in result.rejected[0]["reason"]
    assert "line 3" in result.rejected[0]["reason"] and result.rejected[0]["raw"].startswith('"broken')


def test_closed_many_line_csv_quote_is_still_one_row(tmp_path):
    path = tmp_path / "m.csv"
    path.write_bytes(b'instruction,output\n"line one\nline two",a1\nq2,a2\n')
    result = import_files([str(path)])
    accounted(result)
    assert [r["messages"][0]["content"] for r in result.kept] == ["line one\nline two", "q2"]


# ---- deliverable 2: malformed references in `eval score` ----------------------------------------------

MATH = [{"role": "user", "content": "What is 2+2?"}, {"role": "assistant", "content": "4"}]
CODE = [{"role": "user", "content": "Write `double(x)`."}, {"role": "assistant", "content": "def double(x): ..."}]
SOLUTION = "```python\ndef double(x):\n    return 2 * x\n```"


def prediction_file(tmp_path, bad: list[dict], name: str = "preds.jsonl"):
    """The bad records between two good ones (a math and a code record that score 1.0)."""
    good = [{"id": "good-math", "task": "math", "messages": MATH, "reference": {"value": 4}, "prediction": "It is 4."},
            {"id": "good-code", "task": "code", "messages": CODE, "reference": {"tests": ["assert double(2) == 4"]},
             "prediction": SOLUTION}]
    path = tmp_path / name
    rows = [good[0], *bad, good[1]]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def score_cli(path, *extra):
    out = path.with_name("scores.json")
    result = CliRunner().invoke(app, ["eval", "score", "--predictions", str(path), "--out", str(out), *extra])
    return result, (json.loads(out.read_text()) if out.exists() else None)


def assert_rejected_and_rest_scored(result, report, path, bad_line: int, reason: str):
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert report["overall"]["n"] == 2 and report["overall"]["score"] == 1.0  # the good ones, scored
    [rejected] = report["rejected"]
    assert rejected["where"] == f"{path}:{bad_line}" and reason in rejected["reason"]
    assert f"{path}:{bad_line}" in result.output


@pytest.mark.parametrize("task, reference, reason", [
    ("math", None, "reference is missing"),
    ("code", None, "reference is missing"),
    ("classification", None, "reference is missing"),
], ids=["math", "code", "classification"])
def test_null_reference_is_rejected_and_the_rest_scored(tmp_path, task, reference, reason):
    path = prediction_file(tmp_path, [{"id": "bad", "task": task, "messages": MATH, "reference": reference,
                                       "prediction": "4"}])
    assert_rejected_and_rest_scored(*score_cli(path), path, 2, reason)


def test_non_string_test_is_rejected_and_the_rest_scored(tmp_path):
    path = prediction_file(tmp_path, [{"id": "bad", "task": "code", "messages": CODE, "reference": {"tests": [1, 2]},
                                       "prediction": SOLUTION}])
    assert_rejected_and_rest_scored(*score_cli(path), path, 2, "reference.tests is list")


def test_math_reference_without_value_is_rejected_and_the_rest_scored(tmp_path):
    path = prediction_file(tmp_path, [{"id": "bad", "task": "math", "messages": MATH, "reference": {"answer": "4"},
                                       "prediction": "4"}])
    assert_rejected_and_rest_scored(*score_cli(path), path, 2, "reference.value is missing")


# one malformed reference per verifier: the class, not only the three examples
MALFORMED = {
    "open_qa": {"short": "Paris"}, "reading_comprehension": {"answers": "Paris"},
    "translation": {"answer": 7}, "code": {"tests": []}, "math": {"value": float("nan")},
    "classification": {"label": ["pos"]}, "extraction": {"json": "name=Li"}, "summarization": {"answer": "x"},
    "rewriting": {"answer": None}, "brainstorming": {"n": "five"}, "creative_writing": {"form": "poem"},
    "chitchat": {"min_len": 1},
}


def test_every_tasks_verifier_rejects_a_malformed_reference_with_a_reason():
    from mtsft import tasks
    from mtsft.eval.prediction_scores import score_predictions

    assert set(MALFORMED) == set(tasks.names())  # a new task gets a case here
    records = [{"id": name, "task": name, "messages": MATH, "reference": ref, "prediction": "4"}
               for name, ref in MALFORMED.items()]
    records += [{"id": f"{name}-list", "task": name, "messages": MATH, "reference": ["not", "an", "object"],
                 "prediction": "4"} for name in MALFORMED if name != "brainstorming"]  # it scores without one
    result = score_predictions(records, workers=1)
    assert {r["id"] for r in result["rejected"]} == {r["id"] for r in records}
    assert all(r["reason"].startswith("reference") for r in result["rejected"]), result["rejected"]


def test_a_verifier_failing_on_an_unforeseen_shape_rejects_the_record_only(monkeypatch):
    from mtsft import tasks
    from mtsft.eval.prediction_scores import score_predictions

    math_task = tasks.get("math")
    monkeypatch.setattr(type(math_task), "score", lambda self, output, record: record["reference"]["missing"])
    records = [{"id": "a", "task": "math", "messages": MATH, "reference": {"value": 4}, "prediction": "4"},
               {"id": "b", "task": "classification", "messages": MATH, "prediction": "pos",
                "reference": {"label": "pos", "labels": ["pos", "neg"]}}]
    result = score_predictions(records, workers=1)
    assert [r["id"] for r in result["rejected"]] == ["a"] and "KeyError" in result["rejected"][0]["reason"]
    assert result["tasks"]["classification"]["score"] == 1.0


def test_unknown_or_missing_task_is_rejected_not_an_error(tmp_path):
    path = prediction_file(tmp_path, [{"id": "bad", "task": "poetry", "messages": MATH, "reference": {"value": 4},
                                       "prediction": "4"}])
    assert_rejected_and_rest_scored(*score_cli(path), path, 2, "unknown task 'poetry'")


def test_unreadable_prediction_lines_are_rejected_and_the_rest_scored(tmp_path):
    """A 5,000-digit integer, NaN, broken JSON, a line without `prediction`: each rejected with its line."""
    path = prediction_file(tmp_path, [])
    good = path.read_text().splitlines()
    bad = ['{"id": "big", "task": "math", "messages": [], "prediction": "4", "n": ' + "9" * 5000 + "}",
           '{"id": "nan", "task": "math", "reference": {"value": NaN}, "messages": [], "prediction": "4"}',
           '{"id": "broken", ', json.dumps({"id": "nopred", "task": "math", "messages": MATH, "reference": {"value": 4}})]
    path.write_text("\n".join([good[0], *bad, good[1]]) + "\n")
    result, report = score_cli(path)
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    assert report["overall"]["n"] == 2 and report["overall"]["score"] == 1.0
    assert [r["where"] for r in report["rejected"]] == [f"{path}:{i}" for i in (2, 3, 4, 5)]
    reasons = [r["reason"] for r in report["rejected"]]
    assert "4300 digits" in reasons[0] and "NaN" in reasons[1] and "prediction" in reasons[3]


# ---- deliverable 2: no bubblewrap ----------------------------------------------------------------------

def test_no_bubblewrap_is_one_line_naming_a_flag_eval_score_accepts(tmp_path, monkeypatch):
    from mtsft import sandbox

    monkeypatch.setattr(sandbox, "_bwrap_works", lambda python, as_other_uid: False)  # as on a host without bwrap
    monkeypatch.setenv(sandbox.UNSAFE_ENV, "0")  # restored after the test (the flag below sets it)
    path = prediction_file(tmp_path, [])
    result, report = score_cli(path)
    assert result.exit_code == 2 and "Traceback" not in result.output and report is None
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines[0].startswith("error: refusing to run generated code") and "bubblewrap" in lines[0]
    assert "mtsft eval score --unsafe-exec" in result.output.replace("\n", " ")
    result, report = score_cli(path, "--unsafe-exec")  # the advised flag exists and does what it says
    assert result.exit_code == 0, result.output
    assert report["overall"]["score"] == 1.0 and report["tasks"]["code"]["n"] == 1


# ---- deliverable 2: a low open-files limit -------------------------------------------------------------

def test_low_open_files_limit_scores_code_or_fails_in_one_line(tmp_path):
    """`ulimit -n 48`: each code record used to fail with a traceback (the sandbox's own limit of 64 could
    not be set under a hard limit of 48). Now they are scored, or the job stops with one clear line."""
    path = prediction_file(tmp_path, [{"id": f"code-{i}", "task": "code", "messages": CODE, "prediction": SOLUTION,
                                       "reference": {"tests": ["assert double(3) == 6"]}} for i in range(6)])
    out = tmp_path / "scores.json"
    script = textwrap.dedent(f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_NOFILE, (48, 48))
        from mtsft.cli import app
        sys.argv = ["mtsft", "eval", "score", "--predictions", {str(path)!r}, "--out", {str(out)!r}]
        app()
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    output = proc.stdout + proc.stderr
    assert "Traceback" not in output, output[-3000:]
    if proc.returncode == 0:
        report = json.loads(out.read_text())
        assert report["tasks"]["code"]["n"] == 7 and report["tasks"]["code"]["score"] == 1.0, report["tasks"]
    else:
        assert proc.returncode == 2 and "error: too many open files" in output, output


# ---- deliverable 4: decontamination compares content, not a shared template ---------------------------

TEMPLATE = ("Which product category does this review belong to? Pick one of these categories: books, tablets, "
            "phones, fruit, shampoo, water heaters, dairy, clothes, computers, hotels. Answer with the category "
            "name only, and nothing else.\n")
REVIEWS = ["The battery lasts two full days and the screen is sharp.", "Arrived bruised and half of them were sour.",
           "The plot drags in the middle but the ending is worth it.", "Leaves my hair soft without any greasy feel.",
           "Heats up in a minute, but the knob feels cheap.", "The sleeves were too short after one wash.",
           "Boots fast and the keyboard is comfortable for long work.", "The room was clean and the staff were kind.",
           "Tastes fresh, my kids drink a bottle every morning.", "Pages arrived torn and the cover was bent."]


def review_record(i: int, text: str, label: str = "phones") -> dict:
    return {"id": f"r{i}", "task": "classification", "lang": "en", "source": f"synthetic:{i}", "meta": {},
            "reference": {"label": label, "labels": ["phones", "fruit", "books"]},
            "messages": [{"role": "user", "content": TEMPLATE + text}, {"role": "assistant", "content": label}]}


def test_records_sharing_only_a_long_template_with_eval_are_not_contaminated():
    from mtsft.data.config import DedupConfig
    from mtsft.data.dedup import drop_contaminated

    eval_records = [review_record(100 + i, text) for i, text in enumerate(REVIEWS[:6])]
    train = [review_record(i, f"{text} Bought it for my brother.") for i, text in enumerate(REVIEWS[6:])]
    train += [review_record(200 + i, text) for i, text in enumerate(["Great value.", "Would not buy again, sadly."])]
    copy = review_record(300, REVIEWS[2])  # an eval record verbatim
    near_copy = review_record(301, REVIEWS[3].replace("soft", "silky"))  # its content, one word changed
    kept, rejected = drop_contaminated([*train, copy, near_copy], eval_records, DedupConfig())
    assert [r["id"] for r in kept] == [r["id"] for r in train]
    assert {r["id"] for r in rejected} == {"r300", "r301"}
    assert all(r["meta"]["rejected"]["reason"] == "contaminated" for r in rejected)


def test_curate_keeps_template_sharing_records_and_drops_a_verbatim_eval_copy(tmp_path):
    evals = [review_record(100 + i, text) for i, text in enumerate(REVIEWS[:6])]
    train = [review_record(i, text) for i, text in enumerate(REVIEWS[6:])] + [review_record(300, REVIEWS[0])]
    (tmp_path / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in train))
    (tmp_path / "eval.jsonl").write_text("".join(json.dumps(r) + "\n" for r in evals))
    out = tmp_path / "curated"
    result = CliRunner().invoke(app, ["data", "curate", str(tmp_path / "train.jsonl"), "--eval-data",
                                      str(tmp_path / "eval.jsonl"), "--out", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    contaminated = [json.loads(line)["id"] for line in (out / "rejected.jsonl").read_text().splitlines()
                    if json.loads(line)["meta"]["rejected"]["reason"] == "contaminated"]
    assert contaminated == ["r300"]
