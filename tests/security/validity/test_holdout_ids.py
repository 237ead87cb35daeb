"""The attempt's mock must not label hold-out tickets by id, nor confirm which ids exist (issue 11, item 4).

The candidate's mock during the attempt serves the same oracle as grading.
With only an id in the prompt, a real model knows nothing about the ticket;
the mock answers the same kind of guess whether the id exists or not.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import httpx
import pytest

from validity_kit import TASK, holdout

pytestmark = pytest.mark.timeout(300)


def _ask(mock, prompt: str) -> dict:
    response = httpx.post(f"{mock.base_url}/chat/completions", timeout=30, headers={"Authorization": "Bearer sk-x"}, json={
        "model": "atlas-pro", "response_format": {"type": "json_object"},
        "messages": [{"role": "system", "content": "Classify the support ticket; JSON with category and priority."},
                     {"role": "user", "content": prompt}]})
    assert response.status_code == 200, response.text
    return json.loads(response.json()["choices"][0]["message"]["content"])


def test_holdout_ids_alone_get_guesses_not_labels(tmp_path: Path, mock_process):
    profile = {"rate_limits": {"rpm": 100000, "tpm": 100000000}, "latency": {"p50_ms": 1, "p95_ms": 2}}
    mock = mock_process(profile, extra=("--oracle", str(TASK / "oracle.py")))
    with (TASK / "grader" / "data" / "holdout_labels.csv").open(newline="") as fh:
        labels = {r["id"]: r for r in csv.DictReader(fh)}
    tickets = holdout()[:60]
    right = sum(_ask(mock, f"Ticket {t['id']}")["category"] == labels[t["id"]]["category"] for t in tickets)
    assert right / len(tickets) < 0.35, f"{right} of {len(tickets)} hold-out tickets labelled right from their id alone"
    real, fake = _ask(mock, f"Ticket {tickets[0]['id']}"), _ask(mock, "Ticket TKT-000017")
    assert sorted(real) == sorted(fake) and real.get("reason") == fake.get("reason")  # existence is not revealed
