"""The training config: one typed object, loaded from a YAML recipe and `--set key=value` overrides.

A single-stage run uses the top-level `epochs`, `lr` and `mixture`; a staged run lists `stages`, each
with its own mixture, epochs and learning rate (unset stage fields fall back to the top level).
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from mtsft.config import Epochs, LearningRate, Seed, StrictConfig, load_config
from mtsft.mixture import MixtureConfig
from mtsft.tags import TagMode

Method = Literal["auto", "lora", "qlora", "full"]
Precision = Literal["auto", "bf16", "fp16", "fp32"]


class LoraSettings(StrictConfig):
    r: int = Field(16, ge=1)
    alpha: int = Field(32, ge=1)
    dropout: float = Field(0.0, ge=0, lt=1)
    target_modules: str | list[str] = "all-linear"


class TrainStage(StrictConfig):
    """One stage of a staged schedule; it starts from the previous stage's weights."""

    name: str
    epochs: Epochs | None = None
    lr: LearningRate | None = None
    mixture: MixtureConfig | None = None
    tasks: list[str] | None = None          # train only these tasks (plus replay of the others)
    families: list[str] | None = None       # ... or only tasks of these registry families
    replay: float = Field(0.0, ge=0, le=1)  # share of this stage's size drawn from the excluded tasks
    order: Literal["shuffled", "grouped"] = "shuffled"  # grouped: one task family after another


class EvalConfig(StrictConfig):
    data: str | None = None                 # a held-out file; else `fraction` of each task is held out
    fraction: float = Field(0.05, ge=0, lt=1)
    max_per_task: int = Field(32, ge=1)
    steps: int | None = Field(None, ge=1)   # evaluate every N steps (default: at the end of each stage)


class SelectionConfig(StrictConfig):
    """The held-out set each saved checkpoint answers under `select: best` (train/select.py): built-in synth
    records of the run's tasks from the held-out content, drawn with their own seed, prompts of the default
    eval draws left out, answered greedily within a short cap and scored by each task's verifier."""

    per_task: int = Field(8, ge=8)           # records per task (at least 8: fewer cannot tell checkpoints apart)
    max_new_tokens: int = Field(64, ge=1)    # the short answer cap (eval's own caps are 96-256 tokens)
    seed: Seed = 7919                        # the draw; eval suites draw with seed 1 / the run's seed + 1
    # prompts left out: `mtsft eval run`'s default built-in draw, and `mtsft run`'s (seed + 1) of these sizes
    # (its eval_n: default 288, profiles tiny 24 and full 576; tests/test_select.py keeps them in step)
    avoid_eval_n: list[Annotated[int, Field(ge=12)]] = [24, 288, 576]   # RunConfig.eval_n's own lower bound


class TrainConfig(StrictConfig):
    RECIPES: ClassVar[str] = "train"   # `-c lora`: mtsft/recipes/train/lora.yaml

    model: str = "builtin"
    trust_remote_code: bool = False         # run a hub model's own Python code: only for models you trust
    data: str | None = None
    out: str = "runs/latest"
    method: Method = "lora"
    precision: Precision = "auto"
    seed: Seed = 0

    epochs: Epochs = 1.0
    lr: LearningRate = 2e-4
    batch_size: int = Field(8, ge=1)        # rows per device per step (packed: a row holds several examples)
    grad_accum: int = Field(1, ge=1)
    max_steps: int | None = Field(None, ge=1)  # caps each stage (smoke runs, benchmarks)
    warmup_ratio: float = Field(0.03, ge=0, lt=1)
    weight_decay: float = Field(0.0, ge=0, le=1)  # decoupled (AdamW): the share of a weight lost per unit of lr
    scheduler: Literal["linear", "cosine", "constant", "constant_with_warmup"] = "cosine"
    max_grad_norm: float = Field(1.0, gt=0)

    max_length: int = Field(1024, ge=8)     # longer conversations are truncated
    # How examples become rows (bench/bench_train.py measures each against TRL's padded baseline; the
    # figures are in bench/results/train_throughput.json):
    # packed:  several examples per row of `pack_length` tokens, no attention across them (position ids,
    #          no attention mask); the least padding, and free with flash-attention's varlen kernels;
    # grouped: one example per row, rows of similar length batched together, right padding and a plain
    #          causal mask (no mask tensor at all). On CPU SDPA the packed rows' dense block-diagonal mask
    #          costs more than grouping saves;
    # padded:  one example per row in random order (the plain baseline);
    # auto:    packed where the attention kernel packs for free (CUDA + flash-attn), else grouped.
    batching: Literal["auto", "grouped", "packed", "padded"] = "auto"
    pack_length: int | None = Field(None, ge=8)  # row length when packed (default: max_length)
    # Tokens in one forward pass (rows x padded width). A batch with more runs as several passes over whole
    # rows whose gradients add up to the same step (the same training up to float rounding), so this caps
    # activation memory, not what is learned: about 2 MB a token for the 135M demo model on CPU, where a
    # batch of 8 CMRC rows of ~1,000 tokens in one pass held ~15 GB. None: the whole batch in one pass (GPUs).
    max_batch_tokens: int | None = Field(1024, ge=8)
    gradient_checkpointing: bool = False    # a 135M model does not need it; it costs 20-30% speed
    lm_head_trained_only: bool = True       # logits only where the loss needs them (49k vocab)
    threads: int | None = Field(None, ge=1, le=4096)  # None: mtsft's default (MTSFT_THREADS, else the usable cores)

    task_tags: TagMode = "none"
    # Label tasks' requests end with their label list when they do not name every label (mtsft.mixture.
    # with_label_list; the labels come from the record's reference or the task registry)
    label_list: bool = False
    # A task trains in at most this many of each stage's epochs ({math: 1.5}: the first epoch whole, half
    # of the second, none after); the overfitting lever's per-task cap
    max_task_epochs: dict[str, Epochs] = {}
    mixture: MixtureConfig | None = None    # None: train on the data as curated
    stages: list[TrainStage] | None = None
    lora: LoraSettings = LoraSettings()
    eval: EvalConfig = EvalConfig()

    logging_steps: int = Field(10, ge=1)
    save_steps: int = Field(50, ge=1)
    save_total_limit: int = Field(2, ge=1)
    # Which weights a stage ends with: best = the saved checkpoint (or the stage's end) with the best macro
    # score on the selection set, ties to the better worst task; last = the end. With fewer than two
    # candidates, or no built-in task in the data, nothing is scored and the end is kept.
    select: Literal["best", "last"] = "best"
    selection: SelectionConfig = SelectionConfig()
    # `mtsft train --split-by task|family`: one adapter per part, each with this share of the other parts
    split_replay: float = Field(0.1, ge=0, le=1)
    # tensorboard (RUN/tb), mlflow (the optional extra `pip install 'mtsft[mlflow]'`: RUN/mlruns, a local
    # file store, unless MLFLOW_TRACKING_URI is set), or [] for none; handed to the Trainer as they are
    report_to: list[str] = ["tensorboard"]
    # auto-method thresholds (records): the rule of thumb measured in bench/bench_lora_vs_full.py
    auto_lora_below: int = Field(2000, ge=0)
    auto_full_above: int = Field(5000, ge=0)

    @model_validator(mode="after")
    def _stages_named_once(self) -> TrainConfig:
        if self.stages is not None:
            if not self.stages:
                raise ValueError("stages is empty: drop the key for a single-stage run")
            names = [s.name for s in self.stages]
            dup = sorted({n for n in names if names.count(n) > 1})
            if dup:
                raise ValueError(f"stage names must be unique, repeated: {', '.join(dup)}")
        return self

    def stage_list(self) -> list[TrainStage]:
        """The stages to run, with unset fields filled from the top level."""
        if not self.stages:
            return [TrainStage(name="main", epochs=self.epochs, lr=self.lr, mixture=self.mixture)]
        return [s.model_copy(update={
            "epochs": s.epochs if s.epochs is not None else self.epochs,
            "lr": s.lr if s.lr is not None else self.lr,
            "mixture": s.mixture if s.mixture is not None else self.mixture,
        }) for s in self.stages]


def load_train_config(path=None, overrides: list[str] | None = None, values: dict | None = None) -> TrainConfig:
    return load_config(TrainConfig, path, overrides, values)
