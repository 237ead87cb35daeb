"""Pure functions of the churn-model suite: PR-AUC, ROC AUC, ECE, comparing two runs, the static seeding analysis.

Kept apart from the checks so that tools/calibrate.py and unit tests use the
very same definitions without loading pytest marks.
"""

from __future__ import annotations

import ast

ECE_BINS = 10


def average_precision(truth: list[int], scores: list[float]) -> float:
    """PR-AUC as average precision (sklearn's definition: precision at each distinct score, weighted by recall gained)."""
    positives = sum(truth)
    if not positives:
        return 0.0
    pairs = sorted(zip(scores, truth), key=lambda p: -p[0])
    ap, tp, seen, i = 0.0, 0, 0, 0
    while i < len(pairs):
        j, gained = i, 0
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:  # ties share one threshold
            gained += pairs[j][1]
            j += 1
        tp, seen = tp + gained, seen + (j - i)
        ap += (gained / positives) * (tp / seen)
        i = j
    return ap


def roc_auc(flags: list[int], scores: list[float]) -> float:
    """ROC AUC of `scores` at separating flags 1 from 0 (Mann-Whitney with average ranks for ties)."""
    order = sorted(range(len(scores)), key=lambda k: scores[k])
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j < len(order) and scores[order[j]] == scores[order[i]]:
            j += 1
        for k in order[i:j]:
            ranks[k] = (i + j + 1) / 2
        i = j
    n1 = sum(flags)
    n0 = len(flags) - n1
    if not n1 or not n0:
        return 0.5
    return (sum(r for r, f in zip(ranks, flags) if f) - n1 * (n1 + 1) / 2) / (n1 * n0)


def expected_calibration_error(truth: list[int], scores: list[float], bins: int = ECE_BINS) -> float:
    """Mean |predicted − observed| over `bins` equal-count bins of the predictions, weighted by size."""
    pairs = sorted(zip(scores, truth), key=lambda p: p[0])
    n, total = len(pairs), 0.0
    for b in range(bins):
        chunk = pairs[b * n // bins:(b + 1) * n // bins]
        if chunk:
            total += abs(sum(p for p, _ in chunk) - sum(t for _, t in chunk))
    return total / n if n else 0.0


# Calls whose result depends on a random state unless one is given; the keyword that pins it.
SEEDED_CALLS = {name: "random_state" for name in (
    "RandomForestClassifier", "RandomForestRegressor", "ExtraTreesClassifier", "GradientBoostingClassifier",
    "HistGradientBoostingClassifier", "DecisionTreeClassifier", "SGDClassifier", "MLPClassifier",
    "BaggingClassifier", "AdaBoostClassifier", "train_test_split", "ShuffleSplit", "StratifiedShuffleSplit",
    "GroupShuffleSplit", "RandomizedSearchCV", "permutation_importance", "IsolationForest", "KMeans",
    "LogisticRegression", "LinearSVC", "CalibratedClassifierCV", "XGBClassifier", "LGBMClassifier", "sample",
    "KFold", "StratifiedKFold", "StratifiedGroupKFold")}
SEEDED_CALLS.update(default_rng="seed", RandomState="seed")
GLOBAL_SEEDS = ("seed",)  # np.random.seed(…) / random.seed(…): unseeded sklearn estimators then repeat too


def unseeded_calls(source: str) -> list[str]:
    """Names of the random calls in notebook code that nothing seeds (empty: the code repeats itself).

    A global `np.random.seed(…)`/`random.seed(…)` covers sklearn estimators and
    pandas sampling left at random_state=None (they draw from numpy's global
    state), but not a fresh `default_rng()`.
    """
    lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]  # magics are not Python
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return ["<code that does not parse>"]
    missing, global_seed = [], False
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in GLOBAL_SEEDS and isinstance(func, ast.Attribute) and node.args:
            global_seed = True
            continue
        keyword = SEEDED_CALLS.get(name)
        if keyword is None:
            continue
        given = {k.arg: k.value for k in node.keywords}
        value = given.get(keyword)
        positional = name in ("default_rng", "RandomState") and node.args
        if not positional and (value is None or (isinstance(value, ast.Constant) and value.value is None)):
            if name in ("KFold", "StratifiedKFold", "StratifiedGroupKFold") and not _shuffles(given):
                continue  # without shuffle the folds are fixed
            missing.append(name)
    if global_seed:
        missing = [m for m in missing if m in ("default_rng", "RandomState")]
    return missing


def _shuffles(given: dict) -> bool:
    value = given.get("shuffle")
    return value is not None and not (isinstance(value, ast.Constant) and value.value is False)


def run_differences(first: dict[str, float], second: dict[str, float], tolerance: float) -> tuple[list[str], float]:
    """What differs between two runs' probabilities by customer id (row order and number formatting
    do not matter), and the largest difference of a probability both runs gave."""
    problems = []
    for name, a, b in (("first", first, second), ("second", second, first)):
        only = sorted(a.keys() - b.keys())
        if only:
            problems.append(f"{len(only)} customer(s) predicted only in the {name} run (e.g. {', '.join(only[:3])})")
    gaps = [(abs(first[c] - second[c]), c) for c in sorted(first.keys() & second.keys())]
    largest, where = max(gaps, default=(0.0, ""))
    changed = sum(1 for gap, _ in gaps if gap > tolerance)
    if changed:
        problems.append(f"{changed} of {len(gaps)} probabilities changed (largest by {largest:.3g}, customer "
                        f"{where}: {first[where]:.6g} then {second[where]:.6g})")
    return problems, largest
