"""`worksample task new SLUG`: a task folder that validates, with TODOs to fill in."""

from __future__ import annotations

import json
import re
from pathlib import Path

from worksample.errors import UsageError

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$")

_TASK_YAML = """\
slug: {slug}
title: TODO title shown to candidates
summary: TODO one sentence on what the candidate builds
track: llm-engineering        # llm-engineering | ml-engineering | mlops | agentic
time_limit: 2h                # hard maximum 2h
image: notebook
resources: {{cpus: 1, memory: 2g, pids: 256, disk: 512m}}
workspace: {{starter: starter/, data: data/, entrypoint: solution.ipynb}}
mock_llm: {{attempt_profile: profiles/attempt.yaml, grading_profile: profiles/grading.yaml, oracle: oracle.py}}
grading: {{timeout: 15m, suite: grader/, include: [], pass_threshold: 70}}
rubric:
  - {{id: tradeoffs, title: Explains the trade-offs made, points: 10}}
"""

_PROFILE = """\
seed: {seed}
models:
  - {{id: atlas-mini, input_per_mtok: 0.15, output_per_mtok: 0.60, context_window: 16000}}
  - {{id: atlas-pro, input_per_mtok: 2.50, output_per_mtok: 10.00, context_window: 128000}}
rate_limits: {{rpm: 60, tpm: 40000}}
budget_usd: 1.00
latency: {{p50_ms: 200, p95_ms: 800}}
faults:
  - {{kind: server_error, rate: 0.03}}
"""

_ORACLE = '''\
"""Hidden oracle: decides what the mock's models answer for this task (TODO)."""

from worksample.mockllm.oracle import OracleAnswer


def make_oracle(ctx):
    """Build the answer function once; ctx.task_dir holds the hidden files."""

    def answer(request):
        return OracleAnswer(content="TODO: answer from the task's hidden labels")

    return answer
'''

_README = """\
# TODO title

TODO: the brief the candidate reads: the scenario, the deliverables, the API
(base URL from `OPENAI_BASE_URL`, models, prices, limits, budget), the
two-hour cap, and what is judged in broad terms.
"""

TODO_LIST = [
    "task.yaml: title, summary, track, rubric",
    "README.md: the brief the candidate reads",
    "starter/solution.ipynb: the notebook the candidate starts from (rename entrypoint to taste)",
    "data/: the public data the candidate sees (no labels)",
    "grader/: hidden pytest checks and hidden data (hold-out set, labels)",
    "oracle.py: how the mock answers, from the hidden labels",
    "profiles/attempt.yaml, profiles/grading.yaml: prices, limits, budget, faults",
    "solution/ and baselines/<name>/ (with baseline.yaml: expect_fail: [...]): reference and weak solutions",
]


def _notebook() -> str:
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": ["# TODO\n", "Describe the first steps here."]},
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": ["# TODO: starter code\n"]},
    ]
    nb = {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}, "nbformat": 4, "nbformat_minor": 5}
    for i, cell in enumerate(cells):
        cell["id"] = f"cell-{i}"
    return json.dumps(nb, indent=1) + "\n"


def new_task(root: str | Path, slug: str) -> Path:
    """Create `root/slug` with every file a valid task needs; returns the folder.

    Raises UsageError for a bad slug or a folder that already exists.
    """
    if not _SLUG.match(slug):
        raise UsageError(f"{slug!r} is not a slug: use lower-case letters, digits and dashes (3-64 chars)")
    folder = Path(root) / slug
    if folder.exists():
        raise UsageError(f"{folder} already exists")
    files = {
        "task.yaml": _TASK_YAML.format(slug=slug),
        "README.md": _README,
        "starter/solution.ipynb": _notebook(),
        "data/README.md": "TODO: put the public data here.\n",
        "grader/README.md": "TODO: hidden pytest checks and hidden data.\n",
        "oracle.py": _ORACLE,
        "profiles/attempt.yaml": _PROFILE.format(seed=1),
        "profiles/grading.yaml": _PROFILE.format(seed=2),
    }
    for rel, text in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder
