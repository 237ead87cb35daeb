"""Bad input and faults from `worksample sandbox run`: one line saying what and what to run."""

from __future__ import annotations

import os

import pytest

pytestmark = [pytest.mark.docker]


@pytest.mark.parametrize("args, option", [
    (["--memory", "lots"], "--memory"),
    (["--pids", "0"], "--pids"),
    (["--cpus", "-1"], "--cpus"),
    (["--timeout", "0"], "--timeout"),
    (["--disk", "1x"], "--disk"),
])
def test_nonsense_limits_are_usage_errors(cli, args, option):
    result = cli(*args, "--", "true")
    assert result.returncode == 2
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and option in lines[0], result.stderr


def test_engine_down_is_one_line_with_what_to_run(cli, tmp_path):
    env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"}
    result = cli("--", "true", env=env)
    assert result.returncode == 1
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "Docker engine not reachable" in lines[0] and "dockerd" in lines[0], lines


def test_missing_image_is_one_line_with_what_to_run(cli):
    result = cli("--image", "worksample/absent:000000000000", "--", "true")
    assert result.returncode == 1
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "run `worksample images build`" in lines[0], lines
