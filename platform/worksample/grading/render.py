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

WIDTH, HEIGHT, PAD = 860, 260, 40
LANES = (("ok", "2xx", "#2e7d32"), ("rate", "429", "#ef6c00"), ("server", "5xx/net", "#c62828"),
         ("client", "4xx", "#6a1b9a"))
CELL_TEXT_CAP = 20_000


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
    text = "".join(value) if isinstance(value, list) else str(value or "")
    if len(text) > CELL_TEXT_CAP:
        text = text[:CELL_TEXT_CAP] + "\n[… cut for display]"
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
        tb = "\n".join(out.get("traceback") or [f"{out.get('ename')}: {out.get('evalue')}"])
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


def notebook_html(nb: dict, markdown=None) -> str:
    """The executed notebook as a self-contained HTML document with every candidate string escaped.

    `markdown`, when given, turns a Markdown cell's source into *sanitised* HTML (the review page passes
    review.markdown.render_markdown); without it Markdown cells are shown as escaped text.
    """
    cells = []
    for cell in (nb.get("cells") or [])[:2000]:
        kind = cell.get("cell_type")
        if kind == "markdown" and markdown is not None:
            source = cell.get("source")
            cells.append(f'<div class="md">{markdown("".join(source) if isinstance(source, list) else str(source or ""))}</div>')
        elif kind == "markdown":
            cells.append(f'<div class="md"><pre>{_text(cell.get("source"))}</pre></div>')
        elif kind == "code":
            count = cell.get("execution_count")
            outs = "".join(_output(o) for o in (cell.get("outputs") or [])[:200] if isinstance(o, dict))
            cells.append(f'<div class="code"><div class="count">[{int(count) if isinstance(count, int) else " "}]</div>'
                         f'<pre class="src">{_text(cell.get("source"))}</pre><div class="outs">{outs}</div></div>')
    style = ("body{font:13px/1.4 system-ui,sans-serif;margin:8px;color:#222}pre{white-space:pre-wrap;"
             "word-break:break-word;margin:2px 0}.src{background:#f6f8fa;padding:6px;border-left:3px solid #1565c0}"
             ".md pre{font-family:inherit}.md table{border-collapse:collapse}.md td,.md th{border:1px solid #ddd;padding:2px 6px}"
             ".md code{background:#f6f8fa;padding:0 2px}.error{background:#fdecea}.stderr{background:#fff8e1}.count{color:#888;"
             "font-size:11px}.code,.md{margin:10px 0}img{max-width:100%}.muted{color:#888}")
    return (f'<!doctype html><html><head><meta charset="utf-8"><style>{style}</style></head>'
            f'<body>{"".join(cells) or "<p class=muted>No notebook was recorded.</p>"}</body></html>')
