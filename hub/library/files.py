"""What the library accepts, decided from a file's bytes, and the text read from it.

Types come from content and structure, never from the name. Parsers only ever see untrusted
bytes inside ``extract_isolated``: a child process with a memory ceiling and a time limit.
This module imports no parser at the top, so the child starts quickly.
"""

import codecs
import io
import json
import math
import os
import re
import resource
import select
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from pathlib import Path

from django.db import models


class Kind(models.TextChoices):
    PDF = "pdf", "PDF"
    DOCX = "docx", "Word document"
    ODT = "odt", "OpenDocument text"
    TEXT = "text", "Plain text"
    MARKDOWN = "markdown", "Markdown"
    HTML = "html", "HTML"
    CAPTIONS = "captions", "Captions or transcript (WebVTT/SRT)"
    AUDIO = "audio", "Audio"
    VIDEO = "video", "Video"


EXTRACTABLE = frozenset({Kind.PDF, Kind.DOCX, Kind.ODT, Kind.TEXT, Kind.MARKDOWN, Kind.HTML,
                         Kind.CAPTIONS})
ACCEPTED_EXTENSIONS = [
    ".pdf", ".docx", ".odt", ".txt", ".md", ".html", ".htm", ".vtt", ".srt",
    ".mp3", ".m4a", ".wav", ".ogg", ".oga", ".flac", ".mp4", ".m4v", ".webm", ".ogv", ".mov",
]
ACCEPTED = ("We accept PDF, Word (.docx), OpenDocument text (.odt), plain text, Markdown, HTML, "
            "WebVTT or SRT captions, and MP3, M4A, WAV, Ogg, FLAC, MP4, WebM or MOV media.")

ZIP_MAX_TOTAL_BYTES = 50 * 1024 * 1024
ZIP_MAX_ENTRIES = 1_000
ZIP_MAX_RATIO = 100
ZIP_RATIO_FLOOR = 64 * 1024     # small parts compress wildly and can do no harm
PDF_MAX_PAGES = 2_000
TEXT_MAX_CHARS = 5_000_000
XML_MAX_DEPTH = 500
CHILD_MAX_OUTPUT = 64 * 1024 * 1024

# Tighter than pypdf's defaults, so one PDF stays well inside the child's memory ceiling.
PDF_LIMITS = dict(
    maximum_declared_stream_length=50_000_000,
    zlib_maximum_output_length=25_000_000,
    lzw_maximum_output_length=25_000_000,
    run_length_maximum_output_length=25_000_000,
    array_based_stream_maximum_output_length=25_000_000,
    jbig2_maximum_output_length=25_000_000,
    stream_decoding_work_maximum_length=100_000_000,
    stream_parsing_work_maximum_count=200_000,
    array_maximum_element_count=50_000,
    dictionary_maximum_element_count=20_000,
    page_tree_maximum_entries=10_000,
    page_tree_maximum_page_entries=50_000,
    xform_maximum_invocations_per_extraction=1_000,
    jbig2dec_binary=None,           # never start another program on an upload
    disable_legacy_handling=True,
)


class Refused(Exception):
    """An upload the hub will not keep, with a sentence the contributor can act on."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class _TooComplex(Exception):
    """A file that hit a safety limit: it may be hostile, so a person should look."""


@dataclass(frozen=True)
class Sniffed:
    kind: Kind
    mime: str   # the Content-Type the hub serves the file with


@dataclass(frozen=True)
class Extraction:
    status: str     # "done", "review" or "failed"
    text: str       # "" unless done
    message: str    # "" when done, otherwise the reason, for the contributor
    seconds: float = 0.0
    peak_rss_mb: float = 0.0


# --- Deciding the type ----------------------------------------------------------------------

def sniff(data: bytes, filename: str) -> Sniffed:
    """Decide the type by content and structure, never by the name. Raises Refused."""
    if not data:
        raise Refused("This file is empty.")
    start = data.find(b"%PDF-", 0, 1024)
    if start >= 0:
        return _sniff_pdf(data, start)
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _sniff_zip(data)
    media = _sniff_media(data)
    if media is not None:
        return media
    for magic, what in _REFUSED_MAGIC:
        if data.startswith(magic):
            raise Refused(f"This is {what}, which the library does not accept. {ACCEPTED}")
    return _sniff_text(data, filename)


_REFUSED_MAGIC = [
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a program"),
    (b"\x89PNG", "an image"),
    (b"\xff\xd8\xff", "an image"),
    (b"GIF8", "an image"),
    (b"\xd0\xcf\x11\xe0", "an old Word or Office file (save it as .docx or PDF)"),
    (b"{\\rtf", "a Rich Text file (save it as .docx or PDF)"),
    (b"%!PS", "a PostScript file (save it as PDF)"),
    (b"\x1f\x8b", "a compressed archive"),
    (b"Rar!", "a compressed archive"),
    (b"7z\xbc\xaf", "a compressed archive"),
]

# Tags a browser would act on. Hex strings in PDFs are digits a–f, so none of these can be one.
_MARKUP = re.compile(rb"<\s*(?:!doctype|html|head|body|script|svg|iframe|object|embed|meta|form"
                     rb"|img|style|link)\b", re.IGNORECASE)


def _sniff_pdf(data: bytes, start: int) -> Sniffed:
    if data[:start].strip():
        raise Refused("This file has a PDF hidden behind other content. Please upload the PDF "
                      "on its own.")
    # Browsers that guess types read the first bytes; HTML appended after %%EOF is the other
    # classic polyglot. A PDF that shows HTML as uncompressed text there is a rare casualty.
    if _MARKUP.search(data[:2048]) or _MARKUP.search(data[-2048:]):
        raise Refused("This file says it is a PDF but is really a web page (HTML or SVG).")
    try:
        _open_pdf(data)
    except Refused:
        raise
    except Exception:  # pypdf raises many types on damaged files; all mean the same here
        raise Refused("This file starts like a PDF but is damaged: we could not open it.")
    return Sniffed(Kind.PDF, "application/pdf")


def _open_pdf(data: bytes):
    """Open the PDF and reach its page tree; return the reader. Call inside _pdf_limits()."""
    from pypdf import PdfReader
    from pypdf.generic import ArrayObject, DictionaryObject

    with _pdf_limits():
        reader = PdfReader(io.BytesIO(data), strict=False, root_object_recovery_limit=1_000,
                           xref_stream_maximum_entries=200_000)
        if reader.is_encrypted and not reader.decrypt(""):
            raise Refused("This PDF is protected by a password. Please upload a copy without one.")
        pages = reader.trailer["/Root"].get_object()["/Pages"].get_object()
        kids = pages.get("/Kids") if isinstance(pages, DictionaryObject) else None
        if not isinstance(kids, ArrayObject) or not kids:
            raise Refused("This PDF has no pages.")
    return reader


def _pdf_limits():
    from pypdf import apply_configuration

    return apply_configuration(**PDF_LIMITS)


def _sniff_zip(data: bytes) -> Sniffed:
    check_zip(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        if "[Content_Types].xml" in names and "word/document.xml" in names:
            return Sniffed(Kind.DOCX, "application/vnd.openxmlformats-officedocument"
                                      ".wordprocessingml.document")
        first = archive.infolist()[0] if names else None
        if first and first.filename == "mimetype" and first.file_size < 200:
            mimetype = archive.read(first).strip()
            if mimetype == b"application/vnd.oasis.opendocument.text":
                if "content.xml" not in names:
                    raise Refused("This OpenDocument text has no content part: it is damaged.")
                return Sniffed(Kind.ODT, "application/vnd.oasis.opendocument.text")
            if mimetype.startswith(b"application/vnd.oasis.opendocument."):
                raise Refused("This OpenDocument file is not a text document. Only text "
                              "documents (.odt) are accepted.")
    if any(name.startswith(("xl/", "ppt/")) for name in names):
        raise Refused("This is a spreadsheet or presentation. Please save it as PDF.")
    raise Refused(f"This is a ZIP archive, not a document. {ACCEPTED}")


_MP4_AUDIO = {b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "}
_MP4_VIDEO = {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ",
              b"M4VH", b"M4VP", b"dash", b"mmp4", b"MSNV", b"f4v ", b"3gp4", b"3gp5", b"3gp6",
              b"3g2a", b"XAVC"}


def _sniff_media(data: bytes) -> Sniffed | None:
    if data[:3] == b"ID3" and len(data) >= 10 and 2 <= data[3] <= 4 \
            and all(byte < 0x80 for byte in data[6:10]):
        return Sniffed(Kind.AUDIO, "audio/mpeg")
    if _mp3_frames(data):
        return Sniffed(Kind.AUDIO, "audio/mpeg")
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return Sniffed(Kind.AUDIO, "audio/wav")
    if data[:4] == b"fLaC":
        return Sniffed(Kind.AUDIO, "audio/flac")
    if data[:4] == b"OggS" and len(data) >= 28 and data[4] == 0:
        if _ogg_has_video(data):
            return Sniffed(Kind.VIDEO, "video/ogg")
        return Sniffed(Kind.AUDIO, "audio/ogg")
    if data[4:8] == b"ftyp" and len(data) >= 12:
        brand = data[8:12]
        if brand in _MP4_AUDIO:
            return Sniffed(Kind.AUDIO, "audio/mp4")
        if brand == b"qt  ":
            return Sniffed(Kind.VIDEO, "video/quicktime")
        if brand in _MP4_VIDEO:
            return Sniffed(Kind.VIDEO, "video/mp4")
        raise Refused(f"This file is in an MP4-style format we do not accept (for example an "
                      f"image). {ACCEPTED}")
    if data[:4] == b"\x1a\x45\xdf\xa3":
        if b"\x42\x82\x84webm" in data[:64]:
            return Sniffed(Kind.VIDEO, "video/webm")
        raise Refused(f"This is a Matroska (.mkv) file; please convert it to WebM or MP4. "
                      f"{ACCEPTED}")
    return None


_MP3_KBPS = {1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
             2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)}
_MP3_HZ = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def _mp3_frames(data: bytes, needed: int = 2) -> bool:
    """Two MP3 frames in a row: one sync pattern alone turns up in other files (UTF-16 text)."""
    offset = 0
    for _ in range(needed):
        header = data[offset:offset + 4]
        if len(header) < 4 or header[0] != 0xFF or header[1] & 0xE6 != 0xE2:
            return False    # not sync + Layer III
        version, rate, bitrate = header[1] >> 3 & 3, header[2] >> 2 & 3, header[2] >> 4
        if version == 1 or rate == 3 or bitrate in (0, 15):
            return False
        kbps = _MP3_KBPS[1 if version == 3 else 2][bitrate]
        offset += (144 if version == 3 else 72) * kbps * 1000 // _MP3_HZ[version][rate] \
            + (header[2] >> 1 & 1)
    return True


def _ogg_has_video(data: bytes) -> bool:
    # Every stream announces its codec in a first ("beginning of stream") page at the start.
    offset = 0
    while data[offset:offset + 4] == b"OggS" and len(data) >= offset + 27:
        if not data[offset + 5] & 0x02:
            break
        segments = data[offset + 26]
        body = offset + 27 + segments
        size = sum(data[offset + 27:body])
        if data[body:body + 7] in (b"\x80theora",) or data[body:body + 5] == b"OVP80":
            return True
        offset = body + size
    return False


_HTML_START = re.compile(r"<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]", re.IGNORECASE)
_SVG_START = re.compile(r"<svg[\s>]", re.IGNORECASE)
_SRT_START = re.compile(r"\A\s*\d+[ \t]*\r?\n\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}[ \t]*-->")
_CLAIMS = {".pdf": "a PDF", ".docx": "a Word document", ".odt": "an OpenDocument text"}
_CLAIMS.update((ext, "audio or video") for ext in ACCEPTED_EXTENSIONS[9:])


def _sniff_text(data: bytes, filename: str) -> Sniffed:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise Refused("This text file is saved as UTF-16. Please save it as UTF-8 and try again.")
    if b"\x00" in data:
        raise Refused(f"This file is not text and not a type we recognise. {ACCEPTED}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Refused("This text file is not UTF-8. Please save it as UTF-8 and try again.")
    head = text[:1024]
    if _SVG_START.search(head):
        raise Refused(f"This is an SVG image, which the library does not accept. {ACCEPTED}")
    name = filename.lower()
    if _HTML_START.search(head):
        sniffed, what = Sniffed(Kind.HTML, "text/html; charset=utf-8"), "an HTML page"
    elif re.match(r"WEBVTT(?:[ \t\r\n]|$)", text):
        sniffed, what = Sniffed(Kind.CAPTIONS, "text/vtt; charset=utf-8"), "captions"
    elif _SRT_START.match(text):
        sniffed, what = Sniffed(Kind.CAPTIONS, "text/plain; charset=utf-8"), "captions"
    elif name.endswith((".md", ".markdown")):
        sniffed, what = Sniffed(Kind.MARKDOWN, "text/markdown; charset=utf-8"), "text"
    else:
        sniffed, what = Sniffed(Kind.TEXT, "text/plain; charset=utf-8"), "plain text"
    claim = _CLAIMS.get(os.path.splitext(name)[1])
    if claim:
        # Text named as a binary type is the usual disguise; there is no honest reason for it.
        raise Refused(f"This file says it is {claim} but is really {what}.")
    return sniffed


# --- ZIP containers (DOCX and ODT) ----------------------------------------------------------

def check_zip(data: bytes) -> None:
    """Central-directory checks before any parser opens an office file; raises Refused."""
    _check_end_record(data)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except Exception:
        raise Refused("This file is damaged: its table of contents cannot be read.")
    if len(entries) > ZIP_MAX_ENTRIES:
        raise Refused(f"This file has {len(entries):,} parts; a document has at most "
                      f"{ZIP_MAX_ENTRIES:,}.")
    names = set()
    for entry in entries:
        _check_entry(entry, len(data))
        if entry.filename in names:
            raise Refused("This file lists the same part twice, which documents never do.")
        names.add(entry.filename)
    total = sum(entry.file_size for entry in entries)
    packed = sum(entry.compress_size for entry in entries)
    if total > ZIP_MAX_TOTAL_BYTES:
        raise Refused(f"This file would unpack to {total // 2**20:,} MB; the limit is "
                      f"{ZIP_MAX_TOTAL_BYTES // 2**20} MB.")
    if total >= ZIP_RATIO_FLOOR and total > ZIP_MAX_RATIO * max(packed, 1):
        raise Refused("This file is compressed far more than any real document: it looks like "
                      "a ZIP bomb.")
    _check_nested(archive, entries)


def _check_end_record(data: bytes) -> None:
    # Read the counts ourselves first, so a directory of a million entries is never parsed.
    at = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if at < 0 or len(data) - at < 22:
        raise Refused("This file is damaged: its table of contents is missing.")
    _, disk, cd_disk, _, count, size, offset, _ = struct.unpack("<4s4H2LH", data[at:at + 22])
    if disk or cd_disk or 0xFFFF in (count,) or 0xFFFFFFFF in (size, offset):
        raise Refused("This file uses a multi-part or 64-bit ZIP layout that documents never "
                      "need.")
    if count > ZIP_MAX_ENTRIES or size > ZIP_MAX_ENTRIES * 1024:
        raise Refused(f"This file has {count:,} parts; a document has at most "
                      f"{ZIP_MAX_ENTRIES:,}.")


def _check_entry(entry: zipfile.ZipInfo, data_size: int) -> None:
    name = entry.filename
    if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name):
        raise Refused("This file contains a part with an absolute path, which documents never do.")
    if ".." in re.split(r"[\\/]", name):
        raise Refused("This file contains a part that points outside itself ('..').")
    if stat.S_ISLNK(entry.external_attr >> 16):
        raise Refused("This file contains a symbolic link, which documents never do.")
    if entry.flag_bits & 0x1:
        raise Refused("This file is encrypted. Please upload a copy without a password.")
    if entry.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise Refused("This file uses a compression method that documents never use.")
    if entry.file_size >= ZIP_RATIO_FLOOR and \
            entry.file_size > ZIP_MAX_RATIO * max(entry.compress_size, 1):
        raise Refused("This file is compressed far more than any real document: it looks like "
                      "a ZIP bomb.")
    if entry.header_offset + entry.compress_size > data_size:
        raise Refused("This file is damaged: a part runs past its end.")


def _check_nested(archive: zipfile.ZipFile, entries: list[zipfile.ZipInfo]) -> None:
    # Word keeps embedded workbooks and decks as packages in word/embeddings/; nothing here
    # ever opens them, so they are allowed. Any other archive inside is refused.
    for entry in entries:
        if entry.is_dir() or entry.file_size < 4:
            continue
        try:
            with archive.open(entry) as part:
                magic = part.read(4)
        except Exception:
            raise Refused("This file is damaged: one of its parts cannot be read.")
        if magic == b"PK\x03\x04" and not (
                entry.filename.startswith("word/embeddings/")
                and entry.filename.endswith((".xlsx", ".xlsm", ".docx", ".pptx"))):
            raise Refused("This file has another archive inside it, which we do not accept.")


def _refuse_dtd(archive: zipfile.ZipFile) -> None:
    # OOXML and ODF never declare a DTD; one in a part is an entity bomb or an XXE attempt.
    for entry in archive.infolist():
        if entry.filename.endswith((".xml", ".rels")):
            part = archive.read(entry)
            if b"<!DOCTYPE" in part or b"<!ENTITY" in part:
                raise Refused("This document declares XML entities, which real documents never "
                              "do, so we did not read it.")


# --- Reading the text -----------------------------------------------------------------------

_NO_TEXT = {
    Kind.PDF: "We could not find any text in this PDF: it may be scanned images or built to "
              "hide its text. Someone will look at it.",
    Kind.HTML: "We could not find any text in this web page. Someone will look at it.",
    Kind.CAPTIONS: "We could not find any words in these captions. Someone will look at it.",
}
_NO_TEXT_OTHER = "We could not find any text in this file. Someone will look at it."


def extract_text(data: bytes, kind: str) -> Extraction:
    """Read the words of a file whose kind is known. Never raises: failures become a reason."""
    reader = _READERS.get(kind)
    if reader is None:
        return Extraction("failed", "", "We only read text from documents, not from audio, "
                                        "video or unknown types.")
    try:
        text = _tidy(reader(data))
    except Refused as refusal:
        return Extraction("failed", "", refusal.message)
    except _TooComplex as error:
        return Extraction("review", "", f"This file hit a safety limit while we read it "
                                        f"({error}). Someone will look at it.")
    except RecursionError:
        return Extraction("failed", "", "This file is nested too deeply to read safely.")
    except MemoryError:
        return Extraction("failed", "", "This file needs too much memory to read safely.")
    except Exception:
        return Extraction("failed", "", "We could not read this file: it may be damaged.")
    if not text:
        return Extraction("review", "", _NO_TEXT.get(kind, _NO_TEXT_OTHER))
    return Extraction("done", text, "")


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\ud800-\udfff]")   # surrogates break UTF-8
_SPACES = re.compile(r"[ \t\f\v\xa0]+")
_LINE_EDGES = re.compile(r" ?\n ?")
_BLANK_LINES = re.compile(r"\n{3,}")


def _tidy(text: str) -> str:
    text = text[:TEXT_MAX_CHARS * 2].replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    text = _SPACES.sub(" ", text)
    text = _LINE_EDGES.sub("\n", text)
    text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()[:TEXT_MAX_CHARS]


def _read_pdf(data: bytes) -> str:
    from pypdf.errors import LimitReachedError

    try:
        reader = _open_pdf(data)
        chunks, size, errors = [], 0, 0
        with _pdf_limits():
            for number, page in enumerate(reader.pages):
                if number >= PDF_MAX_PAGES or size > TEXT_MAX_CHARS:
                    break
                try:
                    chunk = page.extract_text()
                except (LimitReachedError, RecursionError, MemoryError):
                    raise
                except Exception:   # one damaged page should not lose the others
                    errors += 1
                    continue
                chunks.append(chunk)
                size += len(chunk)
    except LimitReachedError as error:
        raise _TooComplex(str(error)[:200]) from error
    if errors and not any(chunk.strip() for chunk in chunks):
        raise ValueError("no page could be read")
    return "\n\n".join(chunks)


def _read_docx(data: bytes) -> str:
    check_zip(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        _refuse_dtd(archive)
    import docx
    from docx.oxml.ns import qn
    from docx.text.paragraph import Paragraph

    body = docx.Document(io.BytesIO(data)).element.body
    # Every paragraph in order, tables (and tables in tables) included, each once.
    return "\n".join(Paragraph(p, None).text for p in body.iter(qn("w:p")))


_ODF_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_ODF_PARAGRAPHS = {_ODF_TEXT + "p", _ODF_TEXT + "h"}
_ODF_MARKS = {_ODF_TEXT + "s": " ", _ODF_TEXT + "tab": "\t", _ODF_TEXT + "line-break": "\n"}


def _read_odt(data: bytes) -> str:
    check_zip(data)
    from defusedxml.ElementTree import iterparse

    lines, depth = [], 0
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        _refuse_dtd(archive)
        with archive.open("content.xml") as content:
            for event, element in iterparse(content, events=("start", "end"), forbid_dtd=True):
                if event == "start":
                    depth += 1
                    if depth > XML_MAX_DEPTH:
                        raise _TooComplex(f"more than {XML_MAX_DEPTH} levels of nesting")
                    continue
                depth -= 1
                if element.tag in _ODF_PARAGRAPHS:
                    lines.append(_odf_line(element))
                    element.clear()
    return "\n".join(lines)


def _odf_line(paragraph) -> str:
    parts, stack = [], [(paragraph, False)]
    while stack:   # depth-first by hand: text, then children, then the tail
        node, closing = stack.pop()
        if closing:
            if node is not paragraph and node.tail:
                parts.append(node.tail)
            continue
        parts.append(_ODF_MARKS.get(node.tag, ""))
        if node.text:
            parts.append(node.text)
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(node))
    return "".join(parts)


class _HTMLText(HTMLParser):
    SKIP = {"script", "style", "template"}
    BREAKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "title",
              "section", "article", "header", "footer", "blockquote", "pre", "table", "hr",
              "dt", "dd", "ul", "ol"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.skipping = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BREAKS:
            self.parts.append("\n")
        elif tag == "td":
            self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BREAKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def _read_html(data: bytes) -> str:
    parser = _HTMLText()
    parser.feed(_decode(data))
    parser.close()
    return "".join(parser.parts)


def _decode(data: bytes) -> str:
    # Only the part that can survive the length cap is decoded; a cut character is dropped.
    try:
        return codecs.getincrementaldecoder("utf-8-sig")().decode(
            memoryview(data)[:TEXT_MAX_CHARS * 4], final=False)
    except UnicodeDecodeError:
        raise Refused("This text file is not UTF-8. Please save it as UTF-8 and try again.")


_CAPTION_BLOCKS = re.compile(r"(?m)^(?:WEBVTT|NOTE|STYLE|REGION)\b.*(?:\n.+)*")
_CAPTION_TIMINGS = re.compile(r"(?m)^(?:(?!.*-->).*\n)?.*-->.*$")   # and the cue number above
_CAPTION_TAGS = re.compile(r"<[^>\n]*>")


def _read_captions(data: bytes) -> str:
    import html

    text = _decode(data).replace("\r\n", "\n").replace("\r", "\n")
    text = _CAPTION_BLOCKS.sub("", text)
    text = _CAPTION_TIMINGS.sub("", text)
    return html.unescape(_CAPTION_TAGS.sub("", text))


_READERS = {
    Kind.PDF: _read_pdf, Kind.DOCX: _read_docx, Kind.ODT: _read_odt, Kind.HTML: _read_html,
    Kind.TEXT: _decode, Kind.MARKDOWN: _decode, Kind.CAPTIONS: _read_captions,
}


# --- Reading in a child process -------------------------------------------------------------

_PROJECT_ROOT = Path(__file__).resolve().parents[2]


def extract_isolated(data: bytes, kind: str, *, seconds: int | None = None,
                     memory_mb: int | None = None) -> Extraction:
    """Run extract_text in a child process under memory and CPU limits. Never raises."""
    seconds, memory_mb = _limits(seconds, memory_mb)
    started = time.perf_counter()
    peak_mb = 0.0
    try:
        code, timed_out, rss_kb, output, errors = _run_child(data, kind, seconds, memory_mb)
        peak_mb = rss_kb / 1024
        result = _child_result(code, timed_out, output, errors, seconds, memory_mb)
    except Exception:
        result = Extraction("failed", "", "We could not start the text reader. Please try again "
                                          "later.")
    return replace(result, seconds=time.perf_counter() - started, peak_rss_mb=peak_mb)


def _limits(seconds: int | None, memory_mb: int | None) -> tuple[int, int]:
    if seconds is None or memory_mb is None:
        try:
            from django.conf import settings

            seconds = seconds or settings.LIBRARY_EXTRACT_SECONDS
            memory_mb = memory_mb or settings.LIBRARY_EXTRACT_MEMORY_MB
        except Exception:   # settings not configured: a script or the generator
            seconds, memory_mb = seconds or 10, memory_mb or 512
    return max(1, math.ceil(seconds)), int(memory_mb)


def _run_child(data: bytes, kind: str, seconds: int, memory_mb: int):
    with tempfile.TemporaryFile() as stdin, tempfile.TemporaryFile() as stdout, \
            tempfile.TemporaryFile() as stderr:
        stdin.write(data)
        stdin.seek(0)
        child = subprocess.Popen(
            [sys.executable, "-m", "hub.library.extract_child", kind],
            stdin=stdin, stdout=stdout, stderr=stderr, cwd=_PROJECT_ROOT, close_fds=True,
            preexec_fn=lambda: _limit_child(seconds, memory_mb))
        timed_out, status, usage = _wait(child, seconds)
        child.returncode = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        output = stdout.read(CHILD_MAX_OUTPUT)
        stderr.seek(max(0, stderr.seek(0, os.SEEK_END) - 4096))
        errors = stderr.read()
    return child.returncode, timed_out, usage.ru_maxrss, output, errors


def _limit_child(seconds: int, memory_mb: int) -> None:
    # Runs in the child between fork and exec: plain system calls only.
    for limit, value in ((resource.RLIMIT_AS, memory_mb * 1024 * 1024),
                         (resource.RLIMIT_CPU, seconds),
                         (resource.RLIMIT_FSIZE, CHILD_MAX_OUTPUT),
                         (resource.RLIMIT_CORE, 0)):
        hard = resource.getrlimit(limit)[1]
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(limit, (value, hard))


def _wait(child: subprocess.Popen, seconds: int):
    """Wait up to ``seconds``, killing the child after that; return its rusage as well.

    os.wait4 reports this child's own peak memory, which RUSAGE_CHILDREN cannot.
    """
    try:
        handle = os.pidfd_open(child.pid)
    except (AttributeError, OSError):
        handle = None
    if handle is not None:
        try:
            timed_out = not select.select([handle], [], [], seconds)[0]
        finally:
            os.close(handle)
    else:
        deadline = time.monotonic() + seconds
        while os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
            if time.monotonic() > deadline:
                break
            time.sleep(0.01)
        timed_out = time.monotonic() > deadline
    if timed_out:
        os.kill(child.pid, signal.SIGKILL)   # not child.kill(): that may reap it and lose rusage
    _, status, usage = os.wait4(child.pid, 0)
    return timed_out, status, usage


def _child_result(code: int, timed_out: bool, output: bytes, errors: bytes, seconds: int,
                  memory_mb: int) -> Extraction:
    if timed_out or code == -signal.SIGXCPU:
        return Extraction("failed", "", f"Reading this file took longer than {seconds} seconds, "
                                        f"so we stopped. It may be very large or built to "
                                        f"waste time.")
    if code == -signal.SIGKILL or (code and b"MemoryError" in errors):
        return Extraction("failed", "", f"Reading this file needed more than {memory_mb} MB of "
                                        f"memory, so we stopped.")
    if code:
        return Extraction("failed", "", "The text reader crashed on this file. It may be damaged "
                                        "or built to break readers.")
    try:
        reply = json.loads(output)
        status, text, message = reply["status"], reply["text"], reply["message"]
        if status not in ("done", "review", "failed") or not isinstance(text, str) or \
                not isinstance(message, str) or (status != "done") == (not message):
            raise ValueError(status)
    except Exception:
        return Extraction("failed", "", "The text reader gave an answer we could not use.")
    return Extraction(status, text if status == "done" else "", message)
