"""Profiles: the DESIGN example loads; each kind of bad input names the file and key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from worksample.mockllm.profile import ProfileError, load_profile

DESIGN_EXAMPLE = """\
seed: 7
models:
  - {id: atlas-mini, input_per_mtok: 0.15, output_per_mtok: 0.60, context_window: 16000}
  - {id: atlas-pro,  input_per_mtok: 2.50, output_per_mtok: 10.00, context_window: 128000}
rate_limits: {rpm: 60, tpm: 40000}
budget_usd: 2.00
latency: {p50_ms: 250, p95_ms: 1500}
faults:
  - {kind: server_error, rate: 0.04}
  - {kind: overloaded, rate: 0.03}
  - {kind: bad_gateway, rate: 0.01}
  - {kind: timeout, rate: 0.02}
  - {kind: reset, rate: 0.01}
  - {kind: malformed_json, rate: 0.02}
  - {kind: truncated, rate: 0.02}
  - {kind: content_filter, rate: 0.005}
incidents:
  - {kind: outage, start_s: 300, duration_s: 45}
  - {kind: rate_limit_storm, start_s: 900, duration_s: 120, rpm: 6}
"""
MODELS = "models:\n  - {id: m, input_per_mtok: 1, output_per_mtok: 2}\n"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "profile.yaml"
    path.write_text(text)
    return path


def test_design_example_loads(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, DESIGN_EXAMPLE))
    assert profile.model_ids() == ["atlas-mini", "atlas-pro"]
    assert profile.seed == 7 and len(profile.faults) == 8 and profile.incidents[1].rpm == 6


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        (MODELS + "colour: blue\n", "colour", "unknown key"),
        (MODELS + "rate_limits: {rpm: -5, tpm: 100}\n", "rate_limits.rpm", "greater than 0"),
        (MODELS + "faults:\n  - {kind: server_error, rate: 0.7}\n  - {kind: reset, rate: 0.4}\n", "faults", "sum to 1.1"),
        ("models:\n  - {id: m, context_window: 100}\n", "models.0.input_per_mtok", "Field required"),
        ("models:\n  - {id: m, input_per_mtok: 1}\n", "models.0.output_per_mtok", "Field required"),
        (MODELS + "incidents:\n  - {kind: outage, start_s: -1, duration_s: 10}\n", "incidents.0.start_s", "greater than or equal to 0"),
        (MODELS + "incidents:\n  - {kind: outage, start_s: 10, duration_s: 1000000}\n", "incidents.0.duration_s", "less than or equal"),
        (MODELS + "incidents:\n  - {kind: rate_limit_storm, start_s: 10, duration_s: 5}\n", "incidents.0", "needs rpm or tpm"),
        (MODELS + "faults:\n  - {kind: gremlins, rate: 0.1}\n", "faults.0.kind", "Input should be"),
        (MODELS + "faults:\n  - {kind: reset, rate: 0.1, stall_s: 5}\n", "faults.0", "stall_s applies only"),
        (MODELS + "latency: {p50_ms: 500, p95_ms: 100}\n", "latency", "p95_ms must be >= p50_ms"),
        ("models: []\n", "models", "at least 1"),
        ("models:\n  - {id: m, input_per_mtok: 1, output_per_mtok: 1}\n  - {id: m, input_per_mtok: 1, output_per_mtok: 1}\n", "models", "duplicate model id"),
        ("- just a list\n", "(document)", "must be a mapping"),
        ("models: [unclosed\n", "(document)", "invalid YAML"),
    ],
)
def test_bad_profile_names_file_and_key(tmp_path: Path, text: str, key: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    err = info.value
    assert err.key == key
    assert message in err.message
    assert str(err) == f"{path}: {key}: {err.message}"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="cannot read"):
        load_profile(tmp_path / "nope.yaml")


def test_cli_validate_and_serve_refuse_bad_profile(tmp_path: Path) -> None:
    path = write(tmp_path, MODELS + "rate_limits: {rpm: -1, tpm: 1}\n")
    log = tmp_path / "logs" / "calls.jsonl"
    for argv in (["validate", str(path)], ["serve", "--profile", str(path), "--port", "1", "--log", str(log)]):
        proc = subprocess.run([sys.executable, "-m", "worksample.mockllm", *argv], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 1, proc.stderr
        assert proc.stderr.strip() == f"{path}: rate_limits.rpm: Input should be greater than 0"
    assert not log.parent.exists()  # the server never started


def test_cli_validate_ok(tmp_path: Path) -> None:
    path = write(tmp_path, DESIGN_EXAMPLE)
    proc = subprocess.run([sys.executable, "-m", "worksample.mockllm", "validate", str(path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "ok (2 models, 8 faults, 2 incidents)" in proc.stdout
