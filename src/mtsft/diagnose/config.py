"""`DiagnoseConfig`: every threshold diagnosis decides on, typed, overridable with `--set uneven.max_spread=0.3`.

A check *fires* when the whole 95% interval of its number lies above its threshold, is *ok* when the whole
interval lies at or below it, and is *undecided* in between (more eval records would decide it). Numbers
without an interval (loss gaps, a rank correlation) are decided on the point value. Scores lie in [0, 1], so
a threshold on a score or its difference is at most 1 (a larger one could never fire).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from mtsft.config import Seed, StrictConfig


class UnevenConfig(StrictConfig):
    max_spread: float = Field(0.40, gt=0, le=1)    # best minus worst tuned task score
    max_drop: float = Field(0.10, gt=0, le=1)      # a trained task's score, base minus tuned (tuning made it worse)
    max_gain_spread: float = Field(0.25, gt=0, le=1)  # largest minus smallest gain over base (tuning helped some tasks only)


class CrosstalkConfig(StrictConfig):
    # The rise over base of the share of a task's outputs that perform another task: tuned minus base on the
    # same prompts (the judge's steady errors on weak outputs count on both sides). Without a base run, the
    # tuned model's absolute share.
    max_rate: float = Field(0.10, gt=0, lt=1)
    # judge: the prompt-aware crosstalk judge (mtsft.eval.judge); looks_like: the output-only recogniser
    # stored in predictions.jsonl (mislabels translations); auto: the judge
    judge: Literal["auto", "judge", "looks_like"] = "auto"
    min_confidence: float = Field(0.5, ge=0, le=1)  # judge verdicts below this confidence count as not crossed


class FormatConfig(StrictConfig):
    # The rise over base of the share of a task's outputs with at least one format violation (tuned minus
    # base on the same prompts); without a base run, the tuned model's absolute share.
    max_rate: float = Field(0.10, gt=0, lt=1)


class ForgettingConfig(StrictConfig):
    max_ppl_increase: float = Field(0.10, gt=0)  # general held-out perplexity, tuned / base - 1
    # General prompts' score drop in score points: base's mean score minus tuned's on the same prompts
    # (0.10 = tuned answers them a tenth of the score scale worse), decided on its paired bootstrap interval.
    # Not a ratio to base's mean, which blows up when base scores near zero; when base's mean is at most
    # this threshold the prompts leave no room for a drop above it and the check is n/a.
    max_score_drop: float = Field(0.10, gt=0, le=1)
    # Which eval rows are "general prompts": rows of suite `general`, else tasks the run did not train on,
    # else these tasks; in each case only rows in `general_langs` (empty: every language). The defaults are
    # prompts the embedded 135M model answers sensibly: it writes English only (its Chinese answers loop
    # and score ~0), and on the English prompts of these tasks it scores 0.34 (indicative, 24 built-in
    # held-out prompts) against 0.09 on the old zh+en open_qa and chitchat. A multilingual model: set
    # general_langs to [] (the full profile does).
    general_tasks: list[str] = ["open_qa", "chitchat", "rewriting"]
    general_langs: list[str] = ["en"]
    texts: int = Field(64, ge=2)                 # general texts for perplexity (mtsft.datasets.general_texts)
    max_length: int = Field(256, ge=8)           # tokens per text
    batch_size: int = Field(8, ge=1)


class OverfitConfig(StrictConfig):
    max_loss_gap: float = Field(0.50, gt=0)      # a task's final eval loss minus its final train loss (nats)
    max_seen_gap: float = Field(0.25, gt=0, le=1)  # a task's score on training content minus on held-out content
    max_share_corr: float = Field(0.60, gt=0, le=1)  # Spearman rank correlation of mixture share and gain
    min_share_ratio: float = Field(2.0, ge=1)    # the correlation is only read when shares differ this much
    min_tasks: int = Field(4, ge=3)              # ... and at least this many tasks were trained
    smooth: int = Field(3, ge=1)                 # train loss: mean of the last N logged values per task


class LeverConfig(StrictConfig):
    max_boost: float = Field(2.0, gt=1)          # a lagging / crossed task's mixture weight grows at most this much
    cut: float = Field(0.5, gt=0, lt=1)          # an overfitting task's weight is multiplied by this
    lr_factor: float = Field(0.5, gt=0, lt=1)    # forgetting: learning rate times this
    replay: float = Field(0.10, gt=0, le=1)      # forgetting / focus stage: replay share
    staged_above: float = Field(2.0, ge=1)       # uneven spread this many times its threshold: add a focus stage
    # registry records a lever adds, as this fraction of the task's share of the training set: hard negatives
    # per crossed pair (crosstalk), format exemplars per violating task (format)
    hard_negatives: float = Field(0.25, gt=0, le=1)
    exemplars: float = Field(0.25, gt=0, le=1)


class DiagnoseConfig(StrictConfig):
    uneven: UnevenConfig = Field(default_factory=UnevenConfig)
    crosstalk: CrosstalkConfig = Field(default_factory=CrosstalkConfig)
    format: FormatConfig = Field(default_factory=FormatConfig)
    forgetting: ForgettingConfig = Field(default_factory=ForgettingConfig)
    overfit: OverfitConfig = Field(default_factory=OverfitConfig)
    levers: LeverConfig = Field(default_factory=LeverConfig)
    min_n: int = Field(5, ge=1)                  # tasks with fewer eval records are shown, not judged
    bootstrap: int = Field(1000, ge=100)         # resamples for intervals computed here
    seed: Seed = 0
    worst: int = Field(5, ge=1)                  # evidence records per problem
    perplexity: bool = True                      # compute general perplexity when the models can be loaded
