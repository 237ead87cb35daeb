"""The worker's dead-pod sweep: a pod whose containers have all exited (an engine restart) goes; others stay."""

from __future__ import annotations

import pytest

from worksample.jobs.worker import DEAD_POD_GRACE_S, pod_is_dead
from worksample.sandbox import PodInfo

pytestmark = pytest.mark.timeout(10)
NOW = 1_000_000.0


def pod(created_ago: float = 600, **states: str) -> PodInfo:
    return PodInfo(id="p1", roles={role: f"c-{role}" for role in states}, states=dict(states),
                   deadline=int(NOW) + 3600, created=NOW - created_ago, dir=None)


def test_a_pod_whose_every_container_exited_is_dead():
    assert pod_is_dead(pod(mock="exited", workload="exited"), NOW)
    assert pod_is_dead(pod(mock="exited", workload="dead", grader="exited"), NOW)


@pytest.mark.parametrize("states", [
    {"mock": "running", "workload": "exited"},  # a kernel that died mid-grading: the runner still reads the pod
    {"mock": "exited", "workload": "exited", "grader": "running"},  # the grader still works
    {"mock": "running", "workload": "created"},  # being created
    {},
])
def test_a_pod_with_anything_alive_or_nothing_listed_stays(states):
    assert not pod_is_dead(pod(**states), NOW)


def test_a_just_created_pod_is_given_time():
    assert not pod_is_dead(pod(created_ago=DEAD_POD_GRACE_S / 2, mock="exited", workload="exited"), NOW)
