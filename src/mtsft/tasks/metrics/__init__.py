"""The field's standard metrics, each ported (not vendored) from its reference implementation.

| module     | metric                                   | reference implementation                                  |
|------------|------------------------------------------|-----------------------------------------------------------|
| gsm8k      | GSM8K exact match, strict / flexible      | EleutherAI lm-evaluation-harness, lm_eval/tasks/gsm8k/gsm8k.yaml |
| squad      | SQuAD v1.1 EM / F1 (English)              | rajpurkar SQuAD v1.1 evaluate-v1.1.py                     |
| cmrc2018   | CMRC 2018 EM / F1 (Chinese, char LCS)     | ymcui/cmrc2018 cmrc2018_evaluate.py (v5)                  |
| mt         | chrF, BLEU (sentence and corpus)          | sacrebleu itself (called, not re-implemented)             |
| ner        | entity micro-F1 over (type, span)         | conlleval / seqeval micro average, over entity sets       |
| accuracy   | accuracy over a label set in the prompt   | (plain accuracy; the label extraction is mtsft's)         |

`answers` and `numerals` are mtsft's own extraction around those metrics (lead-ins, hedges, number words):
what a reviewer can game is the extraction, so it is tested with named cases in tests/verifier_cases.

`METRICS` names each metric a task can declare in its `metric` attribute; a scores table prints that name
next to the task's score.
"""

from __future__ import annotations

METRICS: dict[str, str] = {
    "gsm8k exact match": "the final number (#### line, else the marked answer, else the last number) equals the reference",
    "SQuAD F1 (en) / CMRC2018 F1 (zh)": "the official F1 of the extracted answer span against the reference spans",
    "accuracy": "the one label the output names, from the label set the prompt lists, is the reference label",
    "entity micro-F1": "micro-F1 over (field or entity type, value) pairs of the JSON object",
    "chrF (sacrebleu)": "sentence chrF per record; corpus chrF and BLEU (Task.corpus_scores) for a table",
}
