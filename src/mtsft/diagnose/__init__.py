"""`mtsft diagnose`: the five multi-task problems measured on a run, each a number against a threshold,
decided on confidence intervals, with its evidence and the lever that fixes it.

    RUN/eval_{base,tuned}/ (predictions.jsonl, scores.json)  RUN/train/task_loss.csv  RUN/curate/kept.jsonl
      -> problems.measure_all  (uneven, crosstalk, format, forgetting, overfitting)
      -> levers.propose / levers.apply_levers  (the changed run config, typed)
      -> report.write_report   (report.md, report.html with embedded plots, diagnosis.json)
"""

from mtsft.diagnose.config import DiagnoseConfig
from mtsft.diagnose.diagnose import Diagnosis, diagnose_run

__all__ = ["DiagnoseConfig", "Diagnosis", "diagnose_run"]
