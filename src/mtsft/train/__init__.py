"""Training: `train(cfg)` runs a (staged) SFT run; see stages.py for the run-directory layout."""
