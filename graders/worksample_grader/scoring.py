"""Scoring rules suites share: points on a curve, macro-F1, priority with costly misses, cost ratios.

Quality is scored between a naive baseline (no points) and the reference
(full points), so a trivial approach earns nothing and the reference's level
is the target, not perfection. Pure functions, unit-tested on their own.
"""

from __future__ import annotations


def curve(value: float, floor: float, full: float) -> float:
    """0 at or below `floor`, 1 at or above `full`, linear in between (0 if full <= floor and value < full)."""
    if value >= full:
        return 1.0
    if value <= floor or full <= floor:
        return 0.0
    return (value - floor) / (full - floor)


def falling(ratio: float, full_at: float, zero_at: float) -> float:
    """1 at or below `full_at`, 0 at or above `zero_at`, linear in between (e.g. cost against a reference)."""
    if ratio <= full_at:
        return 1.0
    if ratio >= zero_at:
        return 0.0
    return (zero_at - ratio) / (zero_at - full_at)


def macro_f1(truth: list[str], predicted: list[str], classes: tuple[str, ...]) -> float:
    """Unweighted mean F1 over `classes` (a class absent from both lists is skipped)."""
    scores = []
    for cls in classes:
        tp = sum(1 for t, p in zip(truth, predicted) if t == cls and p == cls)
        fp = sum(1 for t, p in zip(truth, predicted) if t != cls and p == cls)
        fn = sum(1 for t, p in zip(truth, predicted) if t == cls and p != cls)
        if tp + fp + fn == 0:
            continue
        scores.append(2 * tp / (2 * tp + fp + fn))
    return sum(scores) / len(scores) if scores else 0.0


def weighted_accuracy(truth: list[str], predicted: list[str], weights: dict[str, float]) -> float:
    """Accuracy where a ticket of true label L weighs weights.get(L, 1): missing a heavy one costs more."""
    total = sum(weights.get(t, 1.0) for t in truth)
    hits = sum(weights.get(t, 1.0) for t, p in zip(truth, predicted) if t == p)
    return hits / total if total else 0.0
