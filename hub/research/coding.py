"""Coding a source: applying codes to spans of its text, removing them, memos, and laying the
text out with its highlights.

Offsets are Python string indices into ``Source.text`` (code points), the same as the browser
script counts once it has the text's pieces (see ``static/research/coding.js``, which counts
astral characters as one as well).

Laying out a long transcript is one pass: the boundaries of every turn and every visible coding
are sorted once, and the text is cut at them into pieces, each carrying the codes that cover
it. A 50,000-word transcript with hundreds of codings becomes a few thousand pieces.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction

from hub import policy
from hub.research.codebook import codes_of
from hub.research.models import Code, Coding, Memo, Source, SpeakerTurn, Study


class CodingError(ValidationError):
    """A coding or memo that cannot be saved, with a message for the person."""


def coding_create(*, source: Source, code_ids: list[int], start: int, end: int,
                  coder) -> list[Coding]:
    """Apply each code to the span [start, end) of the source, by this coder. Applying a code
    the coder has already put on exactly this span again changes nothing."""
    study = source.study
    if not policy.can_code_study(coder, study):
        raise CodingError("You cannot code in this study.")
    if not code_ids:
        raise CodingError("Choose at least one code to apply.")
    length = len(source.text)
    if start is None or end is None:
        raise CodingError("Give where the passage starts and ends.")
    if start < 0 or end < 0:
        raise CodingError("Positions cannot be negative.")
    if end > length:
        raise CodingError(f"The passage ends at {end}, beyond the end of the text ({length}).")
    if end <= start:
        raise CodingError("The end must come after the start: select at least one character.")
    if not source.text[start:end].strip():
        raise CodingError("The passage is only blank space; select some words.")
    try:
        codes = codes_of(study, code_ids)
    except ValidationError as error:  # a code of another study, or one since deleted
        raise CodingError(error.messages) from error
    made = []
    with transaction.atomic():
        for code in codes:
            coding, _ = Coding.objects.get_or_create(source=source, code=code, start=start,
                                                     end=end, coder=coder)
            made.append(coding)
    return made


def coding_delete(*, coding: Coding, user) -> None:
    if not policy.can_remove_coding(user, coding):
        raise CodingError("You can remove only your own codings.")
    coding.delete()


def _clean_memo(title: str, text: str) -> tuple[str, str]:
    title, text = (title or "").strip(), (text or "").strip()
    if "\x00" in title or "\x00" in text:
        raise CodingError("The memo contains a NUL character; remove it and try again.")
    if not text:
        raise CodingError("Write something in the memo.")
    if len(title) > 200 or len(text) > 20000:
        raise CodingError("The memo is too long (title 200, text 20,000 characters).")
    return title, text


def memo_create(*, study: Study, author, text: str, title: str = "", code: Code | None = None,
                coding: Coding | None = None, source: Source | None = None) -> Memo:
    if not policy.can_code_study(author, study):
        raise CodingError("You cannot write memos in this study.")
    if sum(x is not None for x in (code, coding, source)) > 1:
        raise CodingError("A memo is about one thing: a code, a coding or a source.")
    if code is not None and code.study_id != study.pk:
        raise CodingError("That code is not in this study.")
    if source is not None and source.study_id != study.pk:
        raise CodingError("That source is not in this study.")
    if coding is not None and (coding.source.study_id != study.pk
                               or not policy.can_view_coding(author, coding)):
        raise CodingError("That coding is not in this study.")
    title, text = _clean_memo(title, text)
    return Memo.objects.create(study=study, author=author, title=title, text=text, code=code,
                               coding=coding, source=source)


def memo_update(*, memo: Memo, user, title: str, text: str) -> Memo:
    if not policy.can_edit_memo(user, memo):
        raise CodingError("Only the memo's author or the study's lead can change it.")
    memo.title, memo.text = _clean_memo(title, text)
    memo.save(update_fields=["title", "text", "modified"])
    return memo


def memo_delete(*, memo: Memo, user) -> None:
    if not policy.can_edit_memo(user, memo):
        raise CodingError("Only the memo's author or the study's lead can delete it.")
    memo.delete()


# --- Laying out the text --------------------------------------------------------------------

@dataclass
class Piece:
    start: int
    text: str
    codes: tuple[int, ...] = ()


@dataclass
class Block:
    """A speaker turn (or the text between turns), cut into pieces."""

    start: int
    end: int
    turn: SpeakerTurn | None
    pieces: list[Piece] = field(default_factory=list)


def layout(text: str, turns: list[SpeakerTurn], spans: list[tuple[int, int, int]]) -> list[Block]:
    """Cut the text into blocks (one per turn, plus any text between turns) and each block into
    pieces at the edges of the coded spans ``(start, end, code_id)``; one sweep over the sorted
    boundaries."""
    length = len(text)
    blocks: list[Block] = []
    cursor = 0
    for turn in sorted(turns, key=lambda t: t.start):
        start, end = max(turn.start, cursor), min(turn.end, length)
        if start >= end:
            continue
        if start > cursor:
            blocks.append(Block(cursor, start, None))
        blocks.append(Block(start, end, turn))
        cursor = end
    if cursor < length or not blocks:
        blocks.append(Block(cursor, length, None))

    events: dict[int, list[tuple[int, int]]] = {}
    for start, end, code_id in spans:
        start, end = max(0, start), min(end, length)
        if start < end:
            events.setdefault(start, []).append((1, code_id))
            events.setdefault(end, []).append((-1, code_id))
    edges = sorted(set(events) | {b.start for b in blocks} | {b.end for b in blocks})
    active: dict[int, int] = {}
    block_starts = [b.start for b in blocks]
    for i, edge in enumerate(edges[:-1]):
        for delta, code_id in events.get(edge, ()):
            active[code_id] = active.get(code_id, 0) + delta
            if active[code_id] <= 0:
                del active[code_id]
        nxt = edges[i + 1]
        if nxt <= edge:
            continue
        block = blocks[bisect.bisect_right(block_starts, edge) - 1]
        block.pieces.append(Piece(edge, text[edge:nxt], tuple(sorted(active))))
    return blocks

