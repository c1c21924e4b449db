"""Markdown written by members, turned into HTML that is safe to show.

Two layers, so that a mistake in one is caught by the other: markdown-it-py renders with raw
HTML switched off (any tag typed is shown as text, and its link validator refuses
``javascript:``, ``vbscript:``, ``file:`` and ``data:`` addresses), then nh3 (the Ammonia
sanitiser) keeps only an allowlist of tags and attributes, and links only to http, https and
mailto addresses (or addresses within the hub). Every link gets ``rel="nofollow noopener
ugc"``. Images are not rendered: they would load from other sites (the content security
policy refuses them anyway), so ``![text](address)`` stays a plain link.
"""

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li",
    "a", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow noopener ugc"
# A post's headings sit under the thread's own heading (h1) and the posts' (h2).
HEADING_SHIFT = 2

_md = (MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
       .enable(["table", "strikethrough"])
       .disable("image"))


def _shift_headings(tokens) -> None:
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + HEADING_SHIFT, 6)}"


def render(source: str) -> str:
    """Sanitised HTML for ``source`` (Markdown)."""
    env: dict = {}
    tokens = _md.parse(source or "", env)
    _shift_headings(tokens)
    html = _md.renderer.render(tokens, _md.options, env)
    return sanitise(html)


def sanitise(html: str) -> str:
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes=URL_SCHEMES, link_rel=LINK_REL, strip_comments=True,
                     clean_content_tags={"script", "style"})


def plain_quote(source: str, attribution: str = "") -> str:
    """``source`` as a Markdown block quote, for quoting a post in a reply."""
    lines = [f"> {line}" if line.strip() else ">" for line in (source or "").splitlines()]
    if attribution:
        lines.append(">")
        lines.append(f"> — {attribution}")
    return "\n".join(lines) + "\n\n"
