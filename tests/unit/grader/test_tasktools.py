"""Task notebooks come from their sources: every committed notebook is what its task's tools build.

worksample_grader.tasktools builds them (percent-format cells, baselines as named edits of
the reference, shared cells included); each task's tools/build_notebooks.py lists them in
`sources()`. A hand edit of an .ipynb, a source changed without a rebuild, or a baseline
folder without a built notebook fails here.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import pytest

from worksample_grader.tasktools import code_of, load_module, notebook, parse_cells, patched, read_source, render

pytestmark = pytest.mark.timeout(30)

TASKS = sorted(p.parents[1] for p in (Path(__file__).resolve().parents[3] / "tasks").glob("*/tools/build_notebooks.py"))


def _build(task: Path):
    return load_module(f"tools_{task.name.replace('-', '_')}_build_notebooks_test", task / "tools" / "build_notebooks.py")


@pytest.mark.parametrize("task", TASKS, ids=[t.name for t in TASKS])
def test_committed_notebooks_are_what_the_sources_build(task: Path):
    built = _build(task).sources()
    assert f"solution/{Path(next(iter(built))).name}" in built
    for rel, text in built.items():
        assert (task / rel).read_text(encoding="utf-8") == render(rel, text), f"{task.name}: rerun tools/build_notebooks.py ({rel})"
    baselines = {p.name for p in (task / "baselines").iterdir() if p.is_dir()}
    assert baselines == {rel.split("/")[1] for rel in built if rel.startswith("baselines/")}, "a baseline folder without a source"


def _code_diff(build, name: str) -> tuple[list[str], list[str]]:
    """(code lines the baseline adds, code lines it drops) against the reference."""
    diff = list(difflib.ndiff(code_of(build.source_of("solution")).splitlines(), code_of(build.source_of(name)).splitlines()))
    return [d[2:] for d in diff if d.startswith("+ ")], [d[2:] for d in diff if d.startswith("- ")]


def test_baselines_built_by_edit_differ_from_the_reference_only_in_their_weakness():
    triage = _build(next(t for t in TASKS if t.name == "support-ticket-triage"))
    added, dropped = _code_diff(triage, "leaky")
    assert len(added) == len(dropped) == 3 and not any("redact" in line for line in added)  # docstring, prompt, cache key

    def calls(name: str) -> list[str]:
        return [ln for ln in code_of(triage.source_of(name)).splitlines()
                if "redact(" in ln and not ln.startswith(("def redact", "assert redact"))]
    assert len(calls("solution")) == 2 and calls("leaky") == []  # defined, never called: tickets go out verbatim
    churn = _build(next(t for t in TASKS if t.name == "churn-model"))
    added, dropped = _code_diff(churn, "leaky")
    assert len(dropped) == 1 and all("winback_offered" in line for line in added), (added, dropped)


def test_cells_edits_and_includes(tmp_path: Path):
    (tmp_path / "_shared.py").write_text("# %%\nshared = 1\n")
    (tmp_path / "a.py").write_text("# %% [markdown]\n# # Title\n#\n# text\n\n# include: _shared.py\n\n# %%\nx = 2\n")
    text = read_source(tmp_path / "a.py")
    assert parse_cells(text) == [("markdown", "# Title\n\ntext"), ("code", "shared = 1"), ("code", "x = 2")]
    nb = notebook(parse_cells(text), "a.ipynb")
    assert [c["id"] for c in nb["cells"]] == [c["id"] for c in notebook(parse_cells(text), "a.ipynb")["cells"]]
    assert nb["cells"][1]["outputs"] == [] and json.loads(render("a.ipynb", text)) == nb
    assert patched(text, [("x = 2", "x = 3")], "b") == text.replace("x = 2", "x = 3")
    with pytest.raises(ValueError, match="b: edit target found 0 times"):
        patched(text, [("y = 1", "")], "b")
    (tmp_path / "c.py").write_text("# include: _missing.py\n")
    with pytest.raises(FileNotFoundError, match="_missing.py"):
        read_source(tmp_path / "c.py")
