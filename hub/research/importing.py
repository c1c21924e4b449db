"""Turning an upload or a paste into text, proposing its pseudonyms, and finding speaker turns.

Nothing here writes anywhere. The original text lives only in the request that carries it:
files are read from memory (``MemoryOnlyUpload``), DOCX and PDF are read in the library's
sandboxed child process (``hub.library.files.extract_isolated``: memory and time limits, ZIP
checks), and the text travels back to the researcher inside the review form. Only the result
of ``pseudonymise.apply`` is ever stored (``services.source_confirm``).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler

from hub.library import files
from hub.research import pseudonymise
from hub.research.pseudonymise import Proposal, Registry

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_CHARS = 600_000  # about 100,000 words: the review form carries the text back, and a
# request body may hold 5 MB (DATA_UPLOAD_MAX_MEMORY_SIZE)
CHUNK_CHARS = 20_000
ACCEPTED = "We import plain text (UTF-8), Word documents (.docx) and PDF."

# A speaker label at the start of a line: "Interviewer:", "P3:", and once pseudonymised
# "[Participant 2]:" or "[P07]:". The engine's own pattern (pseudonymise.SPEAKER) misses the
# bracketed labels it produces.
TURN = re.compile(r"^[ \t]*(\[[^\]\n]{1,40}\]|[^\W\d_][\w'’. -]{0,40}?):[ \t]*", re.MULTILINE)


def _refuse(message: str):
    raise ValidationError(message)


# --- Reading -----------------------------------------------------------------------------------

class MemoryOnlyUpload(FileUploadHandler):
    """Keep an uploaded file in memory, never in a temporary file, and stop at the size limit.

    Django writes uploads over 2.5 MB to a temporary file on disk; a transcript with real names
    must not touch the disk, so the view installs this handler alone.
    """

    def __init__(self, request=None, limit: int = MAX_FILE_BYTES):
        super().__init__(request)
        self.limit = limit
        self.too_big = False

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.chunks: list[bytes] = []
        self.size = 0

    def receive_data_chunk(self, raw_data, start):
        # Past the limit the rest is read and dropped, so the fields after it still arrive.
        self.size += len(raw_data)
        if self.size > self.limit:
            self.too_big = True
            self.chunks = []
            if self.request is not None:
                self.request.research_upload_too_big = True
        else:
            self.chunks.append(raw_data)
        return None

    def file_complete(self, file_size):
        if self.too_big:
            return None
        data = io.BytesIO(b"".join(self.chunks))
        self.chunks = []
        return InMemoryUploadedFile(data, self.field_name, self.file_name, self.content_type,
                                    file_size, self.charset, self.content_type_extra)


def read_upload(data: bytes, filename: str) -> tuple[str, str]:
    """The text of an uploaded transcript and its origin ("text", "docx" or "pdf").

    Raises ValidationError with a sentence the researcher can act on.
    """
    if len(data) > MAX_FILE_BYTES:
        _refuse(f"This file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB. Split the "
                f"transcript, or paste it.")
    try:
        sniffed = files.sniff(data, filename or "")
    except files.Refused as refusal:
        _refuse(_in_our_words(refusal.message))
    kind = sniffed.kind
    if kind in (files.Kind.TEXT, files.Kind.MARKDOWN):
        try:
            return clean_text(data.decode("utf-8-sig")), "text"
        except UnicodeDecodeError:
            _refuse("This text file is not UTF-8. Save it as UTF-8 (in most editors: Save as, "
                    "Encoding: UTF-8) and try again.")
    if kind not in (files.Kind.DOCX, files.Kind.PDF):
        _refuse(f"This is {sniffed.kind.label.lower()}, not a transcript we can read. {ACCEPTED}")
    result = files.extract_isolated(data, kind)
    if result.status != "done":
        message = result.message
        if result.status == "review":  # the library's wording promises a person will look
            message = ("We could not find any text in this file: it may be scanned images or "
                       "damaged. Paste the text instead.")
        _refuse(message)
    return clean_text(result.text), str(kind)


def _in_our_words(message: str) -> str:
    # The library's refusals speak of "the library" and its wider list of types.
    message = message.replace(files.ACCEPTED, ACCEPTED).replace("the library", "the hub")
    return message


def clean_text(text: str) -> str:
    """One kind of line ending, no stray control characters; refuse NUL and empty text."""
    if "\x00" in text:
        _refuse("This text contains NUL characters (\\0), which a transcript never has: it may "
                "be a binary file. Save it as plain text and try again.")
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    text = re.sub(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]", "", text)
    text = "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")
    if not text.strip():
        _refuse("There is no text to import: the transcript is empty.")
    if len(text) > MAX_CHARS:
        _refuse(f"This transcript has {len(text):,} characters; the limit is {MAX_CHARS:,}. "
                f"Split it into parts and import each.")
    return text


# --- Proposing ---------------------------------------------------------------------------------

def chunks(text: str, size: int = CHUNK_CHARS):
    """(offset, piece) pairs cut at line ends, so long transcripts are proposed piece by piece.

    Parts of the engine grow with the square of the number of speaker turns; pieces of a few
    thousand words keep a 50,000-word transcript to seconds, with the same proposals.
    """
    start = 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            cut = text.rfind("\n", start + size // 2, end)
            end = cut + 1 if cut > 0 else end
        yield start, text[start:end]
        start = end


def propose(text: str, registry: Registry, participant_labels: dict[str, str]) -> list[Proposal]:
    """The engine's proposals for the whole text, registry labels of participants shown as
    their codes ("[P07]")."""
    found = []
    for offset, piece in chunks(text):
        for p in pseudonymise.propose(piece, registry):
            label = participant_labels.get(p.label, p.label)
            found.append(Proposal(p.start + offset, p.end + offset, p.original, p.kind, label,
                                  p.source))
    return found


WORDISH = re.compile(r"\w")


def marked(text: str, values: list[tuple[str, str]], registry: Registry,
           taken: list[Proposal]) -> list[Proposal]:
    """Proposals for spans the researcher marked by hand: every whole-word occurrence of each
    value (any case), where no other proposal already is. Names of people, places and
    organisations are registered, so later transcripts get the same label."""
    found: list[Proposal] = []
    spans = sorted((p.start, p.end) for p in taken)
    for value, kind in values:
        value = value.strip()
        if not value:
            continue
        pattern = re.compile(
            (r"(?<!\w)" if WORDISH.match(value[0]) else "") + re.escape(value)
            + (r"(?!\w)" if WORDISH.match(value[-1]) else ""), re.IGNORECASE)
        if kind in pseudonymise.NAMED:
            # registered (in this registry, saved only on confirm) so later transcripts find it
            try:
                label = registry.lookup(value)[1] if registry.lookup(value) else \
                    registry.register(value, kind)
            except ValueError:
                continue
        else:
            label = registry.label_for(kind, value)
        for m in pattern.finditer(text):
            if any(m.start() < e and s < m.end() for s, e in spans):
                continue
            spans.append((m.start(), m.end()))
            found.append(Proposal(m.start(), m.end(), m.group(), kind, label, "marked"))
    return found


def proposal_key(p: Proposal) -> str:
    return f"{'m' if p.source == 'marked' else ''}{p.start}-{p.end}"


# --- Speaker turns -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Turn:
    start: int
    end: int
    speaker: str


def speaker_turns(text: str) -> list[Turn]:
    """Each stretch from a speaker label at a line start to the next one (text before the first
    label belongs to no one)."""
    marks = [(m.start(), m.group(1).strip()) for m in TURN.finditer(text)]
    turns = []
    for n, (start, speaker) in enumerate(marks):
        end = marks[n + 1][0] if n + 1 < len(marks) else len(text)
        while end > start and text[end - 1].isspace():
            end -= 1
        turns.append(Turn(start, end, speaker[:60]))
    return turns


def speaker_labels(text: str) -> list[str]:
    """Distinct speaker labels in order of first appearance."""
    seen: dict[str, None] = {}
    for m in TURN.finditer(text):
        seen.setdefault(m.group(1).strip()[:60], None)
    return list(seen)


def code_of_label(label: str) -> str:
    """ "[P07]" and "P07" both name the code P07."""
    return label.strip().removeprefix("[").removesuffix("]").strip()


def word_count(text: str) -> int:
    return len(text.split())
