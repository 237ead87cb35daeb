"""Markdown cells of a candidate's notebook as safe HTML: markdown-it-py renders, nh3 sanitises.

Defence in depth: raw HTML in the Markdown is escaped by the renderer (`html`
off), the output is then cleaned by nh3 against a short allow-list (no
script, style, iframe, form, event handler or `javascript:` URL; images only
as `data:` URLs), and the result is shown only inside the notebook frame,
which is sandboxed and served under a CSP without script.
"""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

MD_CAP = 100_000  # characters of one Markdown cell that are rendered
TAGS = {"p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "code", "pre", "blockquote",
        "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td", "a", "img"}
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "th": {"align"}, "td": {"align"},
              "ol": {"start"}}


@lru_cache(maxsize=1)
def _renderer() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(["table", "strikethrough"])


def _keep_attribute(tag: str, attr: str, value: str) -> str | None:
    # Images only from data: URLs (nothing is fetched from anywhere); links keep their text and target.
    if tag == "img" and attr == "src" and not value.startswith("data:image/"):
        return None
    if tag == "a" and attr == "href" and value.lower().startswith("data:"):
        return None
    return value


def render_markdown(text: str) -> str:
    """Sanitised HTML for one Markdown cell (bounded in size)."""
    if len(text) > MD_CAP:
        text = text[:MD_CAP] + "\n\n[… cut for display]"
    html = _renderer().render(text)
    return nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES, url_schemes={"http", "https", "mailto", "data"},
                     link_rel="noopener noreferrer nofollow", attribute_filter=_keep_attribute)
