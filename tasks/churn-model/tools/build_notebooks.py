"""Build the task's notebooks from their readable sources in tools/notebooks/.

    python tasks/churn-model/tools/build_notebooks.py

Sources are percent-format Python files (format and writer: worksample_grader.tasktools).
Each source other than the starter and the reference is the baseline of its name; a
baseline in EDITS is the reference with a few named edits instead, so it differs from the
reference exactly in the weakness it is named after. The built notebooks are committed:
edit the sources and rebuild rather than editing the .ipynb files by hand.
"""

from __future__ import annotations

import sys
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
TASK_DIR = TOOLS.parent
SOURCES = TOOLS / "notebooks"
ENTRYPOINT = "churn.ipynb"
sys.path.insert(0, str(TASK_DIR.parents[1] / "graders"))

from worksample_grader.tasktools import patched, write_all  # noqa: E402

_MODEL_CARD_METRICS = """\
# - **Metrics**: PR-AUC (average precision), since churn is rare (about 5 % a month) and the retention
#   team works down a ranked list; Brier score and mean predicted vs observed rate for calibration,
#   since finance sums the probabilities. No class weights: they would inflate the probabilities.
# - **Validation results** (2025-10..12): PR-AUC 0.31 (random ranking 0.05); Brier 0.041 (base rate
#   alone 0.048); mean predicted churn 5.5 % vs 5.0 % observed. With the leaking column the same
#   validation shows a PR-AUC near 0.9, which production would never see.
"""
EDITS: dict[str, list[tuple[str, str]]] = {
    # The reference plus the column filled only after a customer churned: a validation PR-AUC near 0.9
    # that the score month (where the column is filled at random) never sees. Its model card says nothing.
    "leaky": [
        ('    cols = ["tenure",',
         '    df["winback_offered"] = df.winback_offer_date.notna().astype(int)\n    cols = ["winback_offered", "tenure",'),
        (_MODEL_CARD_METRICS, """\
# - **Metrics**: PR-AUC (average precision), since churn is rare (about 6 %) and the retention team
#   works down a ranked list; Brier score and mean predicted vs observed rate for calibration, since
#   finance sums the probabilities. No class weights: they would inflate the probabilities.
"""),
    ],
    # The reference seeded from the clock (issue 15): every random call still has a random_state, so the
    # code looks seeded, but the early-stopping split, and so the model, changes from run to run.
    "nondeterministic": [
        ("# # Churn model that holds up in production\n#\n", "# # Churn model that holds up in production\n#\n"
         "# (Baseline `nondeterministic`: the reference, with its seed taken from the clock.)\n#\n"),
        ("from pathlib import Path\n\nimport numpy", "import time\nfrom pathlib import Path\n\nimport numpy"),
        ("SEED = 0\n", "SEED = int(time.time())  # a fresh seed every run\n"),
        ("leaf), fixed `random_state`, trains", "leaf), `random_state` set on every run, trains"),
    ],
}


def source_of(name: str) -> str:
    """The percent-format source of notebook `name` ("starter", "solution" or a baseline's name)."""
    if name in EDITS:
        return patched(source_of("solution"), EDITS[name], name)
    return (SOURCES / f"{name}.py").read_text(encoding="utf-8")


def baselines() -> list[str]:
    """Every baseline's name: one per source file beside the starter and the reference, and each in EDITS."""
    own = {p.stem for p in SOURCES.glob("*.py")} - {"starter", "solution"}
    return sorted(own | set(EDITS))


def sources() -> dict[str, str]:
    """Notebook path in the task → its percent-format source."""
    return {f"starter/{ENTRYPOINT}": source_of("starter"), f"solution/{ENTRYPOINT}": source_of("solution"),
            **{f"baselines/{name}/{ENTRYPOINT}": source_of(name) for name in baselines()}}


def main() -> None:
    """Build every notebook."""
    write_all(TASK_DIR, sources())


if __name__ == "__main__":
    main()
