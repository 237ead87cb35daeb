"""Checks with nothing to judge: they fail, earn zero and say "no evidence".

A check that passes because the run never met the situation it is about
(no calls, no 429 to honour, no ticket text sent) would reward doing
nothing. Suites call `require(condition, what)` before judging; the report
shows the message, which always starts with NO_EVIDENCE.
"""

from __future__ import annotations

from typing import NoReturn

import pytest

NO_EVIDENCE = "no evidence"


def no_evidence(what: str) -> NoReturn:
    """Fail the current check with "no evidence: <what>" (zero points)."""
    pytest.fail(f"{NO_EVIDENCE}: {what}", pytrace=False)


def require(condition: object, what: str) -> None:
    """Fail the current check with "no evidence: <what>" unless `condition` holds."""
    if not condition:
        no_evidence(what)


def is_no_evidence(message: str) -> bool:
    """True for the message of a check that failed for want of evidence."""
    return message.startswith(NO_EVIDENCE)
