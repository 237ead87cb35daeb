"""rag-repair files: reproducible data, the planted defects present, a hidden edition the public one cannot reveal.

The generator is seeded and the committed files must be exactly what it writes;
each defect of the starter is shown on the starter's own code (and shown fixed in
the reference), so a change that removes one fails here, not in a slow calibration.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from worksample_grader.tasktools import load_module, parse_cells

TASK = Path(__file__).resolve().parents[3] / "tasks" / "rag-repair"
HIDDEN = TASK / "grader" / "data"
MAX_SHARED_4GRAMS = 0.03  # share of the hidden questions' distinct word 4-grams also in public questions

pytestmark = pytest.mark.timeout(60)


build = load_module("tools_rag_repair_build_notebooks", TASK / "tools" / "build_notebooks.py")
handbook = load_module("tools_rag_repair_handbook", TASK / "tools" / "handbook.py")


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def _pages(folder: Path) -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.md"))}


def _grams(text: str) -> set[str]:
    words = re.findall(r"\w+", text.lower())
    return {" ".join(words[i:i + 4]) for i in range(len(words) - 3)}


PUBLIC_KEYS, HIDDEN_KEYS = _jsonl(HIDDEN / "public_key.jsonl"), _jsonl(HIDDEN / "holdout_key.jsonl")


def test_generator_reproduces_the_committed_files_and_the_seed_matters(tmp_path: Path):
    subprocess.run([sys.executable, str(TASK / "tools" / "make_data.py"), "--out", str(tmp_path)],
                   check=True, capture_output=True, timeout=60)
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert len(written) > 400
    for rel in written:
        assert (tmp_path / rel).read_bytes() == (TASK / rel).read_bytes(), f"{rel} differs: rerun tools/make_data.py"
    other, _ = handbook.make_handbook(1502, half=0)
    again, _ = handbook.make_handbook(1501, half=0)
    assert [p.text for p in other] != [p.text for p in again]


@pytest.mark.parametrize("edition,folder,keys", [("public", TASK / "data", PUBLIC_KEYS),
                                                 ("holdout", HIDDEN / "holdout", HIDDEN_KEYS)])
def test_each_key_is_true_of_its_edition(edition: str, folder: Path, keys: list[dict]):
    pages = _pages(folder / "handbook")
    facts = _jsonl(HIDDEN / f"{edition}_facts.jsonl")
    assert 190 <= len(pages) <= 210
    questions = {q["question_id"]: q["question"] for q in _jsonl(folder / "questions.jsonl")}
    assert questions == {k["question_id"]: k["question"] for k in keys}
    for attribute, values in Counter(f["attribute"] for f in facts).items():
        assert len({f["value"] for f in facts if f["attribute"] == attribute}) == values, f"{attribute}: repeated values"
    stated = {(f["subject"], f["attribute"]) for f in facts}
    for key in keys:
        if key["answerable"]:
            assert key["gold_sentence"] in pages[key["gold_page"]] and key["answer"] in key["gold_sentence"]
        else:  # nothing in the edition states it
            assert (key["subject"], key["attribute"]) not in stated
    unanswerable = sum(not k["answerable"] for k in keys)
    assert 0.15 <= unanswerable / len(keys) <= 0.3


def test_hidden_questions_are_held_out():
    public_text = {k["question"].lower() for k in PUBLIC_KEYS}
    assert not [k["question"] for k in HIDDEN_KEYS if k["question"].lower() in public_text]
    public_grams = set().union(*(_grams(k["question"]) for k in PUBLIC_KEYS))
    hidden_grams = set().union(*(_grams(k["question"]) for k in HIDDEN_KEYS))
    shared = hidden_grams & public_grams
    assert len(shared) / len(hidden_grams) <= MAX_SHARED_4GRAMS, sorted(shared)[:10]
    public_subjects = {k["subject"] for k in PUBLIC_KEYS} | {f["subject"] for f in _jsonl(HIDDEN / "public_facts.jsonl")}
    hidden_subjects = {k["subject"] for k in HIDDEN_KEYS} | {f["subject"] for f in _jsonl(HIDDEN / "holdout_facts.jsonl")}
    assert not public_subjects & hidden_subjects


def test_hidden_set_carries_the_cases_the_checks_need():
    answerable = [k for k in HIDDEN_KEYS if k["answerable"]]
    prefixes = Counter(k["question"].lower()[:40] for k in answerable if not k.get("repeat"))
    assert sum(n >= 2 for n in prefixes.values()) >= 10  # questions a prefix-keyed cache confuses
    assert sum(1 for k in HIDDEN_KEYS if k.get("repeat")) == 2
    assert {k["why"] for k in HIDDEN_KEYS if not k["answerable"]} == {"no such subject", "not stated"}


def _cells(name: str) -> list[str]:
    return [src for kind, src in parse_cells(build.source_of(name)) if kind == "code"]


@pytest.fixture
def notebook_functions(tmp_path: Path, monkeypatch):
    """The set-up and function cells of a notebook, executed without any API call."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-unit")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")

    def load(name: str) -> dict:
        cells = _cells(name)
        space: dict = {}
        exec(cells[0], space)  # constants and the client: no request is made
        for cell in cells:
            if cell.lstrip().startswith("def "):  # function cells make no call at the top level
                exec(cell, space)
        return space

    return load


def test_the_starter_carries_its_six_defects_and_the_reference_fixes_them(notebook_functions):
    page = next(iter(_pages(TASK / "data" / "handbook").values())).partition("\n\n")[2].strip()
    starter = notebook_functions("starter")
    kept = "".join(starter["chunk"](page))
    assert len(kept) < len(page) - 50  # 1. chunking drops the text between windows
    passages = [{"page": f"HB-{i:04d}", "text": page} for i in range(4)]
    assert starter["fit_context"](passages) == ""  # 4. a long context is dropped whole
    source = "\n".join(_cells("starter"))
    assert "e[:INDEX_DIMS]" in source and "norm" not in source  # 2. truncated vectors, never normalised
    assert "[1:TOP_K + 1]" in source  # 3. the best match is skipped
    assert "[:CACHE_KEY_CHARS]" in source  # 5. the cache key is a prefix
    assert "max_retries=0" in source and "return None" in source  # 6. failures become empty answers

    assert "fit_context" in notebook_functions("solution")
    fixed = "\n".join(_cells("solution"))
    assert "np.linalg.norm" in fixed and "[:TOP_K]" in fixed and "max_retries=6" in fixed
    assert "[:CACHE_KEY_CHARS]" not in fixed and "INDEX_DIMS" not in fixed
    assert "I don't know" in fixed


def test_baselines_differ_from_their_base_only_where_they_say():
    assert build.source_of("unfixed") == build.source_of("starter")
    never = build.source_of("never_abstains")
    assert "do not contain the answer" not in never and "do not contain the answer" in build.source_of("solution")
    stuff = build.source_of("stuff_everything")
    assert '"atlas-pro"' in stuff and "return list(page_ids)" in stuff
    half = build.source_of("half_fixed")
    assert "[:CACHE_KEY_CHARS]" in half and "e[:INDEX_DIMS]" in half and "CHUNK_CHARS + CHUNK_OVERLAP" in half
    assert "max_retries=6" in half and "[:TOP_K]" in half
    assert "client" not in build.source_of("no_llm")
    # The call-for-show fake: one chat call per question whose reply it never reads.
    fake = build.source_of("local_extractor")
    assert fake.count("client.chat.completions.create(") == 1 and "response" not in fake and ".choices" not in fake
