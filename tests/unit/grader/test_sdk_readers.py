"""The grading SDK's shared readers: calibration.json, a deliverable, and the cost check against the reference."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from worksample_grader import runfolder as rf
from worksample_grader.calibration import read_calibration, score_cost
from worksample_grader.deliverables import read_deliverable

Failed = pytest.fail.Exception


def test_calibration_is_read_and_a_missing_file_is_the_tasks_fault(tmp_path: Path) -> None:
    with pytest.raises(Failed, match=r"task authoring error: calibration.json is missing \(run tools/calibrate.py\)"):
        read_calibration(tmp_path)
    (tmp_path / "calibration.json").write_text('{"naive": 0.4}')
    assert read_calibration(tmp_path) == {"naive": 0.4}
    (tmp_path / "calibration.json").write_text("{not json")
    with pytest.raises(rf.RunFolderError, match="calibration.json"):
        read_calibration(tmp_path)


def test_a_deliverable_missing_linked_or_unreadable_fails_the_check_naming_it(tmp_path: Path) -> None:
    with pytest.raises(Failed, match=r"^outputs/labels.csv was not produced$"):
        read_deliverable(tmp_path, "labels.csv")
    secret = tmp_path.parent / f"{tmp_path.name}-secret"
    secret.write_text("not theirs")
    os.symlink(secret, tmp_path / "labels.csv")  # a link out of outputs/ is not a deliverable
    with pytest.raises(Failed, match="was not produced"):
        read_deliverable(tmp_path, "labels.csv")
    (tmp_path / "answers.json").write_text("{torn")
    with pytest.raises(Failed, match=r"^outputs/answers.json: .*answers.json"):
        read_deliverable(tmp_path, "answers.json", rf.read_json)
    (tmp_path / "answers.json").write_text('{"a": 1}')
    assert read_deliverable(tmp_path, "answers.json", rf.read_json) == {"a": 1}
    assert read_deliverable(tmp_path, "answers.json") == b'{"a": 1}'


@dataclass
class Call:
    cost_usd: float


@dataclass
class Log:
    calls: list[Call]


@dataclass
class Check:
    scaled: list[tuple[float, str]] = field(default_factory=list)

    def scale(self, fraction: float, message: str) -> None:
        self.scaled.append((fraction, message))


def test_cost_is_scored_against_the_reference_per_unit() -> None:
    check = Check()
    score_cost(check, Log([Call(0.5), Call(0.5)]), 100, "ticket", reference=0.01, full_at=1.5, zero_at=4)
    assert check.scaled == [(1.0, "$0.010000 per ticket, 1.00× the reference's $0.010000 (total $1.0000)")]
    score_cost(check, Log([Call(2.75)]), 100, "ticket", reference=0.01, full_at=1.5, zero_at=4)
    assert check.scaled[-1][0] == pytest.approx(0.5)  # 2.75× lies halfway between 1.5× and 4×
    with pytest.raises(AssertionError, match=r"4.00× the reference's .*: 4× or more"):
        score_cost(Check(), Log([Call(4.0)]), 100, "ticket", reference=0.01, full_at=1.5, zero_at=4)
