"""Importers: each community format maps onto the record schema, and no input record is ever lost."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mtsft.importers import ImportFormatError, import_files, import_to, sidecar


def write_lines(path, lines):
    path.write_bytes(b"\n".join(line if isinstance(line, bytes) else line.encode("utf-8") for line in lines) + b"\n")
    return str(path)


def jsonl(path, objs):
    return write_lines(path, [json.dumps(o, ensure_ascii=False) for o in objs])


def only_record(result):
    assert len(result.kept) == 1, result.rejected
    return result.kept[0]


def only_reason(result):
    assert not result.kept and len(result.rejected) == 1
    return result.rejected[0]["reason"]


# ---- formats -----------------------------------------------------------------------------------------

def test_alpaca_joins_instruction_and_input_and_keeps_history_and_system(tmp_path):
    path = jsonl(tmp_path / "a.jsonl", [{"instruction": "Translate", "input": "bonjour", "output": "hello",
                                          "system": "Be brief.", "history": [["hi", "hey"]]}])
    rec = only_record(import_files([path]))
    assert [m["role"] for m in rec["messages"]] == ["system", "user", "assistant", "user", "assistant"]
    assert rec["messages"][3]["content"] == "Translate\n\nbonjour"
    assert rec["messages"][-1]["content"] == "hello"
    assert rec["source"] == f"{path}:1" and rec["lang"] == "en" and len(rec["id"]) == 16


def test_alpaca_json_array_file_gets_index_sources(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps([{"instruction": "q1", "output": "a1"}, {"instruction": "q2", "output": "a2"}]))
    result = import_files([str(path)])
    assert [r["source"] for r in result.kept] == [f"{path}#0", f"{path}#1"]


def test_sharegpt_maps_speakers_and_system(tmp_path):
    path = jsonl(tmp_path / "s.jsonl", [{"system": "sys", "conversations": [
        {"from": "human", "value": "你好"}, {"from": "gpt", "value": "你好！"},
        {"from": "human", "value": "再见"}, {"from": "gpt", "value": "再见！"}]}])
    rec = only_record(import_files([path]))
    assert [m["role"] for m in rec["messages"]] == ["system", "user", "assistant", "user", "assistant"]
    assert rec["lang"] == "zh"


def test_openai_messages_with_text_parts_are_joined(tmp_path):
    path = jsonl(tmp_path / "o.jsonl", [{"messages": [
        {"role": "user", "content": [{"type": "text", "text": "Hello "}, {"type": "text", "text": "there"}]},
        {"role": "assistant", "content": "Hi"}]}])
    assert only_record(import_files([path]))["messages"][0]["content"] == "Hello there"


def test_openai_image_part_is_rejected_with_reason(tmp_path):
    path = jsonl(tmp_path / "o.jsonl", [{"messages": [
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]},
        {"role": "assistant", "content": "Hi"}]}])
    assert "non-text content part (image_url)" in only_reason(import_files([path]))


def test_prompt_completion_pairs(tmp_path):
    path = jsonl(tmp_path / "p.jsonl", [{"prompt": "2+2?", "completion": "4"}])
    rec = only_record(import_files([path]))
    assert rec["messages"] == [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}]


def test_records_already_in_schema_keep_task_reference_and_meta(tmp_path):
    from mtsft import tasks

    task = tasks.names()[0]
    path = jsonl(tmp_path / "r.jsonl", [{"id": "x1", "messages": [{"role": "user", "content": "q"},
                                                                  {"role": "assistant", "content": "a"}],
                                          "task": task, "lang": "en", "reference": {"k": 1}, "meta": {"m": 2}}])
    rec = only_record(import_files([path]))
    assert (rec["id"], rec["task"], rec["reference"], rec["meta"]["m"]) == ("x1", task, {"k": 1}, 2)


def test_unknown_task_label_is_kept_in_meta_not_trusted(tmp_path):
    path = jsonl(tmp_path / "a.jsonl", [{"instruction": "q", "output": "a", "task": "no_such_task"}])
    rec = only_record(import_files([path]))
    assert rec["task"] is None and rec["meta"]["original_task"] == "no_such_task"


def test_csv_with_column_mapping_and_template(tmp_path):
    path = tmp_path / "c.csv"
    pd.DataFrame({"question": ["What is 2+2?"], "answer": ["4"]}).to_csv(path, index=False)
    rec = only_record(import_files([str(path)], mapping=["prompt=Q: {question}", "response=answer",
                                                         "reference=answer"]))
    assert rec["messages"][0]["content"] == "Q: What is 2+2?" and rec["reference"] == "4"
    assert rec["source"] == f"{path}#0"


def test_parquet_is_sniffed_like_json(tmp_path):
    path = tmp_path / "p.parquet"
    pd.DataFrame({"instruction": ["hi", "yo"], "output": ["hello", "hey"]}).to_parquet(path)
    assert len(import_files([str(path)]).kept) == 2


def test_hf_dataset_saved_to_disk(tmp_path):
    import datasets

    datasets.Dataset.from_dict({"prompt": ["a", "b"], "completion": ["c", "d"]}).save_to_disk(tmp_path / "ds")
    result = import_files([str(tmp_path / "ds")])
    assert len(result.kept) == 2 and result.files[0].format == "prompt_completion"


def test_template_can_index_lists(tmp_path):
    path = jsonl(tmp_path / "c.jsonl", [{"q": "who?", "answers": ["Ann", "Anne"]}])
    rec = only_record(import_files([path], mapping=["prompt=q", "response={answers[0]}", "reference=answers"]))
    assert rec["messages"][1]["content"] == "Ann" and rec["reference"] == ["Ann", "Anne"]


def test_forced_format_rejects_records_of_another_shape(tmp_path):
    path = jsonl(tmp_path / "a.jsonl", [{"prompt": "q", "completion": "a"}])
    assert "missing or empty field 'instruction'" in only_reason(import_files([path], fmt="alpaca"))


# ---- bad input: rejected with a reason, never a crash ------------------------------------------------

@pytest.mark.parametrize("line, reason", [
    (b"{not json", "malformed JSON"),
    (b"\xff\xfe{}", "invalid UTF-8"),
    (b'{"instruction": "", "output": "x"}', "missing or empty field 'instruction'"),
    (b'{"instruction": "q", "output": ""}', "missing or empty field 'output'"),
    (b'{"instruction": "q", "output": 5}', "field 'output' is int"),
    (b'{"messages": [{"role": "user", "content": 5}, {"role": "assistant", "content": "a"}]}', "not a string"),
    (b'{"messages": [{"role": "robot", "content": "q"}, {"role": "assistant", "content": "a"}]}', "unknown role 'robot'"),
    (b'{"messages": [{"role": "user", "content": "q"}]}', "ends on a user turn"),
    (b'{"messages": [{"role": "assistant", "content": "a"}]}', "starts with the assistant"),
    (b'{"messages": []}', "empty conversation"),
    (b'{"conversations": [{"from": "observation", "value": "q"}]}', "unknown role 'observation'"),
    (b'[1, 2]', "cannot tell the format"),
])
def test_bad_record_is_rejected_with_reason_and_line(tmp_path, line, reason):
    path = write_lines(tmp_path / "bad.jsonl", [line])
    result = import_files([path])
    assert reason in only_reason(result)
    assert result.rejected[0]["source"] == f"{path}:1"
    assert result.rejected[0]["raw"]


def test_utf8_bom_on_first_line_is_ignored(tmp_path):
    path = write_lines(tmp_path / "bom.jsonl", [b'\xef\xbb\xbf{"instruction": "q", "output": "a"}'])
    assert only_record(import_files([path]))["messages"][0]["content"] == "q"


def test_unreadable_json_array_counts_as_one_rejected_input(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('[{"instruction": "q", "output": "a"},')
    result = import_files([str(path)])
    assert result.inputs == 1 and "unreadable JSON array" in only_reason(result)


def test_missing_file_is_a_one_line_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        import_files([str(tmp_path / "nope.jsonl")])


def test_unsupported_suffix_is_a_format_error(tmp_path):
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(ImportFormatError, match="unsupported file type"):
        import_files([str(tmp_path / "x.txt")])


GOOD = st.sampled_from([
    '{"instruction": "q", "output": "a"}',
    '{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}',
])
CORRUPT = st.binary(min_size=1, max_size=40).filter(lambda b: b"\n" not in b and b"\r" not in b)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.one_of(GOOD.map(str.encode), CORRUPT), min_size=1, max_size=25))
def test_every_input_line_is_kept_or_rejected(tmp_path, lines):
    path = write_lines(tmp_path / "mixed.jsonl", lines)
    lines = list(lines)
    result = import_files([path])
    lines[0] = lines[0].removeprefix(b"\xef\xbb\xbf")  # a leading byte-order mark is not content
    non_blank = sum(1 for line in lines if line.strip())
    assert result.inputs == non_blank == len(result.kept) + len(result.rejected)


def test_import_to_writes_records_rejections_and_summary(tmp_path):
    path = write_lines(tmp_path / "in.jsonl", [b'{"instruction": "q", "output": "a"}', b"{bad"])
    out = tmp_path / "out" / "data.jsonl"
    import_to([path], out)
    summary = json.loads(sidecar(out, "summary.json").read_text())
    assert (summary["inputs"], summary["kept"], summary["rejected"]) == (2, 1, 1)
    assert len(sidecar(out, "rejected.jsonl").read_text().splitlines()) == 1


def test_reference_fields_and_quoted_literals_build_the_verifier_reference(tmp_path):
    path = jsonl(tmp_path / "t.jsonl", [{"en": "Good morning", "zh": "早上好"}])
    rec = only_record(import_files([path], mapping=["prompt=Translate into Chinese: {en}", "response=zh",
                                                    "reference.answer=zh", "reference.answer_lang='zh'"]))
    assert rec["reference"] == {"answer": "早上好", "answer_lang": "zh"}
