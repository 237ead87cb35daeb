"""HTML pieces of the reviewer's report page: the LLM-call timeline (SVG) and the executed notebook.

Everything here is built from numbers, or from candidate text passed through
`html.escape`: the notebook's markdown, code, outputs and even its HTML
outputs are shown as text. The notebook page is additionally served into a
sandboxed iframe under a CSP that forbids scripts (see routes/reports.py).
Images are kept only as base64 `data:` PNG/JPEG, re-encoded from bytes.
"""

from __future__ import annotations

import base64
import binascii
import html
import re

WIDTH, HEIGHT, PAD = 860, 260, 40
LANES = (("ok", "2xx", "#2e7d32"), ("rate", "429", "#ef6c00"), ("server", "5xx/net", "#c62828"),
         ("client", "4xx", "#6a1b9a"))
CELL_TEXT_CAP = 20_000  # per output (outputs only: code is always shown whole)
OUTPUTS_SHOWN = 200
PAGE_CELLS = 200
PAGE_CHARS = 1_000_000


def _lane(status: int, fault: str | None) -> int:
    if status == 429:
        return 1
    if status >= 500 or status == 0 or fault in ("timeout", "reset", "stream_cut", "stream_error"):
        return 2
    if status >= 400:
        return 3
    return 0


def timeline_svg(timeline: list[list], budget: float | None = None) -> str:
    """An SVG chart: one mark per call at its time, a lane per outcome, retries as rings, cumulative cost line."""
    if not timeline:
        return '<p class="muted">No LLM calls were made.</p>'
    span = max(t[0] for t in timeline) or 1.0
    spent = sum(t[4] for t in timeline)
    top = max(spent, budget or 0.0) or 1.0
    plot_w, plot_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD
    lane_h = plot_h / len(LANES)

    def x(t: float) -> float:
        return PAD + plot_w * t / span

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" role="img" '
             f'aria-label="LLM calls over time" class="timeline">']
    for i, (_, label, colour) in enumerate(LANES):
        y = PAD + lane_h * (i + 0.5)
        parts.append(f'<text x="4" y="{y + 4:.1f}" font-size="10" fill="{colour}">{html.escape(label)}</text>')
        parts.append(f'<line x1="{PAD}" x2="{WIDTH - PAD}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>')
    for t, status, fault, retry, _cost in timeline:
        lane = _lane(int(status), fault)
        y = PAD + lane_h * (lane + 0.5)
        colour = LANES[lane][2]
        fill = "none" if retry else colour
        parts.append(f'<circle cx="{x(t):.1f}" cy="{y:.1f}" r="3" fill="{fill}" stroke="{colour}">'
                     f'<title>{t:.2f}s status {int(status)}{" retry" if retry else ""}</title></circle>')
    parts.append(_cost_line(timeline, x, top, plot_h))
    if budget:
        yb = PAD + plot_h * (1 - budget / top)
        parts.append(f'<line x1="{PAD}" x2="{WIDTH - PAD}" y1="{yb:.1f}" y2="{yb:.1f}" stroke="#1565c0" '
                     f'stroke-dasharray="4 3"/><text x="{PAD + 4}" y="{yb - 3:.1f}" font-size="10" '
                     f'fill="#1565c0">budget ${budget:.2f}</text>')
    parts.append(f'<text x="{PAD}" y="{HEIGHT - 8}" font-size="10">0 s</text>'
                 f'<text x="{WIDTH - PAD - 40}" y="{HEIGHT - 8}" font-size="10">{span:.1f} s</text>'
                 f'<text x="{WIDTH - PAD - 150}" y="{PAD - 10}" font-size="10" fill="#1565c0">cumulative cost '
                 f'${spent:.4f}</text></svg>')
    return "".join(parts)


def _cost_line(timeline: list[list], x, top: float, plot_h: float) -> str:
    running, points = 0.0, [f"{PAD},{PAD + plot_h:.1f}"]
    for t, _status, _fault, _retry, cost in timeline:
        running += cost
        points.append(f"{x(t):.1f},{PAD + plot_h * (1 - running / top):.1f}")
    return f'<polyline fill="none" stroke="#1565c0" stroke-width="1.5" points="{" ".join(points)}"/>'


def _text(value: object) -> str:
    """Output text, escaped; cut at CELL_TEXT_CAP with a visible mark saying how much was cut."""
    text = "".join(str(v) for v in value) if isinstance(value, list) else str(value or "")
    if len(text) > CELL_TEXT_CAP:
        cut = len(text) - CELL_TEXT_CAP
        return html.escape(text[:CELL_TEXT_CAP]) + f'\n<span class="cut">[{cut:,} more characters of this output not shown]</span>'
    return html.escape(text)


def _image(data: object, mime: str) -> str:
    try:
        raw = base64.b64decode("".join(data) if isinstance(data, list) else str(data), validate=False)
    except (binascii.Error, ValueError):
        return ""
    if len(raw) > 2 * 1024**2:
        return '<p class="muted">[image too large to show]</p>'
    return f'<img alt="output image" src="data:{mime};base64,{base64.b64encode(raw).decode()}">'


def _output(out: dict) -> str:
    kind = out.get("output_type")
    if kind == "stream":
        return f'<pre class="stream {html.escape(str(out.get("name", "")))}">{_text(out.get("text"))}</pre>'
    if kind == "error":
        trace = out.get("traceback") if isinstance(out.get("traceback"), list) else None
        tb = "\n".join(str(line) for line in trace or [f"{out.get('ename')}: {out.get('evalue')}"])
        return f'<pre class="error">{_text(_strip_ansi(tb))}</pre>'
    data = out.get("data") or {}
    for mime in ("image/png", "image/jpeg"):
        if mime in data:
            return _image(data[mime], mime)
    if "text/plain" in data:
        return f"<pre>{_text(data['text/plain'])}</pre>"
    if "text/html" in data:  # shown as its source text: candidate HTML never renders
        return f'<pre class="html">{_text(data["text/html"])}</pre>'
    return '<p class="muted">[output not shown]</p>'


def _strip_ansi(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)


def notebook_html(nb: dict, markdown=None, page: int = 1, page_url=None) -> str:
    """One page of the executed notebook as a self-contained HTML document, every candidate string escaped.

    Every cell is shown, numbered, and every character of its source (code is
    what ran: none of it may hide from the reviewer). Long notebooks are split
    into pages (`paginate`); each page says which cells it holds and links to
    the others through `page_url(n)` (default `?page=n`). Outputs may be cut,
    and say so where they are. `markdown`, when given, turns a Markdown cell's
    source into *sanitised* HTML (the review page passes
    review.markdown.render_markdown); without it Markdown cells are shown as escaped text.
    """
    cells = [c for c in (nb.get("cells") if isinstance(nb.get("cells"), list) else [])]
    pages = paginate(cells)
    page = min(max(int(page), 1), len(pages))
    first, last = pages[page - 1]
    body = [_cell_html(i + 1, cells[i], markdown) for i in range(first, last)]
    nav = _page_nav(pages, page, len(cells), page_url or (lambda n: f"?page={n}"))
    style = ("body{font:13px/1.4 system-ui,sans-serif;margin:8px;color:#222}pre{white-space:pre-wrap;"
             "word-break:break-word;margin:2px 0}.src{background:#f6f8fa;padding:6px;border-left:3px solid #1565c0}"
             ".md pre{font-family:inherit}.md table{border-collapse:collapse}.md td,.md th{border:1px solid #ddd;padding:2px 6px}"
             ".md code{background:#f6f8fa;padding:0 2px}.error{background:#fdecea}.stderr{background:#fff8e1}.count{color:#888;"
             "font-size:11px}.code,.md,.raw{margin:10px 0}img{max-width:100%}.muted{color:#888}"
             ".cut{color:#b71c1c;font-weight:600}.hidden-char{color:#b71c1c;background:#fdecea}"
             ".pages{background:#fff8e1;border:1px solid #ffe082;padding:4px 8px;margin:6px 0}")
    content = "".join(body) or "<p class=muted>No notebook was recorded.</p>"
    return (f'<!doctype html><html><head><meta charset="utf-8"><style>{style}</style></head>'
            f'<body>{nav}{content}{nav if len(pages) > 1 else ""}</body></html>')


def paginate(cells: list, max_cells: int = PAGE_CELLS, max_chars: int = PAGE_CHARS) -> list[tuple[int, int]]:
    """Split cells into pages, as (first, end) index pairs: at most `max_cells` cells and about
    `max_chars` characters of source per page (a larger cell gets a page of its own, whole)."""
    pages, first, chars = [], 0, 0
    for index, cell in enumerate(cells):
        size = len(_source(cell))
        if index > first and (index - first >= max_cells or chars + size > max_chars):
            pages.append((first, index))
            first, chars = index, 0
        chars += size
    pages.append((first, len(cells)))
    return pages


def _page_nav(pages: list[tuple[int, int]], page: int, total: int, page_url) -> str:
    first, last = pages[page - 1]
    if len(pages) == 1:
        return f'<p class="muted">{total} cell{"" if total == 1 else "s"}, all shown.</p>' if total else ""
    links = " ".join(f"<b>{n}</b>" if n == page else f'<a href="{html.escape(page_url(n))}">{n}</a>'
                     for n in range(1, len(pages) + 1))
    return (f'<div class="pages">Cells {first + 1}–{last} of {total}: page {page} of {len(pages)}. '
            f"Pages: {links}</div>")


def _source(cell) -> str:
    source = cell.get("source") if isinstance(cell, dict) else None
    if isinstance(source, list):
        return "".join(str(part) for part in source)
    return "" if source is None else str(source)


def _cell_html(number: int, cell, markdown) -> str:
    if not isinstance(cell, dict):
        return f'<div class="raw"><div class="count">cell {number}</div><p class="muted">[not a cell]</p></div>'
    kind = cell.get("cell_type")
    label = f'<div class="count">cell {number}'
    if kind == "markdown" and markdown is not None:
        return f'<div class="md">{label}</div>{markdown(_source(cell))}</div>'
    if kind == "markdown":
        return f'<div class="md">{label}</div><pre>{_code(_source(cell))}</pre></div>'
    if kind == "code":
        count = cell.get("execution_count")
        shown = f"[{int(count)}]" if isinstance(count, int) and not isinstance(count, bool) else "[ ]"
        outputs = cell.get("outputs") if isinstance(cell.get("outputs"), list) else []
        outs = "".join(_output(o) for o in outputs[:OUTPUTS_SHOWN] if isinstance(o, dict))
        if len(outputs) > OUTPUTS_SHOWN:
            outs += f'<p class="cut">[{len(outputs) - OUTPUTS_SHOWN} more outputs of this cell not shown]</p>'
        return (f'<div class="code">{label} {shown}</div><pre class="src">{_code(_source(cell))}</pre>'
                f'<div class="outs">{outs}</div></div>')
    what = "raw" if kind == "raw" else f"unknown type {str(kind)[:40]!r}"
    return f'<div class="raw">{label} ({html.escape(what)}, not run)</div><pre>{_code(_source(cell))}</pre></div>'


# Characters that change how code *looks* without changing what runs: bidirectional overrides
# ("Trojan Source"), zero-width and other invisible format characters. Shown as visible marks.
_INVISIBLE = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]")


def _code(text: str) -> str:
    """Source text, escaped, whole, with invisible and direction-changing characters made visible."""
    escaped = html.escape(text)
    return _INVISIBLE.sub(lambda m: f'<span class="hidden-char">[U+{ord(m.group()):04X}]</span>', escaped)
