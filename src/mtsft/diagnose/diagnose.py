"""`diagnose_run`: read a run, measure the five problems, propose the levers (one call for CLI and notebooks)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mtsft.diagnose.config import DiagnoseConfig
from mtsft.diagnose.inputs import RunInputs, load_inputs
from mtsft.diagnose.levers import Lever, propose
from mtsft.diagnose.problems import Finding, measure_all


@dataclass
class Diagnosis:
    inputs: RunInputs
    findings: list[Finding]
    levers: list[Lever] = field(default_factory=list)
    config: DiagnoseConfig = field(default_factory=DiagnoseConfig)

    def fired(self) -> list[str]:
        return [f.problem for f in self.findings if f.fires]

    def finding(self, problem: str) -> Finding:
        return next(f for f in self.findings if f.problem == problem)

    def to_dict(self) -> dict:
        inp = self.inputs
        return {"run": str(inp.run_dir) if inp.run_dir else None,
                "base": str(inp.base.path) if inp.base else None, "tuned": str(inp.tuned.path) if inp.tuned else None,
                "train": str(inp.train_dir) if inp.train_dir else None, "fired": self.fired(),
                "findings": [f.to_dict() for f in self.findings], "levers": [lv.to_dict() for lv in self.levers],
                "config": self.config.model_dump(mode="json")}


def _model_spec(inputs: RunInputs) -> str | None:
    for source in (inputs.train_config, inputs.run_config):
        if source and source.get("model"):
            return str(source["model"])
    return None


def maybe_perplexity(inputs: RunInputs, cfg: DiagnoseConfig, log=print) -> None:
    """Fill `inputs.perplexity` from the models when it is not there yet and the run has weights."""
    if inputs.perplexity is not None or not cfg.perplexity:
        return
    if inputs.train_dir is None or not (inputs.train_dir / "model").exists():
        inputs.perplexity = {"error": "no trained weights found (RUN/train/model): perplexity not computed"}
        return
    from mtsft.diagnose.perplexity import general_perplexity, general_texts

    texts = general_texts(cfg.forgetting.texts)
    if len(texts) < 2:
        inputs.perplexity = {"error": "no general held-out texts (mtsft.datasets.general_texts)"}
        return
    spec = _model_spec(inputs) or "builtin"
    try:
        inputs.perplexity = general_perplexity(spec, str(inputs.train_dir), texts=texts,
                                               max_length=cfg.forgetting.max_length,
                                               batch_size=cfg.forgetting.batch_size, log=log)
    except (OSError, ValueError, RuntimeError, ImportError) as e:   # a model that cannot be loaded here
        inputs.perplexity = {"error": f"perplexity not computed: {e.__class__.__name__}: {str(e)[:200]}"}


def diagnose_run(run_dir: str | Path | None = None, *, base=None, tuned=None, train=None, config=None,
                 cfg: DiagnoseConfig | None = None, judge=None, log=print) -> Diagnosis:
    cfg = cfg or DiagnoseConfig()
    inputs = load_inputs(run_dir, base=base, tuned=tuned, train=train, config=config)
    maybe_perplexity(inputs, cfg, log=log)
    findings = measure_all(inputs, cfg, judge=judge, log=log)
    return Diagnosis(inputs, findings, propose(findings, inputs, cfg), cfg)
