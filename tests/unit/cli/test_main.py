import subprocess
import sys

import pytest

CLI = [sys.executable, "-m", "worksample"]


@pytest.mark.parametrize("argv,needle", [
    (["no-such-command"], "No such command"),
    (["task", "validate"], "Missing"),
    (["sandbox", "run", "--memory", "lots", "--", "true"], "--memory"),
    (["sandbox", "run", "--pids", "0", "--", "true"], "--pids"),
])
def test_usage_errors_exit_2_without_a_traceback(argv, needle):
    res = subprocess.run(CLI + argv, capture_output=True, text=True, timeout=60)
    assert res.returncode == 2, res.stderr
    assert needle in res.stderr
    assert "Traceback" not in res.stderr


def test_exit_codes_from_commands_reach_the_shell(tmp_path):
    bad = tmp_path / "p.yaml"
    bad.write_text("models: []\nsurprise: 1\n")
    res = subprocess.run(CLI + ["mockllm", "validate", str(bad)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 1
    assert res.stderr.startswith(f"{bad}: models")
