"""`CurateConfig`: the typed recipe of `mtsft data curate` (the defaults here are the shipped behaviour).

Every threshold a round uses lives here, so a person can read what the curation does and change it with
`--set dedup.threshold=0.7` instead of editing code. Every number has its range (shares and similarities in
[0, 1], counts at least 1 where 0 would make a round meaningless), checked when the config is built, so
nonsense is refused before any round runs.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AliasChoices, Field, field_validator, model_validator

from mtsft.config import Seed, StrictConfig
from mtsft.mixture import MixtureConfig, parse_pair

Share = Annotated[float, Field(gt=0, le=0.5)]

Policy = Literal["keep_best", "majority", "relabel", "drop", "review", "keep"]
UpsampleWith = Literal["copies", "registry"]   # how the balance round grows a task (BalanceConfig)


class ClassifyConfig(StrictConfig):
    trust_labels: bool = True          # records that arrive with a task keep it (the label checks still run)
    # below this confidence the task is "uncertain". Confidence is calibrated (a decision at 0.8 is right about
    # 80% of the time); 0.55 is the lowest threshold (0.05 steps) at which 96% of decisions were right both out
    # of fold on the hand-written training prompts (three fold seeds: 94% decided, 96.5% right) and on the dev
    # sets (frozen v1 + bench/data/classify_*: 99% decided, 97.1% right); a point above the 95% target for the
    # sampling error of a test set of a few hundred prompts
    threshold: float = Field(0.55, ge=0, le=1)
    uncertain: Literal["review", "drop", "keep"] = "review"
    train_per_task_lang: int = Field(100, ge=1)  # registry-generated prompts per task and language for the model
    relabel_ratio: float = Field(5.0, ge=1)  # a trusted label is questioned when the classifier finds another task
                                       # this many times likelier (synth, training and held-out wordings: 99% of
                                       # mislabels, 2.3% false alarms, nearly all one held-out rewriting wording,
                                       # "How would I say this to my manager?", read as translation)


class QualityConfig(StrictConfig):
    min_response_chars: int = Field(1, ge=0)
    max_tokens: int = Field(2048, ge=1)  # whole conversation, in tokens of the model's tokenizer (or the estimate)
    repetition_threshold: float = Field(0.5, ge=0, le=1)  # share of duplicated 3-grams in the response above which it is dropped
    check_language: bool = True
    check_format: bool = True
    check_truncation: bool = True
    min_score: float = Field(0.0, ge=0, le=1)  # records scoring below this are dropped even without a hard failure
    verifier_budget_ms: float | None = Field(None, ge=0)  # None: every record's verifier runs; a number: a task's
                                       # verifier stops once it costs more per record (timing decides: not reproducible)
    run_code: bool = True              # verifiers that execute code (unit tests in the sandbox) run, in a worker pool


class DedupConfig(StrictConfig):
    num_perm: int = Field(128, ge=1)
    bands: int = Field(16, ge=1)       # 16 bands x 8 rows: candidate threshold ~0.71, verified at `threshold`
    threshold: float = Field(0.8, ge=0, le=1)  # estimated Jaccard of char shingles above which records are near-duplicates
    shingle: int = Field(5, ge=1)      # characters per shingle
    short_shingle: int = Field(3, ge=1)  # ... for texts shorter than `short_chars` (short instructions)
    short_chars: int = Field(60, ge=0)
    near: bool = True
    answer_threshold: float = Field(0.5, ge=0, le=1)  # ... and their answers at least this similar (shared passages, new questions)
    eval_files: list[str] = Field(default_factory=list)
    contamination_ngram: int = Field(13, ge=1)  # characters per n-gram for the eval overlap check
    contamination_threshold: float = Field(0.5, ge=0, le=1)  # share of a prompt's n-grams found in eval prompts
    # an n-gram in at least this many eval prompts is their shared instruction (label list, JSON spec), not
    # any one item's content: the overlap check leaves it out on both sides (dedup.eval_ngrams)
    contamination_template_min: int = Field(4, ge=2)

    @model_validator(mode="after")
    def _bands_fit(self) -> DedupConfig:
        if self.bands > self.num_perm:
            raise ValueError(f"bands ({self.bands}) must be at most num_perm ({self.num_perm}): "
                             "each band needs at least one row of the signature")
        return self


class ConflictsConfig(StrictConfig):
    contradictory_answers: Policy = "keep_best"   # (a) same instruction, answers that disagree
    cross_label: Policy = "majority"              # (b) same instruction under two task labels
    answer_shape: Policy = "review"               # (c) an answer shaped like another task's
    label_mismatch: Policy = "relabel"            # the classifier is sure the trusted label is wrong
    near_threshold: float = Field(0.95, ge=0, le=1)  # instruction Jaccard that counts as "the same instruction"
    shape_own_max: float = Field(0.3, ge=0, le=1)    # (c) own-task likeness at most this ...
    shape_other_min: float = Field(0.8, ge=0, le=1)  # ... and another task's at least this


class BalanceConfig(MixtureConfig):
    """The mixture the curated file should have (`total`: as many records as survive the earlier rounds),
    and how to reach it."""

    augment: bool = True               # up-sample with augmented copies before plain repeats
    max_upsample: float = Field(4.0, ge=1)  # a task grows to at most this many times its records (copies included)
    difficulty_bins: int = Field(4, ge=1)  # down-sampling keeps each task's difficulty spread
    # How a task below its target grows. "copies": augmented copies of its own records, then repeats.
    # "registry": first fresh records from the task registry's generator (training content, answers that pass
    # the task's format check), then copies for what the registry cannot draw. A rare task then learns from
    # new examples of its form instead of a few seen four times; the counts stay the same.
    upsample_with: UpsampleWith = "copies"
    # Records the task registry's generators add (diagnosis's levers; mtsft.mixture.registry_additions), each a
    # share of the balanced set: {"a>b": share}, prompts of task a that read like task b answered as a (hard
    # negatives against crosstalk); {task: share}, records whose answers pass the task's format check.
    hard_negatives: dict[str, Share] = {}
    format_exemplars: dict[str, Share] = {}

    @field_validator("hard_negatives")
    @classmethod
    def _pairs(cls, value: dict[str, float]) -> dict[str, float]:
        for pair in value:
            parse_pair(pair)
        return value


class ValidateConfig(StrictConfig):
    min_per_task: int = Field(1, ge=0)
    tolerance: float = Field(0.05, ge=0, le=1)  # allowed |share - target share| per task
    fail_on_error: bool = True


class CurateConfig(StrictConfig):
    seed: Seed = 0
    workers: int | None = Field(None, ge=1)  # processes for per-record rounds; None: every core this process may use.
                                       # The result is the same whatever the count (fixed chunks, input order kept)
    tokenizer: str | None = None       # model spec for token lengths; None = chars-per-token estimate
    # Model spec that scores difficulty by answer loss; None = heuristics only. `model`, its old name, still
    # loads (the config.yaml of earlier runs).
    difficulty_model: str | None = Field(None, validation_alias=AliasChoices("difficulty_model", "model"))
    progress: bool = True
    classify: ClassifyConfig = Field(default_factory=ClassifyConfig)
    quality: QualityConfig = Field(default_factory=QualityConfig)
    dedup: DedupConfig = Field(default_factory=DedupConfig)
    conflicts: ConflictsConfig = Field(default_factory=ConflictsConfig)
    balance: BalanceConfig = Field(default_factory=BalanceConfig)
    validate_: ValidateConfig = Field(default_factory=ValidateConfig, alias="validate")
