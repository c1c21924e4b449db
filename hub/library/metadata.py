"""A resource's description in the formats other tools read: BibTeX, RIS and Dublin Core.

Nothing here decides who may see what: callers pass in only resources the reader may see.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from django.urls import reverse

from hub.library.models import LANGUAGES, Resource, Tier

# Characters XML 1.0 forbids even as escapes: C0 controls other than tab, newline and
# carriage return, lone surrogates, and the two non-characters U+FFFE and U+FFFF.
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value) -> str:
    """Text that can go into an XML 1.0 document (the serialiser escapes the rest)."""
    return XML_ILLEGAL.sub("", str(value))


def item_url(base_url: str, resource: Resource) -> str:
    return base_url.rstrip("/") + reverse("library:detail", args=[resource.pk])


def language_name(code: str) -> str:
    return str(dict(LANGUAGES).get(code, code))


# --- BibTeX ---------------------------------------------------------------------------------

LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "%": r"\%",
    "&": r"\&",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _one_line(value) -> str:
    """Every line break and control character becomes a space, runs of spaces one space."""
    return " ".join(CONTROL.sub(" ", str(value)).split())


def latex_escape(value) -> str:
    # One pass, so the backslashes this adds are never escaped again.
    return "".join(LATEX_SPECIAL.get(char, char) for char in _one_line(value))


def _ascii_word(value: str) -> str:
    folded = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]", "", folded)


def _surname(author: str) -> str:
    # "Surname, Given" when there is a comma, else the last word of "Given Surname".
    name = author.split(",")[0] if "," in author else (author.split() or [""])[-1]
    return _ascii_word(name)


def bibtex_key(resource: Resource) -> str:
    """First author's surname, year and the start of the resource's UUID: stable across
    exports and databases, and plain ASCII so every BibTeX tool accepts it."""
    authors = resource.author_list
    surname = (_surname(authors[0]) if authors else "") or "anon"
    year = str(resource.year) if resource.year else "nd"
    return f"{surname}{year}-{resource.uuid.hex[:6]}"


def _bibtex_author(name: str) -> str:
    # BibTeX splits the author list at the word "and"; brace a name that contains it, such as
    # "Department for Health and Social Care", so it stays one author.
    escaped = latex_escape(name)
    return "{" + escaped + "}" if re.search(r"\band\b", name, re.IGNORECASE) else escaped


def bibtex_entry(resource: Resource, *, base_url: str) -> str:
    # The library keeps no journal for a paper, so a paper is a @misc rather than an @article.
    entry_type = "techreport" if resource.type == Resource.Type.REPORT else "misc"
    fields = []
    if resource.author_list:
        fields.append(("author", " and ".join(map(_bibtex_author, resource.author_list))))
    # Double braces keep the title's capitals (acronyms, names) as they were typed.
    fields.append(("title", "{" + latex_escape(resource.title) + "}"))
    if resource.year:
        fields.append(("year", str(resource.year)))
    publisher_field = "institution" if entry_type == "techreport" else "publisher"
    fields.append((publisher_field, latex_escape(resource.publisher_name)))
    # Our own address: no braces or spaces can occur in it, and \url wants it unescaped.
    fields.append(("url", item_url(base_url, resource)))
    fields.append(("abstract", latex_escape(resource.abstract)))
    themes = [theme.name for theme in resource.themes.all()]
    if themes:
        fields.append(("keywords", latex_escape(", ".join(themes))))
    fields.append(("language", latex_escape(language_name(resource.language))))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@{entry_type}{{{bibtex_key(resource)},\n{body}\n}}\n"


def bibtex(resources: Iterable[Resource], *, base_url: str) -> str:
    """BibTeX for the resources, in the order given; UTF-8 text, entries a blank line apart."""
    return "\n".join(bibtex_entry(resource, base_url=base_url) for resource in resources)


# --- RIS ------------------------------------------------------------------------------------

RIS_TYPES = {
    Resource.Type.REPORT: "RPRT",
    Resource.Type.PAPER: "JOUR",
    Resource.Type.VIDEO: "VIDEO",
    Resource.Type.AUDIO: "SOUND",
    Resource.Type.DATASET: "DATA",
    Resource.Type.LINK: "ELEC",
}


def ris_record(resource: Resource, *, base_url: str) -> str:
    lines = [("TY", RIS_TYPES.get(resource.type, "GEN"))]
    lines += [("AU", author) for author in resource.author_list]
    if resource.year:
        lines.append(("PY", str(resource.year)))
    lines += [("T1", resource.title), ("AB", resource.abstract),
              ("PB", resource.publisher_name), ("LA", resource.language)]
    lines += [("KW", theme.name) for theme in resource.themes.all()]
    lines.append(("UR", item_url(base_url, resource)))
    # A value is one line whatever it holds, so no value can start a tag of its own.
    text = "".join(f"{tag}  - {_one_line(value)}\r\n" for tag, value in lines)
    return text + "ER  - \r\n"


def ris(resources: Iterable[Resource], *, base_url: str) -> str:
    """RIS for the resources, in the order given, with the CRLF line ends RIS expects."""
    return "\r\n".join(ris_record(resource, base_url=base_url) for resource in resources)


# --- Dublin Core ----------------------------------------------------------------------------

def dublin_core(resource: Resource, *, base_url: str) -> list[tuple[str, str]]:
    """Simple Dublin Core as (element, value) pairs, in the order OAI-PMH writes them.

    File formats are named only when the files are public: the description of a resource
    says nothing about files its reader could not open.
    """
    pairs = [("title", resource.title)]
    pairs += [("creator", author) for author in resource.author_list]
    pairs += [("subject", theme.name) for theme in resource.themes.all()]
    pairs.append(("description", resource.abstract))
    pairs.append(("publisher", resource.publisher_name))
    if resource.year:
        pairs.append(("date", str(resource.year)))
    pairs.append(("type", resource.get_type_display()))
    if resource.file_tier == Tier.PUBLIC and resource.is_published:
        mimes = {item.mime.split(";")[0].strip().lower() for item in resource.files.all()}
        pairs += [("format", mime) for mime in sorted(mimes) if mime]
    pairs.append(("identifier", item_url(base_url, resource)))
    pairs.append(("language", resource.language))
    pairs.append(("rights", resource.get_licence_display()))
    if resource.country:
        pairs.append(("coverage", resource.country.name))
    return [(element, str(value)) for element, value in pairs]
