"""Build the task's notebooks from their readable sources in tools/notebooks/.

    python tasks/support-ticket-triage/tools/build_notebooks.py

Sources are percent-format Python files (format and writer: worksample_grader.tasktools).
A baseline in EDITS is the reference or another baseline with a few named edits, so it
differs from what it is built on exactly in the weakness it is named after; the others
have sources of their own. The built notebooks are committed: edit the sources and
rebuild rather than editing the .ipynb files by hand.
"""

from __future__ import annotations

import sys
from pathlib import Path

TASK_DIR = Path(__file__).resolve().parent.parent
SOURCES = Path(__file__).resolve().parent / "notebooks"
ENTRYPOINT = "triage.ipynb"
sys.path.insert(0, str(TASK_DIR.parents[1] / "graders"))

from worksample_grader.tasktools import patched, read_source, write_all  # noqa: E402

# Baselines with a source of their own; `starter` is the unchanged starter handed in.
OWN = {"starter": "starter.py", "no_retry": "no_retry.py", "retry_storm": "retry_storm.py",
       "big_spender": "big_spender.py", "lazy": "lazy.py", "keyword_rules": "keyword_rules.py", "lookup": "lookup.py",
       "nonce_retry_storm": "nonce_retry_storm.py"}

EDITS: dict[str, tuple[str, list[tuple[str, str]]]] = {
    # The reference, but nothing calls the redaction it defines: tickets are sent verbatim
    # (a redaction written, tested on two strings, and never wired in).
    "leaky": ("solution", [
        ("# # Support-ticket triage: reference solution\n#\n# Cheap model first, escalate the risky few to the premium model; redact personal\n"
         "# data before anything leaves the building; treat ticket text as untrusted data;",
         "# # Triage (baseline: leaky)\n#\n# Cheap model first, escalate the risky few to the premium model; a redaction that\n"
         "# nothing calls (tickets go out verbatim); treat ticket text as untrusted data;"),
        ("one ticket, with personal data redacted (plus", "one ticket (plus"),
        ("and the (redacted) text", "and the text"),
        ("f\"subject: {redact(row['subject'])}\\n\\n{redact(row['body'])}\\n</ticket>\")",
         "f\"subject: {row['subject']}\\n\\n{row['body']}\\n</ticket>\")"),
        ("{row['customer_tier']}\\n{redact(row['subject'])}\\n{redact(row['body'])}\"",
         "{row['customer_tier']}\\n{row['subject']}\\n{row['body']}\""),
        ("# **Customer data.** Emails, phone numbers, card numbers and names are redacted before\n"
         "# any prompt is sent; ticket text is fenced", "# **Customer data.** Ticket text is fenced"),
    ]),
}


def source_of(name: str) -> str:
    """The percent-format source of notebook `name` ("solution", or a baseline's name)."""
    if name in EDITS:
        base, edits = EDITS[name]
        return patched(source_of(base), edits, name)
    return read_source(SOURCES / {"solution": "solution.py", **OWN}[name])


def sources() -> dict[str, str]:
    """Notebook path in the task → its percent-format source."""
    baselines = sorted({*OWN, *EDITS})
    return {f"starter/{ENTRYPOINT}": source_of("starter"), f"solution/{ENTRYPOINT}": source_of("solution"),
            **{f"baselines/{name}/{ENTRYPOINT}": source_of(name) for name in baselines}}


def main() -> None:
    """Build every notebook."""
    write_all(TASK_DIR, sources())


if __name__ == "__main__":
    main()
