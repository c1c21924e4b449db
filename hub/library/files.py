"""What the library accepts, decided from a file's bytes, and reading it in a sandbox.

Types come from content and structure, never from the name. Untrusted bytes reach a parser
only inside a child process with a memory ceiling and a time limit (``extract_isolated``).
The parsers themselves live in ``extract_child``, which the child runs without Django; their
public names are re-exported here.
"""

import io
import json
import math
import os
import re
import resource
import select
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

from django.db import models

from hub.library.extract_child import (
    NOT_UTF8,
    PDF_OPEN_CHECK,
    TEXT_MAX_CHARS,
    Extraction,
    Refused,
    check_zip,
    extract_text,
)

__all__ = ["Kind", "EXTRACTABLE", "ACCEPTED_EXTENSIONS", "Refused", "Sniffed", "sniff",
           "check_zip", "Extraction", "extract_text", "extract_isolated", "TEXT_MAX_CHARS"]


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
_MEDIA_EXTENSIONS = [".mp3", ".m4a", ".wav", ".ogg", ".oga", ".flac", ".mp4", ".m4v", ".webm",
                     ".ogv", ".mov"]
ACCEPTED_EXTENSIONS = [".pdf", ".docx", ".odt", ".txt", ".md", ".html", ".htm", ".vtt", ".srt",
                       *_MEDIA_EXTENSIONS]
ACCEPTED = ("We accept PDF, Word (.docx), OpenDocument text (.odt), plain text, Markdown, HTML, "
            "WebVTT or SRT captions, and MP3, M4A, WAV, Ogg, FLAC, MP4, WebM or MOV media.")

CHILD_MAX_OUTPUT = 64 * 1024 * 1024
PDF_OPEN_SECONDS = 5


@dataclass(frozen=True)
class Sniffed:
    kind: Kind
    mime: str   # the Content-Type the hub serves the file with


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
    # pypdf reads objects a byte at a time: one 50 MB string in the catalog takes half a
    # minute. So even opening the file happens in the child, never in the web process.
    verdict = _isolated(data, PDF_OPEN_CHECK, PDF_OPEN_SECONDS, _limits(None, None)[1])
    if verdict.status != "done":
        raise Refused(verdict.message)
    return Sniffed(Kind.PDF, "application/pdf")


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
        if data[body:body + 7] == b"\x80theora" or data[body:body + 5] == b"OVP80":
            return True
        offset = body + size
    return False


_HTML_START = re.compile(r"<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]", re.IGNORECASE)
_SVG_START = re.compile(r"<svg[\s>]", re.IGNORECASE)
_SRT_START = re.compile(r"\A\s*\d+[ \t]*\r?\n\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}[ \t]*-->")
_CLAIMS = {".pdf": "a PDF", ".docx": "a Word document", ".odt": "an OpenDocument text"}
_CLAIMS.update((extension, "audio or video") for extension in _MEDIA_EXTENSIONS)


def _sniff_text(data: bytes, filename: str) -> Sniffed:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise Refused("This text file is saved as UTF-16. Please save it as UTF-8 and try again.")
    if b"\x00" in data:
        raise Refused(f"This file is not text and not a type we recognise. {ACCEPTED}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Refused(NOT_UTF8) from None
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


# --- Reading in a child process -------------------------------------------------------------

_PROJECT_ROOT = Path(__file__).resolve().parents[2]


def extract_isolated(data: bytes, kind: str, *, seconds: int | None = None,
                     memory_mb: int | None = None) -> Extraction:
    """Run extract_text in a child process under memory and CPU limits. Never raises.

    The peak memory is what the child reports of itself (VmHWM). For a child that had to be
    killed it is the kernel's figure, which also counts the parent's memory at fork time.
    """
    return _isolated(data, kind, *_limits(seconds, memory_mb))


def _isolated(data: bytes, task: str, seconds: int, memory_mb: int) -> Extraction:
    started = time.perf_counter()
    try:
        code, timed_out, rss_kb, output, errors = _run_child(data, task, seconds, memory_mb)
        result = _child_result(code, timed_out, output, errors, seconds, memory_mb)
        peak_mb = result.peak_rss_mb or rss_kb / 1024
    except Exception:
        result = Extraction("failed", "", "We could not start the text reader. Please try again "
                                          "later.")
        peak_mb = 0.0
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
    """Wait up to ``seconds``, killing the child after that; return how it ended and its rusage.

    os.wait4 gives this child's figures alone, where RUSAGE_CHILDREN mixes every child so far.
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
        return Extraction("failed", "", f"Reading this file took longer than {seconds} "
                                        f"second{'s' if seconds != 1 else ''}, so we stopped. It "
                                        f"may be very large or built to waste time.")
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
        peak_mb = float(reply.get("peak_rss_kb", 0)) / 1024
    except Exception:
        return Extraction("failed", "", "The text reader gave an answer we could not use.")
    return Extraction(status, text if status == "done" else "", message, peak_rss_mb=peak_mb)
