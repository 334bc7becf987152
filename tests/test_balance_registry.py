"""`curate.balance.upsample_with: registry`: a rare task grows with fresh generator records before copies."""

from mtsft import tasks
from mtsft.data.balance import balance_round
from mtsft.data.config import BalanceConfig
from mtsft.mixture import prompt_set
from mtsft.records import response
from mtsft.tasks.synth import synth_records


def _records(counts: dict[str, int]) -> list[dict]:
    pool = synth_records(600, seed=3, langs=("zh", "en"), clean=True)
    out = []
    for task, n in counts.items():
        out += [r for r in pool if r["task"] == task][:n]
    return out


def test_registry_upsampling_adds_fresh_format_passing_records_and_keeps_the_counts():
    records = _records({"math": 24, "creative_writing": 3})
    copies = balance_round(records, BalanceConfig(strategy="uniform", max_upsample=4.0))
    fresh = balance_round(records, BalanceConfig(strategy="uniform", max_upsample=4.0, upsample_with="registry"))
    assert fresh.notes["targets"] == copies.notes["targets"]
    added = [a for a in fresh.added if a["task"] == "creative_writing"]
    assert len(added) == fresh.notes["targets"]["creative_writing"] - 3 > 0
    assert {a["meta"]["upsampled"]["how"] for a in added} == {"registry"}
    checker = tasks.get("creative_writing")
    assert not any(checker.format_violations(response(a), a) for a in added)
    prompts = [next(m["content"] for m in a["messages"] if m["role"] == "user") for a in added]
    assert len(set(prompts)) == len(prompts) and not set(prompts) & prompt_set(records)
    assert {a["lang"] for a in added} <= {r["lang"] for r in records if r["task"] == "creative_writing"}


def test_a_task_the_registry_cannot_draw_is_grown_by_copies():
    records = _records({"math": 12})
    own = [{**r, "id": f"mine-{k}", "task": "my_label"} for k, r in enumerate(_records({"open_qa": 2}))]
    res = balance_round(records + own, BalanceConfig(strategy="uniform", upsample_with="registry"))
    hows = {a["meta"]["upsampled"]["how"] for a in res.added if a["task"] == "my_label"}
    assert hows and "registry" not in hows
