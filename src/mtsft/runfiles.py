"""The run folder's files: their names, their shapes, and the one reader and one writer of each.

    RUN/run.json                        a training run: config, data, versions, method, status, stages
    SUITE/predictions.jsonl             one eval suite's rows: prompt, prediction, reference, score, ...
    SUITE/scores.json                   that suite's per-task scores with intervals (or `eval score --out`)
    OUT/STAGE/stage.json                a finished `mtsft run` stage: the key it was run with and its result
    REPORT/diagnosis.json               every number of a diagnosis (beside report.md and report.html)

No other module names these files (tests/test_runfiles.py scans `src/` for it): a format read in one
place and written in another drifts apart. Writes are atomic (`mtsft.outputs`); a reader gets None where
the file is absent and a one-line ValueError naming the file where it is not what mtsft wrote. The shapes
are TypedDicts, not validated: runs written by earlier versions carry fewer keys and must still load.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypedDict

from mtsft.outputs import write_json_atomic, write_jsonl

RUN_INFO = "run.json"
PREDICTIONS = "predictions.jsonl"
SCORES = "scores.json"
STAGE = "stage.json"
DIAGNOSIS = "diagnosis.json"


# ---- shapes ------------------------------------------------------------------------------------------------

class RunInfoData(TypedDict, total=False):
    """run.json, written by `mtsft train` (train.runinfo.RunInfo) as the run goes."""

    status: str                      # running | completed | failed
    config: dict[str, Any]           # the TrainConfig, dumped
    data: dict[str, Any]             # path, hash, task_counts, ...
    versions: dict[str, str]
    method: str                      # lora | qlora | full
    method_reason: str
    precision: str
    params: dict[str, Any]           # trainable, total, trainable_share
    stages: dict[str, dict[str, Any]]
    metrics: dict[str, Any]
    started: str
    finished: str
    resumed: int
    error: str
    failed_at: str                   # "startup" or the stage that was running
    tasks: list[str]


class TaskScore(TypedDict, total=False):
    n: int
    score: float
    ci95: list[float] | None
    metric: str


class Scores(TypedDict, total=False):
    """scores.json: per task and overall, and what was scored (`run`: model, adapter, suites, tag_mode, ...)."""

    tasks: dict[str, TaskScore]
    overall: TaskScore
    run: dict[str, Any]
    unknown_tasks: list[str]


class StageKey(TypedDict):
    config: str                      # hash of the stage's config
    inputs: dict[str, str]           # input file -> hash


class StageMarker(TypedDict):
    key: StageKey
    result: dict[str, Any]


class DiagnosisData(TypedDict, total=False):
    run: str | None
    base: str | None
    tuned: str | None
    train: str | None
    fired: list[str]
    findings: list[dict[str, Any]]
    levers: list[dict[str, Any]]
    config: dict[str, Any]


# ---- shared plumbing --------------------------------------------------------------------------------------

def _read_json(path: Path, what: str) -> Any:
    """The JSON object in `path`, None when there is no such file."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise ValueError(f"{path}: unreadable {what} (not JSON)") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not an mtsft {what}")
    return data


# ---- run.json ----------------------------------------------------------------------------------------------

def run_info_path(run_dir: str | Path) -> Path:
    return Path(run_dir) / RUN_INFO


def read_run_info(run_dir: str | Path) -> RunInfoData | None:
    """A training run's run.json (`run_dir` is the run folder), None when it has none."""
    return _read_json(run_info_path(run_dir), RUN_INFO)


def write_run_info(run_dir: str | Path, info: RunInfoData) -> None:
    write_json_atomic(run_info_path(run_dir), info)


# ---- predictions.jsonl --------------------------------------------------------------------------------------

def predictions_path(folder: str | Path) -> Path:
    return Path(folder) / PREDICTIONS


def read_predictions(folder: str | Path) -> list[dict] | None:
    """One eval suite folder's prediction rows, None when it has none.

    Read line by line here rather than through `records.read_records`, which sits a layer above and checks
    user files for the record schema; this file is mtsft's own output, written atomically."""
    path = predictions_path(folder)
    if not path.is_file():
        return None
    rows = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError:
                raise ValueError(f"{path}:{lineno}: malformed JSON") from None
            if not isinstance(row, dict):
                raise ValueError(f"{path}:{lineno}: not a prediction row")
            rows.append(row)
    return rows


def write_predictions(folder: str | Path, rows: Iterable[dict]) -> int:
    return write_jsonl(predictions_path(folder), rows)


# ---- scores.json ------------------------------------------------------------------------------------------

def scores_path(target: str | Path) -> Path:
    """`target` itself when it is a file or names a .json one (`eval score --out`), else the suite folder's
    scores.json."""
    target = Path(target)
    return target if target.suffix == ".json" or target.is_file() else target / SCORES


def scores_beside(predictions: str | Path) -> Path:
    """`eval score`'s default report: preds.jsonl -> preds.scores.json."""
    return Path(predictions).with_suffix("." + SCORES)


def read_scores(target: str | Path) -> Scores | None:
    """A scores file, or a suite folder's scores.json; None when absent."""
    return _read_json(scores_path(target), SCORES)


def write_scores(target: str | Path, scores: Scores, *, as_file: bool = False) -> Path:
    """Into the suite folder `target`, or, `as_file`, to the file `target` itself (`eval score --out`)."""
    path = Path(target) if as_file else Path(target) / SCORES
    write_json_atomic(path, scores, indent=1)
    return path


def suite_folders(path: str | Path) -> list[Path]:
    """The suite folders of one eval output: `path` itself when it holds a suite's files, else every
    SUITE/ under it holding a scores.json (`mtsft eval run --out` writes one per suite)."""
    path = Path(path)
    if scores_path(path).exists() or predictions_path(path).exists():
        return [path]
    return sorted(p.parent for p in path.glob(f"*/{SCORES}"))


def scores_under(root: str | Path, depth: int | None = None) -> list[Path]:
    """Every scores.json under `root`, at most `depth` folders down (None: any depth)."""
    root = Path(root)
    if depth is None:
        return sorted(root.glob(f"**/{SCORES}"))
    return sorted({p for d in range(1, depth + 1) for p in root.glob("/".join(["*"] * d + [SCORES]))})


# ---- stage.json -------------------------------------------------------------------------------------------

def stage_path(folder: str | Path) -> Path:
    """A `mtsft run` stage's completion marker (written last: a stage without it did not finish)."""
    return Path(folder) / STAGE


def read_stage(folder: str | Path) -> StageMarker | None:
    return _read_json(stage_path(folder), STAGE)


def write_stage(folder: str | Path, key: StageKey, result: dict) -> None:
    write_json_atomic(stage_path(folder), {"key": key, "result": result}, indent=1)


# ---- diagnosis.json -----------------------------------------------------------------------------------------

def diagnosis_path(folder: str | Path) -> Path:
    return Path(folder) / DIAGNOSIS


def read_diagnosis(folder: str | Path) -> DiagnosisData | None:
    """A report folder's diagnosis.json, None when it has none."""
    return _read_json(diagnosis_path(folder), DIAGNOSIS)


def write_diagnosis(folder: str | Path, diagnosis: DiagnosisData) -> Path:
    path = diagnosis_path(folder)
    write_json_atomic(path, diagnosis, indent=1, default=str)   # default=str: numpy numbers, paths
    return path


def diagnosis_folders(root: str | Path) -> Iterator[Path]:
    """Every folder under `root` holding a diagnosis.json (a report folder)."""
    return (p.parent for p in Path(root).glob(f"**/{DIAGNOSIS}"))
