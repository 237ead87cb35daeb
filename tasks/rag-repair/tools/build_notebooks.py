"""Build the task's notebooks from their readable sources in tools/notebooks/.

    python tasks/rag-repair/tools/build_notebooks.py

Sources are percent-format Python files (format and writer: worksample_grader.tasktools).
Most baselines are the starter or the reference with a few exact edits (VARIANTS): each
`old` must occur exactly once in its source, so a baseline differs from what it is built on
only where its baseline.yaml says. Cells that notebooks must share are written once and
included (`# include: FILE`): _handbook_pages.py (the starter and the reference load the
data alike) and _sentence_index.py (the TF-IDF index of both no-embedding baselines).
"""

from __future__ import annotations

import sys
from pathlib import Path

TASK_DIR = Path(__file__).resolve().parent.parent
SOURCES = Path(__file__).resolve().parent / "notebooks"
ENTRYPOINT = "assistant.ipynb"
sys.path.insert(0, str(TASK_DIR.parents[1] / "graders"))

from worksample_grader.tasktools import patched, read_source, write_all  # noqa: E402

_WRITEUP_HALF = """# TODO: for each defect, what it was, how you found it and how you fixed it."""
VARIANTS: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "starter": ("starter.py", []),
    "solution": ("solution.py", []),
    "unfixed": ("starter.py", []),
    # What a hurried repair fixes: the empty answers (rate limits and errors), the off-by-one
    # top-k and the dropped context. The chunking gap, the unnormalised index and the prefix
    # cache stay, and there is no instruction to say "I don't know".
    "half_fixed": ("starter.py", [
        ("client = OpenAI(max_retries=0, timeout=30)", "client = OpenAI(max_retries=6, timeout=10)"),
        ("WORKERS = 8", "WORKERS = 4"),
        ("np.argsort(-scores)[1:TOP_K + 1]", "np.argsort(-scores)[:TOP_K]"),
        ("MAX_CONTEXT_TOKENS = 300", "MAX_CONTEXT_TOKENS = 1000"),
        ("""    context = render(passages)
    while passages and len(context) // 4 > MAX_CONTEXT_TOKENS:
        passages = passages[:-1]
    return render(passages)""", """    while len(passages) > 1 and len(render(passages)) // 4 > MAX_CONTEXT_TOKENS:
        passages = passages[:-1]
    return render(passages)"""),
        (_WRITEUP_HALF, """# 1. No retries: every 429 or 5xx became an empty answer. The SDK now retries with backoff.
# 2. Top-k skipped the best match: the slice started at 1.
# 3. The context was dropped whenever it was over budget: the loop never re-rendered it."""),
    ]),
    # The reference without permission to say "I don't know".
    "never_abstains": ("solution.py", [
        ("""Answer only from the handbook excerpts you are given. "
          f"If the excerpts do not contain the answer, reply exactly \\"{IDK}\\" and cite nothing. \"""",
         """Answer from the handbook excerpts you are given. \""""),
    ]),
    # The whole handbook in every prompt: no retrieval, so the big model (the only one it fits).
    "stuff_everything": ("solution.py", [
        # The SDK's default retries: six of them on each insufficient_quota 429 would take minutes.
        ("client = OpenAI(max_retries=6, timeout=10)", "client = OpenAI(max_retries=2, timeout=60)"),
        ('CHAT_MODEL, EMBED_MODEL = "atlas-mini", "atlas-embed"', 'CHAT_MODEL, EMBED_MODEL = "atlas-pro", "atlas-embed"'),
        ("MAX_CONTEXT_TOKENS = 1500", "MAX_CONTEXT_TOKENS = 100_000"),
        ("    return [page_ids[i] for i in np.argsort(-scores)[:TOP_K]]", "    return list(page_ids)"),
    ]),
    "no_llm": ("no_llm.py", []),
    "local_extractor": ("local_extractor.py", []),
}
TARGETS = {"starter": "starter", "solution": "solution", **{name: f"baselines/{name}" for name in
           ("unfixed", "half_fixed", "never_abstains", "stuff_everything", "no_llm", "local_extractor")}}


def source_of(name: str) -> str:
    """The percent-format source of notebook `name`, its variant edits applied."""
    base, edits = VARIANTS[name]
    return patched(read_source(SOURCES / base), edits, name)


def sources() -> dict[str, str]:
    """Notebook path in the task → its percent-format source."""
    return {f"{folder}/{ENTRYPOINT}": source_of(name) for name, folder in TARGETS.items()}


def main() -> None:
    """Build every notebook in TARGETS."""
    write_all(TASK_DIR, sources())


if __name__ == "__main__":
    main()
