"""The codebook: a study's tree of codes, and every change to its shape.

Who does what (decided in ``hub.policy``): the lead shapes the codebook (rename, move,
reorder, merge, split, delete, load the starting codebook); coders and the lead add codes,
because a new idea turns up while coding and should not wait for the lead. Every change keeps
the codings: merging moves them, splitting shares them out, and only deleting removes them,
after a warning that says how many.

Coding may continue while the codebook changes: each change runs in one transaction and
touches only codes and codings of its study, so a coder's next request sees the new shape.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max

from hub.core.services import audit_record
from hub.research.models import Code, Coding, Memo, Study

COLOUR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")

# The engagement model's aspects (as in hub/assessment/instruments/v1.yaml), with sub-codes
# written for coding interview text rather than for scoring an initiative.
STARTER = [
    ("Governance and consent", "#6a3d9a",
     "Who decides what is done, and whether communities agreed to it and took part.", [
         ("Community consent", "People say they agreed to, or were asked about, the work."),
         ("Shared decision-making", "Communities have a real say in aims, methods or review."),
         ("Tokenism", "Consultation described as for show, after decisions were made."),
     ]),
    ("Accountability", "#1f6feb",
     "To whom the police and partners answer for what they do.", [
         ("Answering to communities", "Explaining or justifying actions to local people."),
         ("Upward accountability only", "Answering to headquarters or government alone."),
         ("Complaints and redress", "Ways to challenge decisions, and whether they work."),
     ]),
    ("Relationships", "#1a7f37",
     "The day-to-day contact between police and communities.", [
         ("Long-term contact", "Relationships that last beyond one project or officer."),
         ("Two-way exchange", "Both sides listen and learn from each other."),
         ("Turnover and loss", "Contacts lost when staff move or funding ends."),
     ]),
    ("Intelligence and information", "#b35900",
     "How information is gathered and shared, and whether people know how it is used.", [
         ("Openness about use", "People are told what happens to what they share."),
         ("Feeling watched", "Engagement felt as a way of gathering intelligence."),
         ("Feedback to communities", "Information flowing back from the police."),
     ]),
    ("Partnership", "#0b7285",
     "Working together: equality, openness and legitimate cooperation.", [
         ("Equal footing", "Partners treated as equals rather than as helpers."),
         ("Transparency between partners", "Partners share aims, plans and limits."),
         ("Unequal power", "One side sets the agenda or holds the resources."),
     ]),
    ("Risk", "#c92a2a",
     "Who bears the risks of the work, and who decides about them.", [
         ("Risk to community partners", "Stigma, reputation or safety costs for partners."),
         ("Who decides on risk", "Whether those who bear a risk have a say in it."),
     ]),
    ("Trust", "#5f3dc4",
     "Confidence between police and communities, including healthy scepticism.", [
         ("Building trust", "Actions or moments that made trust grow."),
         ("Loss of trust", "Events or practices that damaged trust."),
         ("Healthy scepticism", "Reasoned doubt that keeps the relationship honest."),
     ]),
]


class CodebookError(ValidationError):
    """A change to the codebook that cannot be made, with a message for the person."""


def _clean_text(value: str, label: str, *, required: bool = False, limit: int = 4000) -> str:
    value = (value or "").strip()
    if "\x00" in value:
        raise CodebookError(f"The {label} contains a NUL character; remove it and try again.")
    if required and not value:
        raise CodebookError(f"Give the {label}.")
    if len(value) > limit:
        raise CodebookError(f"The {label} is longer than {limit} characters.")
    return value


def _clean_colour(colour: str) -> str:
    colour = (colour or "").strip()
    if not COLOUR_RE.match(colour):
        raise CodebookError("Give a colour as # and six hex digits, such as #1f6feb.")
    return colour.lower()


def _check_parent(study: Study, parent: Code | None) -> None:
    if parent is not None and parent.study_id != study.pk:
        raise CodebookError("The parent code belongs to another study.")


def _next_position(study: Study, parent: Code | None) -> int:
    top = Code.objects.filter(study=study, parent=parent).aggregate(m=Max("position"))["m"]
    return 0 if top is None else top + 1


def descendant_ids(code: Code) -> set[int]:
    """The ids of every code under this one (not the code itself)."""
    children: dict[int | None, list[int]] = {}
    for pk, parent_id in Code.objects.filter(study_id=code.study_id).values_list("pk",
                                                                                "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    found: set[int] = set()
    stack = list(children.get(code.pk, []))
    while stack:
        pk = stack.pop()
        if pk not in found:
            found.add(pk)
            stack.extend(children.get(pk, []))
    return found


@dataclass
class TreeRow:
    code: Code
    depth: int
    codings: int = 0


def code_tree(study: Study, *, counts: dict[int, int] | None = None) -> list[TreeRow]:
    """The study's codes in tree order (a parent, then its children by position), with depth."""
    codes = list(Code.objects.filter(study=study))
    children: dict[int | None, list[Code]] = {}
    for code in codes:
        children.setdefault(code.parent_id, []).append(code)
    rows: list[TreeRow] = []

    def walk(parent_id, depth):
        for code in children.get(parent_id, []):
            rows.append(TreeRow(code, depth, (counts or {}).get(code.pk, 0)))
            walk(code.pk, depth + 1)

    walk(None, 0)
    return rows


def code_path(code: Code, by_id: dict[int, Code]) -> str:
    """"Trust › Loss of trust": the code's name after its ancestors'."""
    names, seen, node = [], set(), code
    while node is not None and node.pk not in seen:
        seen.add(node.pk)
        names.append(node.name)
        node = by_id.get(node.parent_id) if node.parent_id else None
    return " › ".join(reversed(names))


def code_create(*, study: Study, name: str, created_by, parent: Code | None = None,
                description: str = "", colour: str = "#1f6feb") -> Code:
    name = _clean_text(name, "name", required=True, limit=120)
    description = _clean_text(description, "description")
    colour = _clean_colour(colour)
    _check_parent(study, parent)
    with transaction.atomic():
        code = Code.objects.create(study=study, parent=parent, name=name,
                                   description=description, colour=colour,
                                   position=_next_position(study, parent),
                                   created_by=created_by)
    return code


def code_update(*, code: Code, name: str, description: str, colour: str) -> Code:
    code.name = _clean_text(name, "name", required=True, limit=120)
    code.description = _clean_text(description, "description")
    code.colour = _clean_colour(colour)
    code.save(update_fields=["name", "description", "colour"])
    return code


def code_move(*, code: Code, parent: Code | None, position: int | None = None) -> Code:
    """Put the code under another parent (or at the top), keeping its own children with it.
    A code cannot go under itself or under one of its own descendants."""
    _check_parent(code.study, parent)
    if parent is not None and (parent.pk == code.pk or parent.pk in descendant_ids(code)):
        raise CodebookError(f"“{code.name}” cannot go under itself or one of its own sub-codes.")
    with transaction.atomic():
        siblings = list(Code.objects.select_for_update().filter(
            study_id=code.study_id, parent=parent).exclude(pk=code.pk).order_by(
            "position", "name", "id"))
        if position is None or position > len(siblings):
            position = len(siblings)
        siblings.insert(max(position, 0), code)
        code.parent = parent
        for index, sibling in enumerate(siblings):
            sibling.position = index
        code.save(update_fields=["parent", "position"])
        Code.objects.bulk_update([s for s in siblings if s.pk != code.pk], ["position"])
    return code


def code_reorder(*, code: Code, direction: str) -> Code:
    """Move a code one place up or down among its siblings."""
    siblings = list(Code.objects.filter(study_id=code.study_id, parent_id=code.parent_id)
                    .order_by("position", "name", "id").values_list("pk", flat=True))
    index = siblings.index(code.pk)
    step = -1 if direction == "up" else 1
    return code_move(code=code, parent=code.parent, position=max(index + step, 0))


def _collapse_duplicates(code: Code) -> int:
    """Remove codings of this code that repeat another with the same source, span and coder
    (they arise when two merged codes marked the same text). Memos on a removed duplicate move
    to the one kept."""
    seen: dict[tuple, int] = {}
    dupes: list[int] = []
    for pk, source_id, start, end, coder_id in Coding.objects.filter(code=code).order_by(
            "id").values_list("pk", "source_id", "start", "end", "coder_id"):
        key = (source_id, start, end, coder_id)
        if key in seen:
            Memo.objects.filter(coding_id=pk).update(coding_id=seen[key])
            dupes.append(pk)
        else:
            seen[key] = pk
    if dupes:
        Coding.objects.filter(pk__in=dupes).delete()
    return len(dupes)


def code_merge(*, code: Code, into: Code, actor) -> int:
    """Fold ``code`` into ``into``: its codings, memos and sub-codes move across, repeats
    collapse, and ``code`` is removed. Returns how many codings moved."""
    if into.study_id != code.study_id:
        raise CodebookError("A code can only be merged into a code of the same study.")
    if into.pk == code.pk:
        raise CodebookError("Choose a different code to merge into.")
    if into.pk in descendant_ids(code):
        raise CodebookError("Merge a sub-code into its parent, not the parent into its own "
                            "sub-code: move the sub-code out first.")
    with transaction.atomic():
        moved = Coding.objects.filter(code=code).update(code=into)
        Memo.objects.filter(code=code).update(code=into)
        position = _next_position(code.study, into)
        for offset, child in enumerate(Code.objects.filter(parent=code).order_by("position")):
            child.parent = into
            child.position = position + offset
            child.save(update_fields=["parent", "position"])
        collapsed = _collapse_duplicates(into)
        audit_record(actor=actor, action="research.code.merge", target=into,
                     study=code.study_id, merged=code.pk, moved=moved, collapsed=collapsed)
        code.delete()
    return moved


def code_split(*, code: Code, names: list[str], actor, assignments: dict[int, int] | None = None,
               rule_word: str = "", rule_target: int = 0) -> list[Code]:
    """Make new codes beside ``code`` (as its children) and share its codings out among them.

    ``assignments`` maps a coding's id to the index (in ``names``) of its new code; a coding
    not named stays on ``code``. With ``rule_word``, codings whose text contains the word
    (ignoring case) go to ``names[rule_target]`` unless assigned by hand. Returns the new codes.
    """
    names = [_clean_text(n, "new code's name", limit=120) for n in names]
    names = [n for n in names if n]
    if not names:
        raise CodebookError("Give at least one name for the new codes.")
    rule_word = _clean_text(rule_word, "rule word", limit=200)
    assignments = dict(assignments or {})
    if any(index < 0 or index >= len(names) for index in assignments.values()):
        raise CodebookError("A coding was sent to a new code that does not exist.")
    if rule_word and not 0 <= rule_target < len(names):
        raise CodebookError("The rule's code does not exist.")
    own = dict(Coding.objects.filter(code=code).values_list("pk", "source_id"))
    if set(assignments) - set(own):
        raise CodebookError("Some of the chosen codings do not belong to this code.")
    with transaction.atomic():
        new = [code_create(study=code.study, name=name, parent=code, colour=code.colour,
                           created_by=actor) for name in names]
        if rule_word:
            needle = rule_word.lower()
            rows = Coding.objects.filter(code=code).select_related("source").only(
                "pk", "start", "end", "source__text")
            for coding in rows:
                if coding.pk not in assignments and needle in coding.source.text[
                        coding.start:coding.end].lower():
                    assignments[coding.pk] = rule_target
        for index, target in enumerate(new):
            ids = [pk for pk, i in assignments.items() if i == index]
            if ids:
                Coding.objects.filter(pk__in=ids).update(code=target)
        audit_record(actor=actor, action="research.code.split", target=code,
                     study=code.study_id, new=[c.pk for c in new], moved=len(assignments))
    return new


def code_delete(*, code: Code, actor) -> int:
    """Delete the code, its sub-codes and all their codings. Returns how many codings went."""
    ids = descendant_ids(code) | {code.pk}
    with transaction.atomic():
        gone = Coding.objects.filter(code_id__in=ids).count()
        audit_record(actor=actor, action="research.code.delete", target=code,
                     study=code.study_id, codes=len(ids), codings=gone)
        code.delete()
    return gone


def codebook_load_starter(*, study: Study, actor) -> int:
    """Add the engagement model's aspects and their sub-codes, skipping any top-level code
    whose name the study already has. Returns how many codes were added."""
    added = 0
    with transaction.atomic():
        existing = {name.lower(): pk for name, pk in Code.objects.filter(
            study=study, parent=None).values_list("name", "pk")}
        for name, colour, description, subs in STARTER:
            if name.lower() in existing:
                continue
            parent = code_create(study=study, name=name, description=description,
                                 colour=colour, created_by=actor)
            added += 1
            for sub_name, sub_description in subs:
                code_create(study=study, name=sub_name, description=sub_description,
                            colour=colour, parent=parent, created_by=actor)
                added += 1
    return added


def coding_counts(codings_qs) -> dict[int, int]:
    """Codings per code in the given (already visibility-filtered) queryset."""
    return dict(codings_qs.values_list("code_id").annotate(n=Count("id")).values_list(
        "code_id", "n"))


def codes_of(study: Study, ids: Iterable[int]) -> list[Code]:
    """Codes of this study among ``ids``; a code of another study is refused."""
    ids = list(ids)
    codes = list(Code.objects.filter(study=study, pk__in=ids))
    if len(codes) != len(set(ids)):
        raise CodebookError("One of the codes is not in this study's codebook.")
    return codes
