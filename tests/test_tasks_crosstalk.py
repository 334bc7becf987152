"""Verifiers tell tasks apart: another task's reference answer scores low, and output shapes are
recognised (the figures are printed with -s)."""

from __future__ import annotations

from mtsft.eval.prediction_scores import cross_task_matrix, likeness_accuracy


def test_cross_task_scores_stay_below_point_three_and_diagonal_is_one():
    matrix = cross_task_matrix(n_per_task=8)
    print("\nverifier -> mean score of other tasks' references")
    for verifier, row in matrix.items():
        print(f"{verifier:>22} " + " ".join(f"{v:4.2f}" for v in row.values()))
    for verifier, row in matrix.items():
        assert row[verifier] == 1.0, verifier
        for answers, mean in row.items():
            if answers != verifier:
                assert mean < 0.3, (verifier, answers, mean)


def test_output_likeness_recognises_the_task_of_most_references():
    accuracy, per_task = likeness_accuracy(n_per_task=15)
    print(f"\nargmax output_likeness == own task: {accuracy:.1%}", {k: round(v, 2) for k, v in per_task.items()})
    assert accuracy >= 0.8
    for shaped in ("code", "extraction", "brainstorming", "classification", "math"):
        assert per_task[shaped] >= 0.9, shaped
