"""Build a corpus of hostile uploads for the library's type checks and text readers.

    python tools/hostile_files.py OUTDIR

Each file comes with what it tries and how the hub should end up treating it: ``refused``
at upload, or after reading ``review`` (a person looks), ``failed`` (unreadable, with a
reason), ``done`` (harmless text, read normally) or ``stored`` (media, kept and never read).
Bombs are built from repeated compressed blocks, so they are small on disk and quick to make.
"""

import re
import struct
import sys
import time
import zlib
from pathlib import Path

MB = 1 << 20

# --- PDF pieces -----------------------------------------------------------------------------


def pdf(objects: list[bytes], *, root: int = 1, trailer: bytes = b"",
        header: bytes = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n") -> bytes:
    """A PDF with the given numbered objects (1, 2, ...) and a correct cross-reference table."""
    out = bytearray(header)
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R %s >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, root, trailer.replace(b"XREF", b"%d" % xref), xref)
    return bytes(out)


def stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s >>\nstream\n%s\nendstream" % (len(data), extra, data)


def text_pdf(content: bytes | str = "Hello from the hub", *, trailer: bytes = b"",
             **parts) -> bytes:
    """One page of text in Helvetica."""
    return pdf(text_objects(content, **parts), trailer=trailer)


def text_objects(content: bytes | str = "Hello from the hub", *, filters: bytes = b"",
                 resources: bytes = b"", page_extra: bytes = b"", catalog_extra: bytes = b"",
                 extra: list[bytes] = ()) -> list[bytes]:
    """Objects 1-5 of a one-page PDF (catalog, pages, page, font, content); 6 on are ``extra``."""
    if isinstance(content, str):
        content = b"BT /F1 12 Tf 72 720 Td (%s) Tj ET" % content.encode("latin-1")
    return [
        b"<< /Type /Catalog /Pages 2 0 R %s >>" % catalog_extra,
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> %s >> /Contents 5 0 R %s >>" % (resources,
                                                                               page_extra),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        stream(content, filters),
        *extra,
    ]


def zeros_deflate(megabytes: int, *, wrapped: bool = True) -> bytes:
    """Deflate data for ``megabytes`` MiB of zeros, about 1 KB per MiB, without compressing it.

    After a full flush a deflate block refers to nothing before it, so one compressed MiB can
    be repeated; an empty final block ends the stream. Adler-32 of n zeros is n mod 65521 << 16 | 1.
    """
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = packer.compress(bytes(MB)) + packer.flush(zlib.Z_FULL_FLUSH)
    body = block * megabytes + b"\x03\x00"
    if not wrapped:
        return body
    return b"\x78\xda" + body + struct.pack(">I", ((megabytes * MB) % 65521) << 16 | 1)


def zeros_crc32(megabytes: int) -> int:
    crc, chunk = 0, bytes(MB)
    for _ in range(megabytes):
        crc = zlib.crc32(chunk, crc)
    return crc


def lzw_zeros(cycles: int) -> bytes:
    """LZW codes for runs of zeros: each code repeats one more zero than the last (~1,400:1)."""
    codes = []
    for _ in range(cycles):
        codes += [256, 0, *range(258, 258 + 3800)]
    codes.append(257)
    out, buffer, bits, width, next_code = bytearray(), 0, 0, 9, 258
    for code in codes:
        buffer, bits = (buffer << width) | code, bits + width
        while bits >= 8:
            bits -= 8
            out.append((buffer >> bits) & 0xFF)
        buffer &= (1 << bits) - 1
        if code == 256:
            width, next_code = 9, 258
        elif code != 257:
            next_code += 1
            if next_code > (1 << width) - 1 and width < 12:
                width += 1
    if bits:
        out.append((buffer << (8 - bits)) & 0xFF)
    return bytes(out)


# --- ZIP pieces -----------------------------------------------------------------------------


def zip_entry(name: str | bytes, data: bytes = b"", *, method: int = 8, raw: bytes | None = None,
              size: int | None = None, crc: int | None = None, mode: int = 0,
              flags: int = 0) -> dict:
    """One member; ``raw``, ``size`` and ``crc`` let a test lie about what is inside."""
    if raw is None:
        if method == 8:
            packer = zlib.compressobj(6, zlib.DEFLATED, -15)
            raw = packer.compress(data) + packer.flush()
        else:
            raw = data
    return dict(name=name.encode() if isinstance(name, str) else name, raw=raw, method=method,
                size=len(data) if size is None else size,
                crc=zlib.crc32(data) if crc is None else crc, mode=mode, flags=flags)


def zip_bytes(entries: list[dict], *, count: int | None = None) -> bytes:
    """A ZIP archive written by hand, so every field can be what a hostile file would say."""
    out, directory = bytearray(), bytearray()
    for entry in entries:
        offset = len(out)
        fields = (20, entry["flags"], entry["method"], 0, 0x21, entry["crc"],
                  len(entry["raw"]), entry["size"] & 0xFFFFFFFF, len(entry["name"]), 0)
        out += struct.pack("<4s5H3L2H", b"PK\x03\x04", *fields) + entry["name"] + entry["raw"]
        made_by = (3 << 8 | 20) if entry["mode"] else 20
        directory += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", made_by, *fields, 0, 0, 0,
                                 entry["mode"] << 16, offset) + entry["name"]
    total = len(entries) if count is None else count
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, total, total, len(directory), len(out), 0)
    return bytes(out + directory + end)


CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships'
    b'+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
    b'officedocument.wordprocessingml.document.main+xml"/></Types>')
RELS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships/officeDocument" Target="word/document.xml"/></Relationships>')
W = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def word_xml(*paragraphs: str) -> bytes:
    body = b"".join(b"<w:p><w:r><w:t>%s</w:t></w:r></w:p>" % p.encode() for p in paragraphs)
    return b"<w:document %s><w:body>%s</w:body></w:document>" % (W, body)


def minimal_docx(document: bytes | None = None, extra: list[dict] = ()) -> bytes:
    """The three parts Word needs; python-docx opens it."""
    return zip_bytes([zip_entry("[Content_Types].xml", CONTENT_TYPES),
                      zip_entry("_rels/.rels", RELS),
                      zip_entry("word/document.xml", document or word_xml("Hello from Word")),
                      *extra])


ODF_NS = (b'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          b'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"')


def odf_xml(body: bytes = b"<text:p>Hello from Writer</text:p>") -> bytes:
    return (b'<?xml version="1.0" encoding="UTF-8"?><office:document-content %s '
            b'office:version="1.2"><office:body><office:text>%s</office:text></office:body>'
            b'</office:document-content>' % (ODF_NS, body))


def minimal_odt(content: bytes | None = None, *, mimetype: bytes =
                b"application/vnd.oasis.opendocument.text", extra: list[dict] = ()) -> bytes:
    return zip_bytes([zip_entry("mimetype", mimetype, method=0),
                      zip_entry("content.xml", content or odf_xml()), *extra])


# Billion laughs: lol9 expands to ten lol8, and so on down to lol0: 10^9 copies of "lol".
LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">'
          + b"".join(b'<!ENTITY lol%d "%s">' % (level, b"&lol%d;" % (level - 1) * 10)
                     for level in range(1, 10))
          + b"]>")
XXE = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'


# --- The corpus -----------------------------------------------------------------------------


def _pdf_cases(add) -> None:
    bomb = zeros_deflate(200)
    add("pdf_flate_bomb.pdf", text_pdf(bomb, filters=b"/Filter /FlateDecode"),
        "Content stream that inflates to 200 MB of zeros", "review")
    double = zlib.compress(zeros_deflate(1024), 9)
    add("pdf_double_flate_bomb.pdf",
        text_pdf(double, filters=b"/Filter [/FlateDecode /FlateDecode]"),
        "Flate inside Flate: a few KB that inflate to 1 GiB", "review")
    add("pdf_lzw_bomb.pdf", text_pdf(lzw_zeros(14), filters=b"/Filter /LZWDecode"),
        "LZW stream of ~75 KB that decodes to ~100 MB", "review")
    add("pdf_runlength_bomb.pdf",
        text_pdf(bytes([129, 0]) * (30 * MB // 128) + b"\x80", filters=b"/Filter /RunLengthDecode"),
        "Run-length stream, 64:1, 30 MB decoded", "review")
    add("pdf_hex_flate_chain.pdf",
        text_pdf(zeros_deflate(100).hex().encode() + b">",
                 filters=b"/Filter [/ASCIIHexDecode /FlateDecode]"),
        "ASCIIHex then Flate, 100 MB decoded", "review")
    form = b"/Type /XObject /Subtype /Form /BBox [0 0 10 10] /Filter /FlateDecode"
    add("pdf_xobject_bomb.pdf",
        text_pdf(b"/X0 Do", resources=b"/XObject << /X0 6 0 R >>", extra=[stream(bomb, form)]),
        "Form XObject whose stream is a 200 MB Flate bomb", "review")
    add("pdf_tounicode_bomb.pdf",
        pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
             b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 "
             b"4 0 R >> >> /Contents 5 0 R >>",
             b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 6 0 R >>",
             stream(b"BT /F1 12 Tf (Hello) Tj ET"), stream(bomb, b"/Filter /FlateDecode")]),
        "Font /ToUnicode CMap that is a 200 MB Flate bomb", "review")
    add("pdf_xobject_self.pdf",
        text_pdf(b"/X0 Do", resources=b"/XObject << /X0 6 0 R >>",
                 extra=[stream(b"/X0 Do", b"/Type /XObject /Subtype /Form /BBox [0 0 1 1] "
                                          b"/Resources << /XObject << /X0 6 0 R >> >>")]),
        "Form XObject that draws itself", "review")
    fan = [stream(b"/X%d Do " % (i + 1) * 10, b"/Type /XObject /Subtype /Form /BBox [0 0 1 1] "
                  b"/Resources << /XObject << /X%d %d 0 R >> >>" % (i + 1, i + 7))
           for i in range(9)]
    fan.append(stream(b"BT /F1 12 Tf (lol) Tj ET", b"/Type /XObject /Subtype /Form "
                      b"/BBox [0 0 1 1] /Resources << /Font << /F1 4 0 R >> >>"))
    add("pdf_xobject_laughs.pdf",
        text_pdf(b"/X0 Do " * 10, resources=b"/XObject << /X0 6 0 R >>", extra=fan),
        "Ten levels of XObjects each drawing the next ten times (10^10 draws); pypdf stops "
        "after 1,000 and the text read is bounded", "done")

    def tree(kids: bytes, *extra: bytes) -> bytes:
        return pdf([b"<< /Type /Catalog /Pages 2 0 R >>",
                    b"<< /Type /Pages /Kids %s /Count 1 >>" % kids, *extra])

    add("pdf_pages_cycle_self.pdf", tree(b"[2 0 R]"),
        "/Pages whose /Kids is itself (pypdf: cyclic page references)", "failed")
    add("pdf_pages_cycle_parent.pdf",
        tree(b"[3 0 R]", b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R] /Count 1 >>"),
        "Child /Pages node whose /Kids points back to its parent", "failed")
    objects = text_objects("Counted")
    objects[1] = objects[1].replace(b"/Count 1", b"/Count 2147483647")
    add("pdf_pages_count_lies.pdf", pdf(objects),
        "Page tree claims 2^31 pages; the one real page is read", "done")
    empty_page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 1 1] >>"
    add("pdf_pages_wide.pdf", tree(b"[%s]" % (b"3 0 R " * 30_000), empty_page),
        "30,000 references to the same page", "review")
    deep = [b"<< /Type /Pages /Parent %d 0 R /Kids [%d 0 R] /Count 1 >>" % (n + 2, n + 4)
            for n in range(1, 201)] + [empty_page.replace(b"2 0 R", b"202 0 R")]
    add("pdf_pages_deep.pdf", tree(b"[3 0 R]", *deep), "Page tree 200 levels deep", "review")
    add("pdf_nested_arrays_content.pdf",
        text_pdf(zlib.compress(b"[" * 10_000 + b"]" * 10_000 + b" pop"),
                 filters=b"/Filter /FlateDecode"),
        "Content stream with arrays nested 10,000 deep: pypdf drops it, no text", "review")
    add("pdf_nested_arrays_page.pdf",
        text_pdf(page_extra=b"/Junk " + b"[" * 100_000 + b"]" * 100_000),
        "Page dictionary with arrays nested 100,000 deep", "failed")
    add("pdf_nested_dicts_catalog.pdf",
        text_pdf("Nested", catalog_extra=b"/Junk " + b"<< /A " * 50_000 + b">> " * 50_000),
        "Catalog with dictionaries nested 50,000 deep: pypdf cannot open it", "refused")
    add("pdf_no_pages.pdf", pdf([b"<< /Type /Catalog /Pages 2 0 R >>",
                                 b"<< /Type /Pages /Kids [] /Count 0 >>"]),
        "A well-formed PDF with no pages", "refused")
    add("pdf_array_200k_content.pdf",
        text_pdf(zlib.compress(b"BT /F1 12 Tf [" + b"(a) " * 200_000 + b"] TJ ET"),
                 filters=b"/Filter /FlateDecode"),
        "TJ array with 200,000 elements", "review")
    add("pdf_array_200k_page.pdf", text_pdf(page_extra=b"/Annots [" + b"0 " * 200_000 + b"]"),
        "Page /Annots array with 200,000 elements", "review")
    keys = b" ".join(b"/k%x 0" % i for i in range(200_000))
    add("pdf_dict_200k_page.pdf", text_pdf(page_extra=b"/Junk << %s >>" % keys),
        "Dictionary with 200,000 keys", "review")
    add("pdf_xref_prev_self.pdf", text_pdf(trailer=b"/Prev XREF"),
        "Cross-reference /Prev pointing to itself", "done")
    _xref_loop(add)
    _xref_stream_cases(add)
    for name, length, what, expect in [
            ("huge", b"999999999999", "of about a terabyte (over pypdf's limit)", "review"),
            ("negative", b"-50", "that is negative", "done"),
            ("self", b"5 0 R", "that refers to the stream itself (pypdf: loop)", "review")]:
        objects = text_objects()
        objects[4] = re.sub(rb"/Length \d+", b"/Length " + length, objects[4])
        add(f"pdf_length_{name}.pdf", pdf(objects), f"Stream /Length {what}", expect)
    good = text_pdf("Half a document")
    add("pdf_truncated_half.pdf", good[:len(good) // 2],
        "Text PDF cut in half, no cross-reference table", "refused")
    add("pdf_truncated_after_content.pdf", good[:good.index(b"endstream") + 17],
        "Text PDF cut after its page content, no xref or trailer", "refused")
    add("pdf_header_only.pdf", b"%PDF-1.7\n", "Nothing but a PDF header", "refused")
    add("pdf_drawing_no_text.pdf", text_pdf(b"0 0 m 600 780 l S 10 10 500 500 re f"),
        "A page with lines and boxes but no text", "review")
    add("pdf_blank_page.pdf", text_pdf(b""), "A blank page", "review")
    add("pdf_many_operators.pdf",
        text_pdf(zlib.compress(b"BT /F1 1 Tf " + b"(a) Tj " * 1_000_000 + b"ET"),
                 filters=b"/Filter /FlateDecode"),
        "One million text operators on one page", "review")
    add("pdf_inline_image_unterminated.pdf",
        text_pdf(b"BT /F1 12 Tf (Before) Tj ET BI /W 100 /H 100 /BPC 8 /CS /G ID "
                 + bytes(range(256)) * 8_000),
        "Inline image with 2 MB of data and no EI", "failed")
    add("pdf_html_appended.pdf", good + b"<html><body><script>alert(1)</script></body></html>",
        "PDF+HTML polyglot: a web page after %%EOF", "refused")
    add("pdf_header_then_html.pdf",
        b"%PDF-1.4\n<html><body><script>alert(document.cookie)</script></body></html>\n",
        "HTML disguised as PDF: a PDF header followed by a web page", "refused")
    add("pdf_junk_prefix.pdf", b"GIF89a" + bytes(500) + good, "A PDF behind 500 bytes of GIF",
        "refused")
    add("pdf_named_docx.docx", text_pdf("Type by content"), "A real PDF named .docx", "done")
    add("pdf_encrypted.pdf", encrypted_pdf(), "PDF that needs a password", "refused")


def _xref_loop(add) -> None:
    # Two cross-reference sections whose /Prev entries point at each other.
    first = text_pdf("Looping xref", trailer=b"/Prev 0000000000")
    xref = int(first[first.rindex(b"startxref") + 10:].split()[0])
    second_at = len(first)
    first = first.replace(b"/Prev 0000000000", b"/Prev %010d" % second_at)
    update = (b"xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 6 /Root 1 0 R /Prev %d >>\n"
              b"startxref\n%d\n%%%%EOF\n" % (xref, second_at))
    add("pdf_xref_prev_loop.pdf", first + update, "Two xref sections pointing at each other",
        "done")


def _xref_stream_cases(add) -> None:
    body = text_pdf("Compressed xref")
    cut = body.index(b"xref\n")
    entries = b"\x00\x00\x00\x00\x00\xff\xff" + b"".join(
        b"\x01" + struct.pack(">I", body.index(b"\n%d 0 obj" % n) + 1) + b"\x00\x00"
        for n in range(1, 6))
    xref = stream(entries, b"/Type /XRef /Size 1000000000 /W [1 4 2] /Root 1 0 R")
    add("pdf_xref_stream_huge_size.pdf",
        body[:cut] + b"6 0 obj\n" + xref + b"\nendobj\nstartxref\n%d\n%%%%EOF\n" % cut,
        "Cross-reference stream declaring a billion entries; only those present are read",
        "done")
    # Catalog inside an object stream that claims a billion objects.
    objects = b"<< /Type /Catalog /Pages 2 0 R >>"
    objstm = stream(b"1 0 " + objects, b"/Type /ObjStm /N 1000000000 /First 4")
    parts = [b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n",
             b"3 0 obj\n" + objstm + b"\nendobj\n"]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for part in parts:
        offsets.append(len(out))
        out += part
    rows = (b"\x00\x00\x00\x00\x00\xff\xff" + b"\x02\x00\x00\x00\x03\x00\x00"
            + b"".join(b"\x01" + struct.pack(">I", o) + b"\x00\x00" for o in offsets))
    at = len(out)
    xref = stream(rows, b"/Type /XRef /Size 4 /W [1 4 2] /Root 1 0 R")
    out += b"4 0 obj\n" + xref + b"\nendobj\n"
    out += b"startxref\n%d\n%%%%EOF\n" % at
    add("pdf_objstm_huge_n.pdf", bytes(out), "Catalog in an object stream with /N of a billion",
        "refused")


def encrypted_pdf() -> bytes:
    import io

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(text_pdf("Secret"))))
    writer.encrypt("a password nobody gave us", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _zip_cases(add) -> None:
    gib = zeros_deflate(1024, wrapped=False)
    gib_crc = zeros_crc32(1024)
    add("docx_bomb_1gib.docx",
        minimal_docx(extra=[zip_entry("word/media/big.bin", raw=gib, size=1 << 30, crc=gib_crc)]),
        "DOCX with a part that inflates from 1 MB to 1 GiB", "refused")
    add("docx_lying_size.docx", _lying_docx(),
        "Directory says the main part is 40 bytes; its stream inflates to 100 MB", "refused")
    parts = [zip_entry(f"word/media/image{i}.png", b"x") for i in range(10_000)]
    add("zip_10k_entries.docx", minimal_docx(extra=parts), "DOCX with 10,000 parts", "refused")
    add("docx_1001_entries.docx", minimal_docx(extra=parts[:998]), "DOCX with 1,001 parts",
        "refused")
    inner = minimal_docx()
    add("docx_nested_zip.docx", minimal_docx(extra=[zip_entry("word/media/inner.zip", inner)]),
        "DOCX holding another ZIP archive", "refused")
    inner_bomb = zip_bytes([zip_entry("zeros", raw=gib, size=1 << 30, crc=gib_crc)])
    add("docx_nested_bomb.docx",
        minimal_docx(extra=[zip_entry("word/embeddings/sheet.xlsx", inner_bomb)]),
        "1 GiB bomb inside an 'embedded workbook'", "refused")
    for name, path, what in [
        ("docx_dotdot.docx", "../../../home/hub/.bashrc", "a '../' path"),
        ("docx_absolute.docx", "/etc/cron.d/hub", "an absolute path"),
        ("docx_backslash.docx", "..\\..\\Windows\\evil.dll", "a '..\\' path"),
        ("docx_drive_letter.docx", "C:/Windows/evil.dll", "a drive-letter path"),
    ]:
        add(name, minimal_docx(extra=[zip_entry(path, b"boom")]), f"DOCX with {what}", "refused")
    add("docx_symlink.docx",
        minimal_docx(extra=[zip_entry("word/media/link", b"/etc/passwd", mode=0o120777)]),
        "DOCX with a symbolic link to /etc/passwd", "refused")
    add("docx_encrypted_entry.docx",
        minimal_docx(extra=[zip_entry("word/secret.xml", b"<x/>", flags=0x1)]),
        "DOCX with an entry flagged as encrypted", "refused")
    add("docx_duplicate_names.docx",
        minimal_docx(extra=[zip_entry("word/document.xml", word_xml("Second copy"))]),
        "Two parts named word/document.xml", "refused")
    add("docx_bzip2_entry.docx",
        minimal_docx(extra=[zip_entry("word/x.xml", raw=b"BZh9", size=4, method=12)]),
        "Part compressed with bzip2, which Office never uses", "refused")
    docx = minimal_docx()
    add("docx_zip64_count.docx", docx[:-12] + b"\xff\xff" + docx[-10:],
        "End record claims 65,535 entries (ZIP64)", "refused")
    add("zip_corrupt_directory.docx", docx[:-6] + b"\xff\xff\xff\x7f" + docx[-2:],
        "Central directory offset points far past the end", "refused")
    add("zip_truncated.docx", docx[:len(docx) // 2], "DOCX cut in half", "refused")
    add("zip_plain.docx", zip_bytes([zip_entry("notes.txt", b"just a zip")]),
        "An ordinary ZIP named .docx", "refused")
    add("docx_overall_ratio.docx",
        minimal_docx(extra=[zip_entry(f"word/media/z{i}.bin", bytes(60_000)) for i in range(400)]),
        "400 parts of 60 KB zeros: each small, together 24 MB at ~600:1", "refused")
    add("docx_billion_laughs.docx", minimal_docx(LAUGHS + word_xml("&lol9;")),
        "Billion laughs entity bomb in document.xml", "refused")
    add("docx_xxe.docx", minimal_docx(XXE + word_xml("&x;")),
        "External entity reading /etc/passwd in document.xml", "refused")
    nested = b"<w:document %s><w:body>" % W + b"<w:p>" * 100_000 + b"</w:p>" * 100_000
    add("docx_deep_nesting.docx",
        zip_bytes([zip_entry("[Content_Types].xml", CONTENT_TYPES), zip_entry("_rels/.rels", RELS),
                   zip_entry("word/document.xml", nested + b"</w:body></w:document>", method=0)]),
        "document.xml nested 100,000 deep (stored, so the ratio check passes)", "failed")
    add("docx_malformed.docx", minimal_docx(b"<w:document %s><w:body><w:p>" % W),
        "document.xml that is not well-formed", "failed")
    add("docx_empty_body.docx", minimal_docx(word_xml()), "DOCX with no paragraphs", "review")
    add("docx_no_main_part.docx",
        zip_bytes([zip_entry("[Content_Types].xml", CONTENT_TYPES),
                   zip_entry("_rels/.rels", RELS)]),
        "Content types but no word/document.xml", "refused")
    add("docx_main_part_is_zip.docx", minimal_docx(inner),
        "word/document.xml is itself a ZIP archive", "refused")
    add("docx_named_pdf.pdf", minimal_docx(word_xml("Word named as PDF")),
        "A real DOCX named .pdf", "done")


def _lying_docx() -> bytes:
    # Both headers say the main part is 40 bytes (with the right checksum for 40 zeros); the
    # stream holds 100 MB. zipfile stops at the declared size, so only 40 bytes ever exist.
    return zip_bytes([zip_entry("[Content_Types].xml", CONTENT_TYPES),
                      zip_entry("_rels/.rels", RELS),
                      zip_entry("word/document.xml", raw=zeros_deflate(100, wrapped=False),
                                size=40, crc=zlib.crc32(bytes(40)))])


def _odt_cases(add) -> None:
    gib = zeros_deflate(1024, wrapped=False)
    add("odt_bomb.odt",
        zip_bytes([zip_entry("mimetype", b"application/vnd.oasis.opendocument.text", method=0),
                   zip_entry("content.xml", raw=gib, size=1 << 30, crc=zeros_crc32(1024))]),
        "ODT whose content.xml inflates from 1 MB to 1 GiB", "refused")
    add("odt_billion_laughs.odt",
        minimal_odt(LAUGHS + odf_xml(b"<text:p>&lol9;</text:p>").split(b"?>", 1)[1]),
        "Billion laughs entity bomb in content.xml", "refused")
    add("odt_xxe.odt", minimal_odt(XXE + odf_xml(b"<text:p>&x;</text:p>").split(b"?>", 1)[1]),
        "External entity in content.xml", "refused")
    spans = odf_xml(b"<text:p>" + b"<text:span>" * 100_000 + b"deep" + b"</text:span>" * 100_000
                    + b"</text:p>")
    add("odt_deep_nesting.odt",
        zip_bytes([zip_entry("mimetype", b"application/vnd.oasis.opendocument.text", method=0),
                   zip_entry("content.xml", spans, method=0)]),
        "Spans nested 100,000 deep (stored, so the ratio check passes)", "review")
    add("odt_mimetype_not_first.odt",
        zip_bytes([zip_entry("content.xml", odf_xml()),
                   zip_entry("mimetype", b"application/vnd.oasis.opendocument.text", method=0)]),
        "mimetype is not the first entry", "refused")
    add("odt_spreadsheet.odt",
        minimal_odt(mimetype=b"application/vnd.oasis.opendocument.spreadsheet"),
        "A spreadsheet named .odt", "refused")
    add("odt_no_content.odt",
        zip_bytes([zip_entry("mimetype", b"application/vnd.oasis.opendocument.text", method=0)]),
        "ODT with no content.xml", "refused")
    add("odt_empty.odt", minimal_odt(odf_xml(b"")), "ODT with no text", "review")
    add("odt_malformed.odt", minimal_odt(b"<office:document-content><unclosed>"),
        "content.xml that is not well-formed", "failed")


def _text_cases(add) -> None:
    add("eicar.txt",
        rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*",
        "EICAR test string: valid ASCII, so plain text. The hub never runs or renders files "
        "(served as text/plain, nosniff, attachment), so it is read like any text", "done")
    add("nul_filled.txt", bytes(1 * MB), "1 MB of NUL bytes", "refused")
    add("invalid_utf8.txt", "Café crème, naïve".encode("latin-1") * 100, "Latin-1, not UTF-8",
        "refused")
    add("utf16.txt", "Hello in UTF-16".encode("utf-16"), "UTF-16 text with a BOM", "refused")
    add("whitespace_only.txt", b" \n\t\r\n" * 1000, "Only whitespace", "review")
    add("one_char_40mb.txt", b"a" * (40 * MB),
        "40 MB of one repeated character: valid text, cut at 5 million characters", "done")
    add("long_line_5mb.txt", b"word " * MB, "One 5 MB line", "done")
    add("text_named_pdf.pdf", b"Just some text pretending to be a PDF.\n",
        "Plain text named .pdf", "refused")
    add("rtf_named_txt.txt", rb"{\rtf1\ansi Hello}", "Rich Text named .txt", "refused")
    add("gzip_named_txt.txt", b"\x1f\x8b\x08\x00" + bytes(100), "gzip data named .txt",
        "refused")
    add("markdown_with_script.md", b"# Notes\n\n<script>alert(1)</script>\n\nPlain words.\n",
        "Markdown with a script tag: stored and indexed as text; never rendered as HTML", "done")
    add("billion_laughs.txt", LAUGHS + b"<lolz>&lol9;</lolz>",
        "Entity bomb as a .txt: plain text, and nothing here expands entities", "done")


def _html_cases(add) -> None:
    page = b"<!DOCTYPE html><html><body>%s</body></html>"
    add("html_named_pdf.pdf", page % b"<p>Not a PDF</p>", "HTML page named .pdf", "refused")
    add("svg_named_pdf.pdf",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "SVG with a script, named .pdf", "refused")
    add("svg_with_pdf_header.pdf", b"<svg xmlns='http://www.w3.org/2000/svg'>\n%PDF-1.4\n</svg>",
        "SVG with a PDF header inside its first bytes", "refused")
    add("html_named_docx.docx", page % b"<p>Not Word</p>", "HTML page named .docx", "refused")
    add("html_deep_nesting.html", page % (b"<div>" * 100_000 + b"deep words" + b"</div>" * 100_000),
        "100,000 nested divs around two words", "done")
    add("html_entities.html", page % (b"&amp;" * MB),
        "A million character references", "done")
    add("html_only_script.html", page % b"<script>" + b"var x = 1;" * 1000 + b"</script>",
        "A page that is all script", "review")
    add("html_unclosed_comment.html", page % (b"Visible <!-- " + b"hidden " * 100_000),
        "Comment that never closes", "done")
    png = (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + bytes(13) + b"\0\0\0\0"
           + b"<html><script>alert(1)</script></html>")
    add("png_html_polyglot.html", png, "PNG header with an HTML page inside", "refused")
    add("png_pdf_polyglot.pdf", png + text_pdf(), "PNG with a PDF after it", "refused")


def _caption_cases(add) -> None:
    add("vtt_million_cues.vtt", b"WEBVTT\n\n" + b"00:00.000 --> 00:00.001\nx\n\n" * 1_000_000,
        "WebVTT with a million cues", "done")
    add("vtt_header_only.vtt", b"WEBVTT\n\nNOTE nothing to see\n", "WebVTT with no cues",
        "review")
    add("vtt_tags_only.vtt", b"WEBVTT\n\n1\n00:00.000 --> 00:01.000\n<b></b><i></i>\n",
        "Cues made only of tags", "review")


def _binary_cases(add) -> None:
    add("empty.pdf", b"", "Zero bytes named .pdf", "refused")
    add("empty.txt", b"", "Zero bytes named .txt", "refused")
    add("exe_named_pdf.pdf", b"MZ\x90\x00" + bytes(60) + b"This program cannot be run in DOS mode"
        + bytes(400), "Windows program named .pdf", "refused")
    add("elf_named_docx.docx", b"\x7fELF\x02\x01\x01" + bytes(500), "Linux program named .docx",
        "refused")
    add("ole_doc_named_docx.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500),
        "Old binary Word file named .docx", "refused")
    add("heic_named_mp4.mp4", struct.pack(">I", 24) + b"ftypheic" + bytes(12) + bytes(200),
        "HEIC image named .mp4", "refused")
    add("matroska_named_webm.webm", b"\x1a\x45\xdf\xa3\x93\x42\x82\x88matroska" + bytes(100),
        "Matroska (not WebM) named .webm", "refused")
    comment = b"eng\x00<html><script>alert(1)</script></html>"
    frame = b"COMM" + struct.pack(">I", len(comment)) + b"\x00\x00" + comment
    add("mp3_id3_html.mp3", b"ID3\x03\x00\x00" + bytes([0, 0, 0, len(frame)]) + frame
        + b"\xff\xfb\x90\x64" + bytes(400),
        "MP3 whose ID3 comment is a web page: kept as audio/mpeg with nosniff, never rendered",
        "stored")
    add("random_bytes.bin", bytes((i * 7919 + 13) % 251 for i in range(4096)),
        "Unknown binary", "refused")


def build(directory) -> list[dict]:
    """Write the corpus into ``directory``; return each file's name, description and expect."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    cases = []

    def add(name: str, data: bytes, description: str, expect: str) -> None:
        (directory / name).write_bytes(data)
        cases.append({"name": name, "description": description, "expect": expect})

    for group in (_pdf_cases, _zip_cases, _odt_cases, _text_cases, _html_cases, _caption_cases,
                  _binary_cases):
        group(add)
    return cases


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    started = time.perf_counter()
    cases = build(argv[1])
    size = sum((Path(argv[1]) / case["name"]).stat().st_size for case in cases)
    for case in cases:
        print(f"{case['expect']:8} {case['name']:36} {case['description']}")
    counts = {}
    for case in cases:
        counts[case["expect"]] = counts.get(case["expect"], 0) + 1
    seconds = time.perf_counter() - started
    print(f"{len(cases)} files, {size / MB:.1f} MB, built in {seconds:.1f} s:",
          ", ".join(f"{n} {expect}" for expect, n in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
