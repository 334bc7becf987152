"""`CurateConfig`: the typed recipe of `mtsft data curate` (the defaults here are the shipped behaviour).

Every threshold a round uses lives here, so a person can read what the curation does and change it with
`--set dedup.threshold=0.7` instead of editing code.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from mtsft.config import StrictConfig
from mtsft.mixture import MixtureConfig

Policy = Literal["keep_best", "majority", "relabel", "drop", "review", "keep"]


class ClassifyConfig(StrictConfig):
    trust_labels: bool = True          # records that arrive with a task keep it (the label checks still run)
    threshold: float = 0.2             # below this confidence the task is "uncertain" (12 tasks: chance is 0.08)
    uncertain: Literal["review", "drop", "keep"] = "review"
    train_per_task_lang: int = 600     # registry-generated prompts per task and language for the model
    relabel_ratio: float = 5.0         # a trusted label is questioned when the classifier finds another task
                                       # this many times likelier (synth: 93% of mislabels, 0.1% false alarms)


class QualityConfig(StrictConfig):
    min_response_chars: int = 1
    max_tokens: int = 2048             # whole conversation, in tokens of the model's tokenizer (or the estimate)
    repetition_threshold: float = 0.5  # share of duplicated 3-grams in the response above which it is dropped
    check_language: bool = True
    check_format: bool = True
    check_truncation: bool = True
    min_score: float = 0.0             # records scoring below this are dropped even without a hard failure
    verifier_budget_ms: float = 2.0    # the task's verifier joins the score while it costs less per record


class DedupConfig(StrictConfig):
    num_perm: int = 128
    bands: int = 16                    # 16 bands x 8 rows: candidate threshold ~0.71, verified at `threshold`
    threshold: float = 0.8             # estimated Jaccard of char shingles above which records are near-duplicates
    shingle: int = 5                   # characters per shingle
    short_shingle: int = 3             # ... for texts shorter than `short_chars` (short instructions)
    short_chars: int = 60
    near: bool = True
    answer_threshold: float = 0.5      # ... and their answers at least this similar (shared passages, new questions)
    eval_files: list[str] = Field(default_factory=list)
    contamination_ngram: int = 13      # characters per n-gram for the eval overlap check
    contamination_threshold: float = 0.5  # share of a prompt's n-grams found in eval prompts


class ConflictsConfig(StrictConfig):
    contradictory_answers: Policy = "keep_best"   # (a) same instruction, answers that disagree
    cross_label: Policy = "majority"              # (b) same instruction under two task labels
    answer_shape: Policy = "review"               # (c) an answer shaped like another task's
    label_mismatch: Policy = "relabel"            # the classifier is sure the trusted label is wrong
    near_threshold: float = 0.95                  # instruction Jaccard that counts as "the same instruction"
    shape_own_max: float = 0.3                    # (c) own-task likeness at most this ...
    shape_other_min: float = 0.8                  # ... and another task's at least this


class BalanceConfig(MixtureConfig):
    """The mixture the curated file should have (`total`: as many records as survive the earlier rounds),
    and how to reach it."""

    augment: bool = True               # up-sample with augmented copies before plain repeats
    max_upsample: float = 4.0          # a task grows to at most this many times its records (copies included)
    difficulty_bins: int = 4           # down-sampling keeps each task's difficulty spread


class ValidateConfig(StrictConfig):
    min_per_task: int = 1
    tolerance: float = 0.05            # allowed |share - target share| per task
    fail_on_error: bool = True


class CurateConfig(StrictConfig):
    seed: int = 0
    tokenizer: str | None = None       # model spec for token lengths; None = chars-per-token estimate
    model: str | None = None           # model spec for model-based difficulty (answer loss); None = heuristics only
    progress: bool = True
    classify: ClassifyConfig = Field(default_factory=ClassifyConfig)
    quality: QualityConfig = Field(default_factory=QualityConfig)
    dedup: DedupConfig = Field(default_factory=DedupConfig)
    conflicts: ConflictsConfig = Field(default_factory=ConflictsConfig)
    balance: BalanceConfig = Field(default_factory=BalanceConfig)
    validate_: ValidateConfig = Field(default_factory=ValidateConfig, alias="validate")
