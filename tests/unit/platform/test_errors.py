"""Issue 9: what the grading queue retries is decided by one hierarchy, not a hand-kept tuple.

A grading pod whose mock never listened ended as `error` because `PodStartError` and
`QuotaError` were missing from the tuple; each infrastructure fault the platform raises
must be an `InfrastructureError` (the end-to-end case: tests/integration/grading/test_infrastructure_faults.py).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from worksample.errors import DomainError, InfrastructureError

pytestmark = pytest.mark.timeout(30)

PKG = Path(__file__).resolve().parents[3] / "platform" / "worksample"


def test_every_fault_of_the_platforms_machinery_is_retried_by_the_queue():
    from worksample.errors import DockerUnavailable, ImageMissing, RedisUnavailable
    from worksample.grading.runner import MockLost
    from worksample.sandbox.docker_pods import PodStartError
    from worksample.sandbox.kernel import KernelNotReady
    from worksample.sandbox.quota import QuotaError
    from worksample.workspace.pods import PodNotReady

    for fault in (PodStartError, QuotaError, KernelNotReady, MockLost, PodNotReady, DockerUnavailable,
                  RedisUnavailable, ImageMissing):
        assert issubclass(fault, InfrastructureError) and not issubclass(fault, DomainError), fault


OURS = {"DockerUnavailable", "RedisUnavailable", "ImageMissing", "InfrastructureError", "PodStartError", "QuotaError",
        "KernelNotReady", "MockLost", "PodNotReady"}


def error_tuples(source: str) -> list[int]:
    """Lines of `source` holding a tuple that names three or more of our error classes."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Tuple):
            names = {getattr(e, "id", getattr(e, "attr", "")) for e in node.elts}
            if len(names & OURS) >= 3:
                lines.append(node.lineno)
    return lines


def test_no_module_keeps_a_tuple_of_faults_to_retry():
    """`INFRASTRUCTURE_FAULTS = (DockerUnavailable, ImageMissing, ...)` (or one inline in an except) is the bug coming back."""
    old = "INFRASTRUCTURE_FAULTS = (DockerUnavailable, ImageMissing, RedisUnavailable, MockLost, KernelNotReady)\n"
    assert error_tuples(old) == [1]
    found = [f"{p.relative_to(PKG)}:{n}" for p in PKG.rglob("*.py") for n in error_tuples(p.read_text(encoding="utf-8"))]
    assert not found, found
