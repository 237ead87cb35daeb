"""The candidate's deliverables in the run folder's `outputs/`: read one, or fail the check that needs it.

A deliverable that is missing, a symlink, over the size cap or unparseable is the
candidate's outcome: the check that needs it fails with a message naming the file,
never errors. Read as data only (see `runfolder`). Standard library plus pytest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, TypeVar

import pytest

from worksample_grader import runfolder as rf

T = TypeVar("T")


def read_deliverable(outputs: Path, name: str, reader: Callable[[Path], T] = rf.read_capped) -> T:
    """`reader` applied to outputs/`name` (by default its bytes, size-capped).

    Fails the calling check with "outputs/NAME was not produced" when it is not a regular
    file, and with "outputs/NAME: <why>" when `reader` raises `runfolder.RunFolderError`.
    """
    path = outputs / name
    if not path.is_file() or path.is_symlink():
        pytest.fail(f"outputs/{name} was not produced", pytrace=False)
    try:
        return reader(path)
    except rf.RunFolderError as exc:
        pytest.fail(f"outputs/{name}: {exc}", pytrace=False)
