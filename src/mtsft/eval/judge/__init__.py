"""The crosstalk judge: given a prompt and an output, which task does the output perform?

Crosstalk is a model doing task B where task A was asked: answering the question it was asked to
translate, restating a code spec as a list, explaining instead of giving the label. Judged from the output
alone this cannot be seen (a correct translation is just a sentence), so the judge reads the PROMPT and
the OUTPUT together:

* `prompt`: what the prompt asks (the `intended` task when the caller knows it, else a small classifier
  on the prompt's words) and the material it quotes for the task to work on;
* `features`: what the output looks like and how it relates to that material;
* `pairs`: the training pairs, each task's clean records and the crossed ones the task itself builds
  (`Task.crossed_outputs`; a YAML plug-in gets the default ones), content kept and the task changed;
* `model`: a gradient-boosted model over those features, trained once and cached (`default_judge`);
* `backup`: an optional LLM that re-judges the pairs the model is unsure of.

    from mtsft.eval.judge import judge
    v = judge("Translate into Chinese: What is the capital of France?", "The capital of France is Paris.",
              intended="translation")
    v.performed_task, v.crossed   # ('open_qa', True)
"""

from __future__ import annotations

from mtsft.eval.judge.backup import LLMBackup
from mtsft.eval.judge.features import NO_TASK, no_task_reason, pair_features
from mtsft.eval.judge.model import (
    JUDGE_VERSION,
    CrosstalkJudge,
    Verdict,
    default_judge,
    default_judge_ready,
    judge,
    judge_many,
)
from mtsft.eval.judge.pairs import make_pairs
from mtsft.eval.judge.prompt import material_of, read_prompt, request_of

__all__ = ["NO_TASK", "no_task_reason", "Verdict", "CrosstalkJudge", "LLMBackup", "judge", "judge_many",
           "default_judge", "default_judge_ready", "make_pairs", "read_prompt", "request_of", "material_of", "pair_features",
           "JUDGE_VERSION"]
