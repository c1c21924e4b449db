import importlib.util
import io
import random
import signal
import struct
import time
import zipfile
import zlib
from pathlib import Path

import docx
import pytest
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from hub.library import files
from hub.library.files import Kind, Refused, check_zip, extract_isolated, extract_text, sniff

_spec = importlib.util.spec_from_file_location(
    "hostile_files", Path(__file__).resolve().parents[3] / "tools" / "hostile_files.py")
hostile = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hostile)


# --- Samples, made here so each test shows what it feeds in ----------------------------------

def make_pdf(*lines: str) -> bytes:
    """One page of Helvetica text, written by pypdf."""
    writer = PdfWriter()
    page = writer.add_blank_page(612, 792)
    helvetica = DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica")})
    page[NameObject("/Resources")] = DictionaryObject({
        NameObject("/Font"): DictionaryObject({NameObject("/F1"): helvetica})})
    content = DecodedStreamObject()
    content.set_data(b"".join(b"BT /F1 12 Tf 72 %d Td (%s) Tj ET\n" % (720 - 20 * n, line.encode())
                              for n, line in enumerate(lines)))
    page.replace_contents(content)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_docx(paragraphs=("Community safety meeting notes",), table=(), picture=False) -> bytes:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for row, values in zip(grid.rows, table, strict=True):
            for cell, value in zip(row.cells, values, strict=True):
                cell.text = value
    if picture:
        document.add_picture(io.BytesIO(make_png()))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_png(width: int = 64, height: int = 64) -> bytes:
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body))
    rows = b"".join(b"\x00" + bytes((x * y) % 256 for x in range(width)) for y in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def make_odt(*paragraphs: str) -> bytes:
    body = "".join(f"<text:p>{text}</text:p>" for text in paragraphs)
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
               '<office:body><office:text><text:h text:outline-level="1">Report</text:h>'
               f'{body}<text:p>Two<text:s/>words<text:tab/>and<text:line-break/>a '
               '<text:span>span</text:span> tail</text:p></office:text></office:body>'
               '</office:document-content>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text",
                         compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", "<manifest/>")
    return out.getvalue()


MP3_FRAME = b"\xff\xfb\x90\x64" + bytes(413)   # MPEG-1 Layer III, 128 kbit/s, 44.1 kHz: 417 bytes
HTML = (b"<!DOCTYPE html><html><head><title>Hub page</title><style>p {color: red}</style>"
        b"<script>var hidden = 'script words';</script></head><body><p>Visible &amp; kept</p>"
        b"</body></html>")
VTT = (b"WEBVTT\n\nNOTE a comment\n\nintro\n00:00:01.000 --> 00:00:02.000\n<v Ana>Hello "
       b"<b>neighbours</b>\n\n00:00:03.000 --> 00:00:04.000 align:start\nSecond cue\n")
SRT = b"1\n00:00:01,000 --> 00:00:02,000\nFirst line\n\n2\n00:00:03,000 --> 00:00:04,000\nSecond\n"


def ogg(first_packet: bytes) -> bytes:
    return b"OggS\x00\x02" + bytes(20) + bytes([1, len(first_packet)]) + first_packet


SAMPLES = {
    "report.pdf": (make_pdf("Hello PDF"), Kind.PDF, "application/pdf"),
    "notes.docx": (make_docx(), Kind.DOCX, "application/vnd.openxmlformats-officedocument"
                                           ".wordprocessingml.document"),
    "notes.odt": (make_odt("Hello ODT"), Kind.ODT, "application/vnd.oasis.opendocument.text"),
    "notes.txt": ("Plain words, café".encode(), Kind.TEXT, "text/plain; charset=utf-8"),
    "bom.txt": (b"\xef\xbb\xbfWith a BOM", Kind.TEXT, "text/plain; charset=utf-8"),
    "readme.md": (b"# Title\n\nSome *markdown*.", Kind.MARKDOWN, "text/markdown; charset=utf-8"),
    "page.html": (HTML, Kind.HTML, "text/html; charset=utf-8"),
    "talk.vtt": (VTT, Kind.CAPTIONS, "text/vtt; charset=utf-8"),
    "talk.srt": (SRT, Kind.CAPTIONS, "text/plain; charset=utf-8"),
    "song.mp3": (b"ID3\x04\x00\x00\x00\x00\x00\x00" + MP3_FRAME, Kind.AUDIO, "audio/mpeg"),
    "bare.mp3": (MP3_FRAME * 3, Kind.AUDIO, "audio/mpeg"),
    "sound.wav": (b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(40), Kind.AUDIO, "audio/wav"),
    "sound.ogg": (ogg(b"\x01vorbis" + bytes(22)), Kind.AUDIO, "audio/ogg"),
    "film.ogv": (ogg(b"\x80theora" + bytes(35)), Kind.VIDEO, "video/ogg"),
    "sound.flac": (b"fLaC\x00\x00\x00\x22" + bytes(34), Kind.AUDIO, "audio/flac"),
    "voice.m4a": (b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00M4A isom" + bytes(8), Kind.AUDIO,
                  "audio/mp4"),
    "film.mp4": (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2" + bytes(8), Kind.VIDEO,
                 "video/mp4"),
    "film.mov": (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  " + bytes(8), Kind.VIDEO,
                 "video/quicktime"),
    "film.webm": (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm" + bytes(16),
                  Kind.VIDEO, "video/webm"),
}


# --- Types ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", SAMPLES)
def test_sniff_recognises_each_kind(name):
    """A good sample of every kind is typed by its content and served with its own type."""
    data, kind, mime = SAMPLES[name]
    assert sniff(data, name) == files.Sniffed(kind, mime)


def test_sniff_ignores_the_name_between_binary_kinds():
    """A PDF named .docx is a PDF, and a Word file named .pdf is a Word file."""
    assert sniff(make_pdf("Hello"), "misnamed.docx").kind == Kind.PDF
    assert sniff(make_docx(), "misnamed.pdf").kind == Kind.DOCX
    assert sniff(SAMPLES["film.mp4"][0], "film.txt").kind == Kind.VIDEO


def test_sniff_uses_the_name_only_to_tell_markdown_from_text():
    """The same harmless text is Markdown when named .md and plain text otherwise."""
    assert sniff(b"# Title", "a.md").kind == Kind.MARKDOWN
    assert sniff(b"# Title", "a.markdown").kind == Kind.MARKDOWN
    assert sniff(b"# Title", "a.txt").kind == Kind.TEXT


@pytest.mark.parametrize("data, name, words", [
    (HTML, "invoice.pdf", "is really an HTML page"),
    (b"Plain words", "scan.pdf", "is really plain text"),
    (HTML, "letter.docx", "is really an HTML page"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "logo.pdf",
     "SVG image"),
    (b"%PDF-1.7\n<html><body><script>alert(1)</script></body></html>", "x.pdf", "web page"),
    (make_pdf("Hello") + b"<html><script>alert(1)</script></html>", "x.pdf", "web page"),
    (b"<html>" + make_pdf("Hello"), "x.pdf", "hidden behind other content"),
])
def test_sniff_refuses_disguised_files(data, name, words):
    """HTML or SVG dressed as a PDF or Word file is refused with a sentence saying so."""
    with pytest.raises(Refused) as refused:
        sniff(data, name)
    assert words in refused.value.message


@pytest.mark.parametrize("data, words", [
    (b"", "empty"),
    (b"MZ\x90\x00" + bytes(200), "Windows program"),
    (make_png(), "image"),
    (bytes(range(256)) * 4, "We accept PDF"),
    (b"\x00\x01\x02\x03", "We accept PDF"),
    ("Zoë".encode("latin-1"), "not UTF-8"),
    ("Zoë".encode("utf-16"), "UTF-16"),
    (b"text\x00with a NUL", "not text"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "old Word"),
    (b"\x00\x00\x00\x18ftypheic" + bytes(16), "MP4-style"),
])
def test_sniff_refuses_what_it_does_not_accept(data, words):
    """Programs, images, unknown bytes and non-UTF-8 text are refused with a clear reason."""
    with pytest.raises(Refused) as refused:
        sniff(data, "upload.pdf")
    assert words in refused.value.message


def test_sniff_refuses_damaged_and_password_protected_pdfs():
    """A PDF must open and reach its pages; one that needs a password is refused."""
    good = make_pdf("Hello")
    for data in (b"%PDF-1.7\n", good[: len(good) // 3]):
        with pytest.raises(Refused, match="damaged"):
            sniff(data, "x.pdf")
    with pytest.raises(Refused, match="password"):
        sniff(hostile.encrypted_pdf(), "x.pdf")


def test_sniff_refuses_other_zip_archives():
    """Only DOCX and ODT containers are accepted; spreadsheets and plain ZIPs are not."""
    plain = hostile.zip_bytes([hostile.zip_entry("notes.txt", b"hello")])
    sheet = hostile.minimal_odt(mimetype=b"application/vnd.oasis.opendocument.spreadsheet")
    with pytest.raises(Refused, match="ZIP archive"):
        sniff(plain, "x.docx")
    with pytest.raises(Refused, match="not a text document"):
        sniff(sheet, "x.odt")


def test_accepted_extensions_cover_every_kind_and_extractable_excludes_media():
    """The upload form lists every extension the hub can type, and media is never read."""
    assert {".pdf", ".docx", ".odt", ".txt", ".md", ".vtt", ".srt", ".mp3", ".webm"} <= set(
        files.ACCEPTED_EXTENSIONS)
    assert Kind.AUDIO not in files.EXTRACTABLE and Kind.VIDEO not in files.EXTRACTABLE
    assert "pdf" in files.EXTRACTABLE


# --- ZIP checks ---------------------------------------------------------------------------

def benign_docx(number: int) -> bytes:
    rng = random.Random(number)
    words = ("police community safety youth centre meeting report survey trust neighbourhood "
             "council partnership outcome evidence training school parents volunteers data "
             "risk support referral workshop faith leaders prevention network").split()

    def sentence():
        return " ".join(rng.choice(words) for _ in range(rng.randint(4, 30))).capitalize() + "."
    paragraphs = [sentence() for _ in range(rng.choice((1, 10, 100, 800)))]
    columns = rng.randint(2, 6)
    table = [[sentence()[:40] for _ in range(columns)] for _ in range(rng.randint(0, 30))]
    return make_docx(paragraphs, table, picture=number % 5 == 0)


def test_check_zip_accepts_fifty_benign_documents():
    """No false rejects: 50 varied Word files made by python-docx all pass."""
    for number in range(50):
        data = benign_docx(number)
        check_zip(data)
        assert sniff(data, f"doc{number}.docx").kind == Kind.DOCX
    check_zip(make_odt("Hello"))


def test_check_zip_refuses_the_gigabyte_bomb_fast():
    """A 1 MB part that inflates to 1 GiB is refused from its directory in under 50 ms."""
    bomb = hostile.minimal_docx(extra=[hostile.zip_entry(
        "word/media/big.bin", raw=hostile.zeros_deflate(1024, wrapped=False), size=1 << 30,
        crc=hostile.zeros_crc32(1024))])
    declared = sum(entry.file_size for entry in zipfile.ZipFile(io.BytesIO(bomb)).infolist())
    assert len(bomb) < 1.2e6 and declared > 1.07e9
    started = time.perf_counter()
    with pytest.raises(Refused, match="ZIP bomb"):
        check_zip(bomb)
    assert time.perf_counter() - started < 0.05


@pytest.mark.parametrize("entry, words", [
    (dict(name="../evil.sh"), "outside itself"),
    (dict(name="/etc/cron.d/x"), "absolute path"),
    (dict(name="C:/evil.dll"), "absolute path"),
    (dict(name="word/link", mode=0o120777), "symbolic link"),
    (dict(name="word/secret.xml", flags=0x1), "encrypted"),
    (dict(name="word/inner.zip", data=hostile.minimal_docx()), "another archive"),
    (dict(name="word/big.xml", data=bytes(2_000_000)), "ZIP bomb"),
    (dict(name="word/liar.xml", raw=hostile.zeros_deflate(10, wrapped=False), size=100,
          crc=zlib.crc32(bytes(100))), "more data than"),
    (dict(name="word/bad.xml", data=b"<x/>", crc=1234), "damaged"),
    (dict(name="word/dtd.xml", data=hostile.XXE + b"<x>&x;</x>"), "XML entities"),
])
def test_check_zip_refuses_hostile_entries(entry, words):
    """Paths, links, encryption, nested archives, bombs, lying sizes and DTDs are refused."""
    data = entry.pop("data", b"boom")
    with pytest.raises(Refused) as refused:
        check_zip(hostile.minimal_docx(extra=[hostile.zip_entry(data=data, **entry)]))
    assert words in refused.value.message


def test_check_zip_refuses_too_many_entries_and_broken_directories():
    """More than 1,000 parts, a missing end record or a bad directory are all refused."""
    many = hostile.minimal_docx(extra=[hostile.zip_entry(f"p{i}", b"x") for i in range(998)])
    good = hostile.minimal_docx()
    for data, words in [(many, "at most 1,000"), (good[:-30], "damaged"),
                        (good[:-6] + b"\xff\xff\xff\x7f" + good[-2:], "damaged")]:
        with pytest.raises(Refused, match=words):
            check_zip(data)
    check_zip(hostile.minimal_docx(extra=[hostile.zip_entry(f"p{i}", b"x") for i in range(997)]))


# --- Reading text ---------------------------------------------------------------------------

@pytest.mark.parametrize("kind, data, present, absent", [
    (Kind.PDF, make_pdf("Hello PDF", "Second line"), ["Hello PDF", "Second line"], []),
    (Kind.DOCX, make_docx(["First paragraph"], [["Cell one", "Cell two"]]),
     ["First paragraph", "Cell one", "Cell two"], []),
    (Kind.ODT, make_odt("Hello ODT"), ["Report", "Hello ODT", "Two words", "a span tail"], []),
    (Kind.HTML, HTML, ["Hub page", "Visible & kept"], ["script words", "color"]),
    (Kind.TEXT, "  Plain\r\n\r\n\r\n\r\nwords, café  ".encode(), ["Plain\n\nwords, café"], []),
    (Kind.MARKDOWN, b"# Title\n\nSome *markdown*.", ["# Title", "*markdown*"], []),
    (Kind.CAPTIONS, VTT, ["Hello neighbours", "Second cue"],
     ["-->", "WEBVTT", "intro", "<b>", "comment", "align"]),
    (Kind.CAPTIONS, SRT, ["First line", "Second"], ["-->", "1\n", "2\n"]),
])
def test_extract_text_reads_each_kind(kind, data, present, absent):
    """Each extractable kind yields its words and drops markup, timings and scripts."""
    result = extract_text(data, kind)
    assert (result.status, result.message) == ("done", "")
    for words in present:
        assert words in result.text
    for words in absent:
        assert words not in result.text


def test_extract_text_flags_a_pdf_without_text_for_review():
    """A PDF with pages but no text is sent to a person, not indexed as empty."""
    result = extract_text(hostile.text_pdf(b"0 0 m 100 100 l S"), Kind.PDF)
    assert result == files.Extraction(
        "review", "", "We could not find any text in this PDF: it may be scanned images or "
                      "built to hide its text. Someone will look at it.")


def test_extract_text_sends_empty_documents_to_review():
    """A non-empty file with no words is never 'done' with empty text."""
    for kind, data in [(Kind.TEXT, b" \n\t "), (Kind.DOCX, make_docx([])),
                       (Kind.HTML, b"<html><script>x()</script></html>"),
                       (Kind.CAPTIONS, b"WEBVTT\n\n00:01.000 --> 00:02.000\n<i></i>\n")]:
        result = extract_text(data, kind)
        assert result.status == "review" and result.text == "" and result.message


def test_extract_text_caps_long_text():
    """Very long text is cut at the cap and still counts as read."""
    result = extract_text(b"word " * 1_200_000, Kind.TEXT)
    assert result.status == "done" and len(result.text) == files.TEXT_MAX_CHARS


def test_extract_text_never_raises():
    """Garbage, wrong kinds and hostile structures come back as a reason, not an exception."""
    cases = [(b"%PDF-1.7 garbage", Kind.PDF), (b"PK\x03\x04junk", Kind.DOCX),
             (b"junk", Kind.ODT), (b"\xff\xfe\x00", Kind.TEXT), (make_pdf("x"), Kind.DOCX),
             (make_docx(), Kind.PDF), (b"abc", Kind.AUDIO), (b"abc", "nonsense")]
    for data, kind in cases:
        result = extract_text(data, kind)
        assert result.status == "failed" and result.text == "" and result.message


# --- The child process ----------------------------------------------------------------------

def test_extract_isolated_reads_in_a_child_and_measures_it():
    """The child returns the same text as the in-process reader, with time and memory."""
    result = extract_isolated(make_pdf("Hello child"), Kind.PDF)
    assert (result.status, result.text) == ("done", "Hello child")
    assert 0 < result.seconds < 5 and 10 < result.peak_rss_mb < 256


@pytest.mark.parametrize("code, timed_out, output, words", [
    (-signal.SIGSEGV, False, b"", "crashed"),
    (-signal.SIGXCPU, False, b"", "longer than 3 seconds"),
    (-signal.SIGKILL, False, b"", "memory"),
    (1, False, b"Traceback... MemoryError", "memory"),
    (0, False, b"not json", "could not use"),
    (0, False, b'{"status": "done", "text": 5, "message": ""}', "could not use"),
    (0, False, b'{"status": "review", "text": "", "message": ""}', "could not use"),
    (0, True, b"", "longer than 3 seconds"),
])
def test_child_endings_become_clear_failures(code, timed_out, output, words):
    """A crash, a kill, a timeout or bad output of the child is reported, never raised."""
    errors = output if code == 1 else b""
    result = files._child_result(code, timed_out, output, errors, 3, 512)
    assert result.status == "failed" and words in result.message
