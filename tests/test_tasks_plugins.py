"""User task types from YAML and from entry points, through the same registry."""

from __future__ import annotations

import random
import sys
from importlib.metadata import EntryPoint

import pytest

import mtsft.tasks as registry
from mtsft.tasks import plugins
from mtsft.tasks.plugins import load_entry_point_tasks, load_yaml_tasks

YAML = """
tasks:
  - name: sql_test_task
    description: {en: "Write an SQL query.", zh: "写一条SQL查询。"}
    family: structured
    signals: {en: ["\\\\bSQL\\\\b"], zh: ["SQL"]}
    scorer: exact_match
    output_shape: code
    examples:
      - {lang: en, prompt: "Count the rows of table t.", answer: "SELECT COUNT(*) FROM t;"}
"""


def test_yaml_task_registers_generates_and_scores_with_a_builtin_scorer(tmp_path):
    path = tmp_path / "tasks.yaml"
    path.write_text(YAML, encoding="utf-8")
    (task,) = load_yaml_tasks(path, replace=True)
    assert registry.get("sql_test_task") is task
    record = task.generate(random.Random(0), "en")
    assert task.score("select count(*) from t;", record) == 1.0
    assert task.score("SELECT * FROM t;", record) == 0.0


def test_yaml_unknown_scorer_is_a_one_line_error_naming_file_and_task(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("tasks:\n  - name: t1\n    scorer: bleu9000\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.yaml: task 't1': unknown scorer 'bleu9000'"):
        load_yaml_tasks(path)


def test_entry_point_task_is_registered(tmp_path, monkeypatch):
    module = tmp_path / "my_mtsft_plugin.py"
    module.write_text(
        "from mtsft.tasks.plugins import YamlTask\n"
        "TASK = YamlTask(name='ep_test_task', description={'en': 'x', 'zh': 'x'}, scorer='exact_match')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    ep = EntryPoint(name="ep_test_task", value="my_mtsft_plugin:TASK", group="mtsft.tasks")
    monkeypatch.setattr(plugins, "entry_points", lambda group: [ep] if group == "mtsft.tasks" else [])
    loaded = load_entry_point_tasks()
    assert [t.name for t in loaded] == ["ep_test_task"]
    assert registry.get("ep_test_task").score("x", {"reference": {"answer": "x"}}) == 1.0
    sys.modules.pop("my_mtsft_plugin", None)


def test_broken_entry_point_warns_and_is_skipped(monkeypatch):
    ep = EntryPoint(name="broken", value="no_such_module_xyz:TASK", group="mtsft.tasks")
    monkeypatch.setattr(plugins, "entry_points", lambda group: [ep])
    with pytest.warns(UserWarning, match="broken"):
        assert load_entry_point_tasks() == []


def test_mtsft_tasks_environment_variable_registers_yaml_tasks(tmp_path, monkeypatch):
    import mtsft.tasks as registry

    path = tmp_path / "t.yaml"
    path.write_text("tasks:\n  - name: env_sql_task\n    description: {en: SQL, zh: SQL}\n"
                    "    signals: {en: ['SQL'], zh: ['SQL']}\n    scorer: exact_match\n    output_shape: code\n")
    monkeypatch.setenv("MTSFT_TASKS", str(path))
    monkeypatch.setattr(registry, "_loaded", False)
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    assert "env_sql_task" in registry.names()
