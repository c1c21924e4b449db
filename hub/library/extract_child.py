"""Everything that parses untrusted bytes, and the child process that runs it.

``python -m hub.library.extract_child KIND`` reads a file on stdin and prints one JSON
object. ``files.extract_isolated`` starts it with memory and CPU limits already set. The
module imports no Django and loads each parser only when a file needs it, so the child starts
quickly; ``files`` re-exports the public names.
"""

import codecs
import io
import json
import logging
import re
import stat
import struct
import sys
import zipfile
import zlib
from dataclasses import dataclass
from html.parser import HTMLParser

ZIP_MAX_TOTAL_BYTES = 50 * 1024 * 1024
ZIP_MAX_ENTRIES = 1_000
ZIP_MAX_RATIO = 100
ZIP_RATIO_FLOOR = 64 * 1024     # small parts compress wildly and can do no harm
PDF_MAX_PAGES = 2_000
TEXT_MAX_CHARS = 5_000_000
XML_MAX_DEPTH = 500
PDF_OPEN_CHECK = "pdf-open-check"   # the task when files.sniff checks that a PDF opens

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


NOT_UTF8 = "This text file is not UTF-8. Please save it as UTF-8 and try again."


class Refused(Exception):
    """An upload the hub will not keep, with a sentence the contributor can act on."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class _TooComplex(Exception):
    """A file that hit a safety limit: it may be hostile, so a person should look."""


@dataclass(frozen=True)
class Extraction:
    status: str     # "done", "review" or "failed"
    text: str       # "" unless done
    message: str    # "" when done, otherwise the reason, for the contributor
    seconds: float = 0.0
    peak_rss_mb: float = 0.0


# --- ZIP containers (DOCX and ODT) ----------------------------------------------------------

_BOMB = "This file is compressed far more than any real document: it looks like a ZIP bomb."
_DAMAGED_PART = "This file is damaged: one of its parts cannot be read."


def check_zip(data: bytes) -> None:
    """Central-directory checks before any parser opens an office file; raises Refused.

    The declared sizes are checked first, so a bomb is refused without inflating a byte.
    Then every part is inflated in small chunks to prove the sizes true: zipfile trusts them
    only loosely, and python-docx reads each part in one go.
    """
    _check_end_record(data)
    try:
        entries = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except Exception:
        raise Refused("This file is damaged: its table of contents cannot be read.") from None
    if len(entries) > ZIP_MAX_ENTRIES:
        raise Refused(f"This file has {len(entries):,} parts; a document has at most "
                      f"{ZIP_MAX_ENTRIES:,}.")
    if len({entry.filename for entry in entries}) < len(entries):
        raise Refused("This file lists the same part twice, which documents never do.")
    for entry in entries:
        _check_entry(entry)
    total = sum(entry.file_size for entry in entries)
    if total > ZIP_MAX_TOTAL_BYTES:
        raise Refused(f"This file would unpack to {total // 2**20:,} MB; the limit is "
                      f"{ZIP_MAX_TOTAL_BYTES // 2**20} MB.")
    packed = sum(entry.compress_size for entry in entries)
    if total >= ZIP_RATIO_FLOOR and total > ZIP_MAX_RATIO * max(packed, 1):
        raise Refused(_BOMB)
    for entry in entries:
        _check_part(data, entry)


def _check_end_record(data: bytes) -> None:
    # Read the counts ourselves first, so a directory of a million entries is never parsed.
    at = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if at < 0 or len(data) - at < 22:
        raise Refused("This file is damaged: its table of contents is missing.")
    _, disk, cd_disk, _, count, size, offset, _ = struct.unpack("<4s4H2LH", data[at:at + 22])
    if disk or cd_disk or count == 0xFFFF or 0xFFFFFFFF in (size, offset):
        raise Refused("This file uses a multi-part or 64-bit ZIP layout that documents never "
                      "need.")
    if count > ZIP_MAX_ENTRIES or size > ZIP_MAX_ENTRIES * 1024:
        raise Refused(f"This file has {count:,} parts; a document has at most "
                      f"{ZIP_MAX_ENTRIES:,}.")


def _check_entry(entry: zipfile.ZipInfo) -> None:
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
        raise Refused(_BOMB)


def _check_part(data: bytes, entry: zipfile.ZipInfo) -> None:
    at = entry.header_offset
    if data[at:at + 4] != b"PK\x03\x04":
        raise Refused(_DAMAGED_PART)
    start = at + 30 + sum(struct.unpack("<2H", data[at + 26:at + 30]))
    raw = memoryview(data)[start:start + entry.compress_size]
    if len(raw) != entry.compress_size:
        raise Refused(_DAMAGED_PART)
    # OOXML and ODF never declare a DTD: one is an entity bomb or an XXE attempt.
    markup = entry.filename.endswith((".xml", ".rels"))
    size, crc, head, tail = 0, 0, b"", b""
    for chunk in _inflate(raw, entry.compress_type == zipfile.ZIP_DEFLATED):
        head = head if len(head) >= 4 else (head + chunk)[:4]
        size += len(chunk)
        if size > entry.file_size:
            raise Refused("This file holds more data than its table of contents admits: it "
                          "looks like a ZIP bomb.")
        crc = zlib.crc32(chunk, crc)
        if markup and (b"<!DOCTYPE" in tail + chunk or b"<!ENTITY" in tail + chunk):
            raise Refused("This document declares XML entities, which real documents never "
                          "do, so we did not read it.")
        tail = chunk[-16:]
    if size != entry.file_size or crc != entry.CRC:
        raise Refused(_DAMAGED_PART)
    # Word keeps embedded workbooks and decks as packages in word/embeddings/. Nothing here
    # opens them, so they may stay; any other archive inside is refused.
    if head == b"PK\x03\x04" and not (
            entry.filename.startswith("word/embeddings/")
            and entry.filename.endswith((".xlsx", ".xlsm", ".docx", ".pptx"))):
        raise Refused("This file has another archive inside it, which we do not accept.")


def _inflate(raw: memoryview, deflated: bool, chunk_size: int = 1 << 16):
    """Yield a part's bytes in chunks of at most ``chunk_size``, whatever its sizes claim."""
    if not deflated:
        for start in range(0, len(raw), chunk_size):
            yield bytes(raw[start:start + chunk_size])
        return
    inflater = zlib.decompressobj(-15)
    try:
        for start in range(0, len(raw), chunk_size):
            pending = raw[start:start + chunk_size]
            while pending and not inflater.eof:
                yield inflater.decompress(pending, chunk_size)
                pending = inflater.unconsumed_tail
        while not inflater.eof:
            chunk = inflater.decompress(b"", chunk_size)
            if not chunk:
                break
            yield chunk
    except zlib.error:
        raise Refused(_DAMAGED_PART) from None
    if not inflater.eof:
        raise Refused(_DAMAGED_PART)


# --- PDF --------------------------------------------------------------------------------------

def pdf_open_check(data: bytes) -> Extraction:
    """The structural half of typing a PDF, run in the child: "done" if the file opens."""
    try:
        _open_pdf(data)
    except Refused as refusal:
        return Extraction("failed", "", refusal.message)
    except Exception:   # pypdf raises many types on damaged files; all mean the same here
        return Extraction("failed", "", "This file starts like a PDF but is damaged: we could "
                                        "not open it.")
    return Extraction("done", "", "")


def _open_pdf(data: bytes):
    """Open the PDF and reach its page tree; return the reader."""
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


# --- Reading the text -----------------------------------------------------------------------

_NO_TEXT = {
    "pdf": "We could not find any text in this PDF: it may be scanned images or built to "
           "hide its text. Someone will look at it.",
    "html": "We could not find any text in this web page. Someone will look at it.",
    "captions": "We could not find any words in these captions. Someone will look at it.",
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
_SPACES = re.compile(r"[ \t\f\v\xa0]{2,}|[\t\f\v\xa0]")   # only what changes: it is faster
_BLANK_LINES = re.compile(r"\n{3,}")


def _tidy(text: str) -> str:
    text = text[:TEXT_MAX_CHARS * 2].replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    text = _SPACES.sub(" ", text).replace(" \n", "\n").replace("\n ", "\n")
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
        raise Refused(NOT_UTF8) from None


# A cue's text is the lines after its timing line, up to a blank line. Headers, NOTE, STYLE
# and REGION blocks and cue numbers all come before a timing line, so they are left out.
_CAPTION_CUES = re.compile(r"-->.*((?:\n.+)*)")
_CAPTION_TAGS = re.compile(r"<[^>\n]*>")


def _read_captions(data: bytes) -> str:
    import html

    text = _decode(data).replace("\r\n", "\n").replace("\r", "\n")
    text = "\n".join(_CAPTION_CUES.findall(text))
    return html.unescape(_CAPTION_TAGS.sub("", text))


_READERS = {
    "pdf": _read_pdf, "docx": _read_docx, "odt": _read_odt, "html": _read_html,
    "text": _decode, "markdown": _decode, "captions": _read_captions,
}


# --- The child process ---------------------------------------------------------------------

def main() -> int:
    # Python's default, stated on purpose: far below what the C stack holds, so a deeply
    # nested file ends in RecursionError rather than a crash.
    sys.setrecursionlimit(1_000)
    # pypdf logs a warning for every flaw it repairs; nobody reads the child's stderr for them.
    logging.disable(logging.WARNING)
    kind = sys.argv[1] if len(sys.argv) > 1 else ""
    try:
        data = sys.stdin.buffer.read()
        result = pdf_open_check(data) if kind == PDF_OPEN_CHECK else extract_text(data, kind)
        del data
        reply = {"status": result.status, "text": result.text, "message": result.message}
    except MemoryError:
        reply = {"status": "failed", "text": "",
                 "message": "This file needs too much memory to read safely."}
    except Exception:   # extract_text never raises, so only reading stdin can get here
        reply = {"status": "failed", "text": "", "message": "The text reader could not start."}
    reply["peak_rss_kb"] = _peak_rss_kb()
    sys.stdout.buffer.write(json.dumps(reply, ensure_ascii=False).encode())
    return 0


def _peak_rss_kb() -> int:
    # VmHWM belongs to this program alone. getrusage's maxrss would also count the parent's
    # memory that the fork copied before exec.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
