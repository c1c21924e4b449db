"""Property test: extract_text turns any bytes of any kind into an Extraction, never an error.

HUB_FUZZ_EXAMPLES sets the number of examples (10,000 by default); the run is derandomized,
so CI sees the same inputs every time.
"""

import importlib.util
import logging
import os
import time
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.library.files import Extraction, Kind, extract_text

_spec = importlib.util.spec_from_file_location(
    "hostile_files", Path(__file__).resolve().parents[3] / "tools" / "hostile_files.py")
hostile = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hostile)

EXAMPLES = int(os.environ.get("HUB_FUZZ_EXAMPLES", "10000"))
SECONDS_PER_10K = 60

HTML = (b"<!DOCTYPE html><html><head><title>T</title><style>p{}</style></head><body><div><p>"
        b"Words &amp; more<br>line</p><script>var x = '<p>';</script><table><tr><td>a</td></tr>"
        b"</table><!-- note --></div></body></html>")
WORD_XML = hostile.word_xml("First paragraph", "Second &amp; last")
ODF_XML = hostile.odf_xml(b"<text:h>Title</text:h><text:p>One<text:s/>two<text:tab/>"
                          b"<text:span>three</text:span> four</text:p>")
SEEDS = {
    Kind.PDF: [
        hostile.text_pdf("Seed text for fuzzing"),
        hostile.text_pdf(zlib.compress(b"BT /F1 12 Tf 72 700 Td (Compressed) Tj ET [(A) 5 (B)] TJ"),
                         filters=b"/Filter /FlateDecode"),
        hostile.text_pdf(b"/X0 Do", resources=b"/XObject << /X0 6 0 R >>",
                         extra=[hostile.stream(b"BT /F1 9 Tf (Form) Tj ET",
                                               b"/Type /XObject /Subtype /Form /BBox [0 0 9 9] "
                                               b"/Resources << /Font << /F1 4 0 R >> >>")]),
    ],
    Kind.DOCX: [hostile.minimal_docx(WORD_XML)],
    Kind.ODT: [hostile.minimal_odt(ODF_XML)],
    Kind.HTML: [HTML],
    Kind.TEXT: ["Plain text, café.\r\n\tIndented\n\n\nEnd".encode()],
    Kind.MARKDOWN: [b"# Title\n\n* item\n* [link](http://example.org)\n\n```code```\n"],
    Kind.CAPTIONS: [
        b"WEBVTT\n\nNOTE n\n\n1\n00:00:01.000 --> 00:00:02.000 line:0\n<v A>Hi &amp; <b>bye</b>\n",
        b"1\r\n00:00:01,000 --> 00:00:02,000\r\nFirst\r\n\r\n2\r\n00:00:03,000 --> 00:00:04,000\r\n"
        b"Second\r\n",
    ],
}
TOKENS = [b"<<", b">>", b"[", b"]", b"(", b")", b"0 0 R", b"obj", b"endobj", b"stream\n",
          b"%%EOF", b"xref", b"/Length 99999999", b"\x00", b"\xff\xfe", b"<!DOCTYPE x [",
          b"<!ENTITY a 'b'>", b"&a;", b"<w:p>", b"</w:p>", b"<text:p>", b"<script>", b"-->",
          b"<", b"&#x10FFFF;", b"\xed\xa0\x80", b"PK\x03\x04", b"WEBVTT", b"\n\n"]
ALL_KINDS = [*Kind.values, "", "unknown"]


@st.composite
def mutated(draw, data: bytes) -> bytes:
    """Flip, cut, insert, delete, repeat and splice bytes, a few times over."""
    data = bytearray(data)
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        operation = draw(st.sampled_from(["flip", "truncate", "insert", "token", "delete",
                                          "repeat", "splice"]))
        if operation == "flip" and at < len(data):
            data[at] ^= draw(st.integers(1, 255))
        elif operation == "truncate":
            del data[at:]
        elif operation == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=32))
        elif operation == "token":
            data[at:at] = draw(st.sampled_from(TOKENS)) * draw(st.integers(1, 40))
        elif operation == "delete":
            del data[at:at + draw(st.integers(1, 64))]
        elif operation == "repeat":
            data[at:at] = data[at:at + draw(st.integers(1, 64))] * draw(st.integers(1, 20))
        else:
            donor = draw(st.sampled_from([seed for seeds in SEEDS.values() for seed in seeds]))
            start = draw(st.integers(0, len(donor)))
            data[at:at] = donor[start:start + draw(st.integers(1, 256))]
    return bytes(data)


@st.composite
def inputs(draw) -> tuple[str, bytes]:
    kind = draw(st.sampled_from(list(SEEDS)))
    style = draw(st.sampled_from(["bytes", "bytes", "bytes", "inner", "random"]))
    if style == "random":
        data = draw(st.binary(max_size=2048))
    elif style == "inner" and kind in (Kind.DOCX, Kind.ODT):
        # Mutate the XML, then zip it soundly, so the damage reaches the XML parsers.
        if kind == Kind.DOCX:
            data = hostile.minimal_docx(draw(mutated(WORD_XML)))
        else:
            data = hostile.minimal_odt(draw(mutated(ODF_XML)))
    else:
        data = draw(mutated(draw(st.sampled_from(SEEDS[kind]))))
    if draw(st.integers(0, 9)) == 0:   # now and then, a file read as the wrong kind
        kind = draw(st.sampled_from(ALL_KINDS))
    return kind, data


@pytest.fixture(autouse=True)
def _quiet_and_tidy(monkeypatch, tmp_path):
    # pypdf logs every repair; ten thousand damaged files would fill the captured log.
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.ERROR)
    # Hypothesis caches what it learns in .hypothesis/; keep that out of the working tree.
    monkeypatch.setenv("HYPOTHESIS_STORAGE_DIRECTORY", str(tmp_path / "hypothesis"))
    yield
    logger.setLevel(level)


def test_extract_text_never_raises_on_mutated_or_random_input():
    """Every input ends as done (with text) or review/failed (with a reason), and the whole
    run stays within 60 s per 10,000 examples."""
    seen = {"done": 0, "review": 0, "failed": 0}

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.large_base_example])
    @given(inputs())
    def property(case):
        kind, data = case
        result = extract_text(data, kind)
        assert isinstance(result, Extraction)
        assert result.status in seen
        if result.status == "done":
            assert result.text.strip() and not result.message
        else:
            assert not result.text and result.message.strip()
        seen[result.status] += 1

    started = time.perf_counter()
    property()
    elapsed = time.perf_counter() - started
    print(f"\n{sum(seen.values())} examples in {elapsed:.1f} s: {seen}")
    assert sum(seen.values()) >= EXAMPLES
    assert elapsed <= SECONDS_PER_10K * max(EXAMPLES, 1_000) / 10_000
