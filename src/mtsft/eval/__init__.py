"""Evaluation: scoring predictions with each task's verifier, and the code sandbox verifiers run in."""
