"""Fixtures of the refund-agent suite: the hold-out queue, the policy's answers, the service's ledger,
and which model calls belonged to which conversation.

Everything is read as data with size caps. The ledger comes from the company API's own
state and log (`service_state`, `service_log`), written by the mock container, never by
the candidate's code; the candidate's resolutions.jsonl is only the deliverable.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from worksample_grader import runfolder as rf
from worksample_grader.prompts import message_text, words

ORDER = re.compile(r"ORD-[A-Z0-9]{6}")


@pytest.fixture(scope="session")
def conversations(hidden_data: Path) -> dict[str, dict]:
    """The hold-out conversations the notebook was run on, by id."""
    return {row["id"]: row for row in rf.read_jsonl(hidden_data / "holdout" / "conversations.jsonl")}


@pytest.fixture(scope="session")
def expected(hidden_data: Path) -> dict[str, dict]:
    """Per hold-out conversation: kind, action (refund | escalate | decline), order_id, amount, decoy_order."""
    return rf.read_json(hidden_data / "expected.json")


@pytest.fixture(scope="session")
def orders(hidden_data: Path) -> dict:
    """Every order the service knew, with the policy's limit and window."""
    return rf.read_json(hidden_data / "orders.json")


@pytest.fixture(scope="session")
def calibration(hidden_data: Path) -> dict:
    """grader/data/calibration.json: the reference's measured cost per conversation."""
    return rf.read_json(hidden_data / "calibration.json")


@pytest.fixture(scope="session")
def ledger(service_state: dict) -> dict:
    """The service's final ledger: refunds made, escalations opened, refunds refused."""
    return {key: [r for r in service_state.get(key) or [] if isinstance(r, dict)]
            for key in ("refunds", "escalations", "refused")}


@pytest.fixture(scope="session")
def resolutions(outputs: Path) -> dict[str, dict]:
    """The candidate's outputs/resolutions.jsonl by conversation id (last line wins)."""
    path = outputs / "resolutions.jsonl"
    if not path.is_file() or path.is_symlink():
        return {}
    try:
        rows = rf.read_jsonl(path, cap=4 * 1024**2)
    except rf.RunFolderError:
        return {}
    return {str(r.get("conversation_id")): r for r in rows}


def _probe(conversation: dict) -> str:
    """The conversation's own order id as words: unique to it, and in every request about it."""
    match = ORDER.search(conversation.get("message", ""))
    return " " + " ".join(words(match.group(0) if match else conversation.get("message", "")[:80])) + " "


@pytest.fixture(scope="session")
def calls_by_conversation(llm_log, llm_bodies, conversations) -> dict[str, list]:
    """Paid model calls per hold-out conversation (a call counts for the conversation whose text it carries)."""
    probes = {cid: _probe(c) for cid, c in conversations.items()}
    out: dict[str, list] = {cid: [] for cid in conversations}
    for call in llm_log.calls:
        if call.free:
            continue
        haystack = " " + " ".join(words(message_text(llm_bodies.get(call.request_id)))) + " "
        for cid, probe in probes.items():
            if probe in haystack:
                out[cid].append(call)
                break
    return out
