"""Exchange with other qualitative analysis tools through the REFI-QDA standard.

A whole study travels as a ``.qdpx`` project: a ZIP archive holding ``project.qde`` (XML in the
``urn:QDA-XML:project:1.0`` namespace) and each source's text under ``Sources/``. The codebook
alone travels as ``.qdc`` (``urn:QDA-XML:codebook:1.0``). NVivo, ATLAS.ti, MAXQDA, QualCoder and
Taguette read and write these.

How the study maps onto the standard:

- codes → ``CodeBook`` (nested, with descriptions and colours);
- participants → ``Cases`` with ``Variables``: group, location, consent and every custom
  attribute; each case points at the stretches of text its participant speaks
  (``SelectionRef`` to a selection without codings);
- sources → ``TextSource`` with the pseudonymised text in ``Sources/<guid>.txt``;
- each coding → a ``PlainTextSelection`` with one ``Coding`` that names its coder
  (``creatingUser``), the coders listed under ``Users``;
- memos → ``Notes``, referred to from the code, coding, source or project they are about.

Exports are checked against the standard's schemas (``refi/``) in the tests. Imports are
checked like any upload (size, ZIP structure, XML without entities) and against the schema
before anything is read, and they are pseudonymised on the way in: a project from another
tool may hold real names, so its texts, titles, case names and memos go through the same
proposals as a transcript, applied without review, and every selection is moved to where its
text now lies. Nothing of the original text is kept.
"""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from xml.etree import ElementTree as ET

import xmlschema
from defusedxml.ElementTree import fromstring as safe_fromstring
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from hub import policy
from hub.core.services import audit_record
from hub.library.extract_child import Refused, check_zip
from hub.research import importing, pseudonymise, services
from hub.research.models import (
    Code,
    Coding,
    Memo,
    Participant,
    Source,
    SpeakerTurn,
    Study,
    StudyMember,
)

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
SCHEMAS = Path(__file__).parent / "refi"
ORIGIN = "Police-Community Engagement Hub"
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_SOURCES = 2_000
MAX_SELECTIONS = 200_000
# Everything is pseudonymised within the request, which a web worker gives 30 s: about 600,000
# characters (some 100,000 words) fit comfortably. Larger projects come in parts.
MAX_TEXT_CHARS = 600_000
HUB_USER = re.compile(r"^hub-user:(\d+)$")
TURN_SUFFIX = " speaks"  # a selection so named, without codings, is a speaker's turn

# Case variables that carry a participant's own fields; every other variable is an attribute.
GROUP, LOCATION = "Group", "Location"
CONSENT_DATE, QUOTE, ARCHIVE, SHARE = ("Consent date", "Consent: quotation",
                                       "Consent: archiving", "Consent: sharing with partners")
FIELD_VARIABLES = (GROUP, LOCATION, CONSENT_DATE, QUOTE, ARCHIVE, SHARE)
KIND_DESCRIPTION = {kind.value: f"{kind.label} (hub source kind: {kind.value})"
                    for kind in Source.Kind}


def _schema(name: str) -> xmlschema.XMLSchema:
    cached = _SCHEMAS.get(name)
    if cached is None:
        cached = _SCHEMAS[name] = xmlschema.XMLSchema(str(SCHEMAS / name))
    return cached


_SCHEMAS: dict[str, xmlschema.XMLSchema] = {}


def project_schema() -> xmlschema.XMLSchema:
    return _schema("Project.xsd")


def codebook_schema() -> xmlschema.XMLSchema:
    return _schema("Codebook.xsd")


# --- Export ----------------------------------------------------------------------------------

class _Guids:
    """Stable identifiers: the same object gets the same GUID in every export of the study."""

    def __init__(self, study: Study):
        self.base = uuid.uuid5(uuid.NAMESPACE_URL, f"hub-study:{study.registry_salt}")

    def __call__(self, kind: str, pk) -> str:
        return str(uuid.uuid5(self.base, f"{kind}:{pk}"))


def _stamp(moment: datetime | None) -> str:
    moment = moment or timezone.now()
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sub(parent, tag: str, ns: str = PROJECT_NS, text: str | None = None, **attrs):
    node = ET.SubElement(parent, f"{{{ns}}}{tag}",
                         {k: str(v) for k, v in attrs.items() if v is not None})
    if text is not None:
        node.text = text
    return node


def _code_tree(parent, codes: list[Code], guid, ns: str, memos_by_code=None) -> None:
    children: dict[int | None, list[Code]] = {}
    for code in codes:
        children.setdefault(code.parent_id, []).append(code)

    def add(node, parent_id):
        for code in children.get(parent_id, []):
            element = _sub(node, "Code", ns, guid=guid("code", code.pk), name=code.name,
                           isCodable="true", color=code.colour)
            if code.description:
                _sub(element, "Description", ns, text=code.description)
            for memo in (memos_by_code or {}).get(code.pk, []):
                _sub(element, "NoteRef", ns, targetGUID=guid("memo", memo.pk))
            add(element, code.pk)

    add(parent, None)


def _display_name(user) -> str:
    profile = getattr(user, "profile", None)
    return profile.display_name if profile else "[erased member]"


def export_codebook(study: Study) -> bytes:
    """The codebook alone as a ``.qdc`` file. The standard needs at least one code."""
    codes = list(study.codes.order_by("position", "name", "pk"))
    if not codes:
        raise ValidationError("The codebook is empty: add a code before exporting it.")
    ET.register_namespace("", CODEBOOK_NS)
    root = ET.Element(f"{{{CODEBOOK_NS}}}CodeBook", {"origin": ORIGIN})
    _code_tree(_sub(root, "Codes", CODEBOOK_NS), codes, _Guids(study), CODEBOOK_NS)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def export_project(study: Study, user) -> bytes:
    """The whole study as a ``.qdpx`` archive (bytes), as ``user`` may see it: while coding
    is blind, with their own codings only."""
    ET.register_namespace("", PROJECT_NS)
    guid = _Guids(study)
    sources = list(study.sources.order_by("created", "pk"))
    codes = list(study.codes.order_by("position", "name", "pk"))
    codings = list(policy.visible_codings(user, Coding.objects.filter(source__study=study))
                   .order_by("source", "start", "pk"))
    memos = list(policy.visible_memos(user, study.memos.all()).order_by("created", "pk"))
    participants = list(study.participants.order_by("code").prefetch_related(
        "sharing_partners"))
    all_turns = list(SpeakerTurn.objects.filter(source__study=study).order_by("source", "start"))
    turns = [turn for turn in all_turns if turn.participant_id]
    coder_ids = {c.coder_id for c in codings if c.coder_id} | {
        m.author_id for m in memos if m.author_id} | {
        s.created_by_id for s in sources if s.created_by_id}
    users = {u.pk: u for u in get_user_model().objects.filter(pk__in=coder_ids)
             .select_related("profile")}

    root = ET.Element(f"{{{PROJECT_NS}}}Project", {
        "name": study.title, "origin": ORIGIN, "creationDateTime": _stamp(study.created),
        "modifiedDateTime": _stamp(timezone.now())})
    if users:
        users_node = _sub(root, "Users")
        for pk in sorted(users):
            _sub(users_node, "User", guid=guid("user", pk), name=_display_name(users[pk]),
                 id=f"hub-user:{pk}")
    memos_by = {"code": {}, "coding": {}, "source": {}}
    for memo in memos:
        for kind in memos_by:
            target = getattr(memo, f"{kind}_id")
            if target:
                memos_by[kind].setdefault(target, []).append(memo)
                break
    if codes:
        _code_tree(_sub(_sub(root, "CodeBook"), "Codes"), codes, guid, PROJECT_NS,
                   memos_by["code"])

    attributes = sorted({key for p in participants for key in p.attributes})
    variables = [(name, "Date" if name == CONSENT_DATE else
                  "Boolean" if name in (QUOTE, ARCHIVE, SHARE) else "Text")
                 for name in (*FIELD_VARIABLES, *attributes)]
    if participants:
        node = _sub(root, "Variables")
        for name, kind in variables:
            _sub(node, "Variable", guid=guid("variable", name), name=name, typeOfVariable=kind)
        cases = _sub(root, "Cases")
        turns_by = {}
        for turn in turns:
            turns_by.setdefault(turn.participant_id, []).append(turn)
        for participant in participants:
            case = _sub(cases, "Case", guid=guid("participant", participant.pk),
                        name=participant.code)
            values = {GROUP: participant.get_group_display(), LOCATION: participant.location,
                      CONSENT_DATE: participant.consent_date,
                      QUOTE: participant.consent_quotation,
                      ARCHIVE: participant.consent_archiving,
                      SHARE: participant.consent_sharing,
                      **{k: v for k, v in participant.attributes.items()}}
            for name, kind in variables:
                value = values.get(name)
                if value in (None, ""):
                    continue
                holder = _sub(case, "VariableValue")
                _sub(holder, "VariableRef", targetGUID=guid("variable", name))
                if kind == "Boolean":
                    _sub(holder, "BooleanValue", text="true" if value else "false")
                elif kind == "Date":
                    _sub(holder, "DateValue", text=value.isoformat())
                else:
                    _sub(holder, "TextValue", text=str(value))
            for source_id in sorted({t.source_id for t in turns_by.get(participant.pk, [])}):
                _sub(case, "SourceRef", targetGUID=guid("source", source_id))
            for turn in turns_by.get(participant.pk, []):
                _sub(case, "SelectionRef", targetGUID=guid("turn", turn.pk))

    files = {}
    if sources:
        node = _sub(root, "Sources")
        codings_by = {}
        for coding in codings:
            codings_by.setdefault(coding.source_id, []).append(coding)
        turns_in = {}
        for turn in all_turns:
            turns_in.setdefault(turn.source_id, []).append(turn)
        for source in sources:
            source_guid = guid("source", source.pk)
            files[f"Sources/{source_guid}.txt"] = source.text.encode("utf-8")
            element = _sub(node, "TextSource", guid=source_guid, name=source.title,
                           plainTextPath=f"internal://{source_guid}.txt",
                           creatingUser=guid("user", source.created_by_id)
                           if source.created_by_id in users else None,
                           creationDateTime=_stamp(source.created))
            _sub(element, "Description", text=KIND_DESCRIPTION[source.kind])
            for turn in turns_in.get(source.pk, []):
                _sub(element, "PlainTextSelection", guid=guid("turn", turn.pk),
                     name=f"{turn.speaker}{TURN_SUFFIX}", startPosition=turn.start,
                     endPosition=turn.end)
            for coding in codings_by.get(source.pk, []):
                selection = _sub(element, "PlainTextSelection", guid=guid("selection", coding.pk),
                                 startPosition=coding.start, endPosition=coding.end,
                                 creatingUser=guid("user", coding.coder_id)
                                 if coding.coder_id in users else None,
                                 creationDateTime=_stamp(coding.created))
                _sub(selection, "Description",
                     text=source.text[coding.start:coding.end][:200])
                made = _sub(selection, "Coding", guid=guid("coding", coding.pk),
                            creatingUser=guid("user", coding.coder_id)
                            if coding.coder_id in users else None,
                            creationDateTime=_stamp(coding.created))
                _sub(made, "CodeRef", targetGUID=guid("code", coding.code_id))
                for memo in memos_by["coding"].get(coding.pk, []):
                    _sub(selection, "NoteRef", targetGUID=guid("memo", memo.pk))
            for memo in memos_by["source"].get(source.pk, []):
                _sub(element, "NoteRef", targetGUID=guid("memo", memo.pk))

    if memos:
        notes = _sub(root, "Notes")
        for memo in memos:
            note = _sub(notes, "Note", guid=guid("memo", memo.pk), name=memo.title or None,
                        creatingUser=guid("user", memo.author_id)
                        if memo.author_id in users else None,
                        creationDateTime=_stamp(memo.created))
            _sub(note, "PlainTextContent", text=memo.text)
    if study.description:
        _sub(root, "Description", text=study.description)
    for memo in memos:
        if not (memo.code_id or memo.coding_id or memo.source_id):
            _sub(root, "NoteRef", targetGUID=guid("memo", memo.pk))

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", ET.tostring(root, encoding="utf-8",
                                                    xml_declaration=True))
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


# --- Import ----------------------------------------------------------------------------------

@dataclass
class ImportReport:
    study: Study | None = None
    sources: int = 0
    codes: int = 0
    codings: int = 0
    participants: int = 0
    memos: int = 0
    replacements: int = 0
    dropped_codings: int = 0
    coders: dict[str, str] = field(default_factory=dict)  # name in the file -> who here
    skipped: list[str] = field(default_factory=list)


def _refuse(message: str):
    raise ValidationError({"file": message})


def _tag(node) -> str:
    return node.tag.rsplit("}", 1)[-1]


def _children(node, tag: str) -> list:
    return [child for child in node if _tag(child) == tag]


def _child(node, tag: str):
    found = _children(node, tag)
    return found[0] if found else None


def _parse(xml: bytes, schema: xmlschema.XMLSchema, what: str):
    try:
        root = safe_fromstring(xml, forbid_dtd=True)
    except Exception:
        _refuse(f"The {what} is not well-formed XML, or uses features (entities, DTDs) that "
                "are refused for safety.")
    errors = list(schema.iter_errors(root))
    if errors:
        first = errors[0]
        where = getattr(first, "path", "") or ""
        _refuse(f"The {what} does not follow the REFI-QDA standard ({len(errors)} "
                f"problem{'s' if len(errors) != 1 else ''}; the first at {where}: "
                f"{first.reason or 'invalid'}).")
    return root


def _read_archive(data: bytes) -> tuple[bytes, zipfile.ZipFile]:
    if len(data) > MAX_UPLOAD_BYTES:
        _refuse(f"This file is larger than {MAX_UPLOAD_BYTES // 2**20} MB.")
    if not data.startswith(b"PK"):
        _refuse("This is not a REFI-QDA project (.qdpx): it is not a ZIP archive.")
    try:
        check_zip(data)
    except Refused as problem:
        _refuse(str(problem))
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = archive.namelist()
    if any(name.startswith("/") or ".." in name.split("/") for name in names):
        _refuse("This archive names files outside itself, which a project never does.")
    qde = [name for name in names if name.lower() == "project.qde"]
    if not qde:
        _refuse("This archive has no project.qde: it is not a REFI-QDA project.")
    return archive.read(qde[0]), archive


class _Pseudonymiser:
    """Applies the study's proposals to every text of an import, without review."""

    def __init__(self, study: Study, names: list[tuple[str, str]], guesses: bool):
        self.study = study
        self.registry, self.tied = services.registry_load(study)
        for name, kind in names:
            try:
                self.registry.register(name, kind)
            except ValueError:
                continue
        self.guesses = guesses
        self.count = 0

    def proposals(self, text: str):
        found = importing.propose(text, self.registry, self.tied)
        if not self.guesses:
            found = [p for p in found if p.source != "likely-name"]
        return sorted(found, key=lambda p: p.start)

    def text(self, text: str) -> tuple[str, list]:
        found = self.proposals(text)
        self.count += len(found)
        return pseudonymise.apply(text, found), found

    def short(self, text: str) -> str:
        return self.text(text)[0]

    def save(self) -> None:
        services._registry_save(self.study, self.registry)


def _mover(proposals):
    """A function that moves an offset of the original text to the pseudonymised one; an
    offset inside a replaced stretch goes to its start (``end=False``) or end (``end=True``)."""
    spans = [(p.start, p.end, len(p.label) - (p.end - p.start), len(p.label))
             for p in proposals]

    def move(offset: int, end: bool = False) -> int:
        shift = 0
        for start, stop, delta, width in spans:
            if offset >= stop:
                shift += delta
            elif offset > start:
                return start + shift + (width if end else 0)
            else:
                break
        return offset + shift

    return move


def _variable_value(holder) -> str | bool | None:
    for child in holder:
        tag = _tag(child)
        if tag == "VariableRef":
            continue
        text = (child.text or "").strip()
        if tag == "BooleanValue":
            return text in ("true", "1")
        return text
    return None


def _safe_code(pseudo: _Pseudonymiser, name: str, taken: set[str]) -> str:
    """A participant code from a case's name, unless it could identify someone."""
    candidate = (name or "").strip()[:20]
    field_ = Participant._meta.get_field("code")
    try:
        for validator in field_.validators:
            validator(candidate)
        ok = bool(candidate) and not pseudo.proposals(candidate)
    except ValidationError:
        ok = False
    if ok and candidate.casefold() not in taken:
        return candidate
    n = len(taken) + 1
    while f"C{n:02d}".casefold() in taken:
        n += 1
    return f"C{n:02d}"


GROUPS = {**{g.label.casefold(): g.value for g in Participant.Group},
          **{g.value: g.value for g in Participant.Group}}


def _coder_map(root, actor, study_mapping: dict[str, str]) -> tuple[dict, dict]:
    """Who each user in the file is here: a hub id from this hub's own exports, or an email
    the importer gave for that name; anyone else is the importer."""
    User = get_user_model()
    found, report = {}, {}
    users_node = _child(root, "Users")
    for user in _children(users_node, "User") if users_node is not None else []:
        name = user.get("name") or user.get("id") or user.get("guid")
        person = None
        match = HUB_USER.match(user.get("id") or "")
        email = study_mapping.get((name or "").casefold())
        if email:
            person = User.objects.filter(email__iexact=email).first()
        elif match:
            person = User.objects.filter(pk=int(match.group(1))).first()
        if person is None or not policy.is_member(person):
            person = actor
        found[user.get("guid").strip("{}").lower()] = person
        report[name] = _display_name(person)
    return found, report


def _guid(value: str | None) -> str:
    return (value or "").strip("{}").lower()


@transaction.atomic
def import_project(*, actor, data: bytes, names: list[tuple[str, str]] = (),
                   guesses: bool = True, coders: dict[str, str] | None = None) -> ImportReport:
    """Make a new study, led by ``actor``, from a ``.qdpx`` archive."""
    if not policy.can_create_study(actor):
        raise ValidationError("Only members of the hub can start a study.")
    qde, archive = _read_archive(data)
    root = _parse(qde, project_schema(), "project file")
    sources_node = _child(root, "Sources")
    text_sources = _children(sources_node, "TextSource") if sources_node is not None else []
    if len(text_sources) > MAX_SOURCES:
        _refuse(f"This project has more than {MAX_SOURCES:,} sources.")
    selection_count = sum(len(_children(s, "PlainTextSelection")) for s in text_sources)
    if selection_count > MAX_SELECTIONS:
        _refuse(f"This project has more than {MAX_SELECTIONS:,} coded passages.")

    originals = {}
    for element in text_sources:
        content = _child(element, "PlainTextContent")
        original = content.text if content is not None and content.text else ""
        if not original and element.get("plainTextPath"):
            original = _archive_text(archive, element.get("plainTextPath"))
        originals[id(element)] = _clean(original)
    total = sum(len(text) for text in originals.values())
    if total > MAX_TEXT_CHARS:
        _refuse(f"This project holds {total:,} characters of text; one import takes at most "
                f"{MAX_TEXT_CHARS:,} (about 100,000 words), because every text is "
                "pseudonymised on the way in. Export it from the other tool in parts.")

    report = ImportReport()
    title = (root.get("name") or "").strip() or "Imported project"
    # The project's name may itself name someone: the study starts under a neutral title
    # and takes the pseudonymised one once its registry exists.
    study = services.study_create(actor=actor, title="Imported project")
    pseudo = _Pseudonymiser(study, list(names), guesses)
    study.title = pseudo.short(title)[:200] or "Imported project"
    description = _child(root, "Description")
    study.description = pseudo.short((description.text or "") if description is not None
                                     else "")[:6000]
    study.save(update_fields=["title", "description"])
    report.study = study
    users, report.coders = _coder_map(root, actor, {k.casefold(): v for k, v in
                                                     (coders or {}).items()})
    for person in set(users.values()):
        if person != actor:
            StudyMember.objects.get_or_create(study=study, user=person, defaults={
                "role": StudyMember.Role.CODER, "added_by": actor})

    def who(attr_value):
        return users.get(_guid(attr_value), actor)

    # Notes first: the rest refers to them.
    notes = {}
    notes_node = _child(root, "Notes")
    for note in _children(notes_node, "Note") if notes_node is not None else []:
        content = _child(note, "PlainTextContent")
        text = content.text if content is not None and content.text else ""
        path = note.get("plainTextPath")
        if not text and path:
            text = _archive_text(archive, path)
        notes[_guid(note.get("guid"))] = (pseudo.short(note.get("name") or "")[:200],
                                          pseudo.short(text)[:20000],
                                          who(note.get("creatingUser")))
    used_notes: set[str] = set()

    def memo(target: dict, refs) -> None:
        for ref in refs:
            key = _guid(ref.get("targetGUID"))
            if key in notes and key not in used_notes:
                used_notes.add(key)
                title_, text_, author = notes[key]
                Memo.objects.create(study=study, author=author, title=title_,
                                    text=text_ or "(empty)", **target)
                report.memos += 1

    # Codes, nested.
    codes = {}
    book = _child(root, "CodeBook")

    def add_codes(node, parent):
        for position, element in enumerate(_children(node, "Code")):
            description = _child(element, "Description")
            code = Code.objects.create(
                study=study, parent=parent, name=(element.get("name") or "Code")[:120],
                description=((description.text or "") if description is not None
                             else "")[:4000],
                colour=_colour(element.get("color")), position=position, created_by=actor)
            codes[_guid(element.get("guid"))] = code
            report.codes += 1
            memo({"code": code}, _children(element, "NoteRef"))
            add_codes(element, code)

    if book is not None:
        add_codes(_child(book, "Codes"), None)

    # Participants from cases.
    variables = {}
    variables_node = _child(root, "Variables")
    for variable in _children(variables_node, "Variable") if variables_node is not None else []:
        variables[_guid(variable.get("guid"))] = (variable.get("name") or "").strip()[:60]
    participants, turn_owner = {}, {}
    taken: set[str] = set()
    cases_node = _child(root, "Cases")
    for case in _children(cases_node, "Case") if cases_node is not None else []:
        values = {}
        for holder in _children(case, "VariableValue"):
            ref = _child(holder, "VariableRef")
            name = variables.get(_guid(ref.get("targetGUID")) if ref is not None else "")
            if name:
                values[name] = _variable_value(holder)
        code = _safe_code(pseudo, case.get("name") or "", taken)
        taken.add(code.casefold())
        consent = values.pop(CONSENT_DATE, None)
        participant = Participant.objects.create(
            study=study, code=code,
            group=GROUPS.get(str(values.pop(GROUP, "") or "").casefold(),
                             Participant.Group.STAKEHOLDER),
            location=pseudo.short(str(values.pop(LOCATION, "") or ""))[:120],
            consent_date=_date(consent),
            consent_quotation=values.pop(QUOTE, False) is True,
            consent_archiving=values.pop(ARCHIVE, False) is True,
            consent_sharing=values.pop(SHARE, False) is True,
            attributes={key: value if isinstance(value, bool) else pseudo.short(str(value))
                        for key, value in values.items() if value not in (None, "")})
        participants[_guid(case.get("guid"))] = participant
        for ref in _children(case, "SelectionRef"):
            turn_owner[_guid(ref.get("targetGUID"))] = participant
        report.participants += 1

    # Sources, with their selections moved to the pseudonymised text.
    for element in text_sources:
        original = originals[id(element)]
        if not original.strip():
            report.skipped.append(element.get("name") or "a source without text")
            continue
        text, found = pseudo.text(original)
        move = _mover(found)
        description = _child(element, "Description")
        kind = _kind((description.text or "") if description is not None else "")
        source = Source.objects.create(
            study=study, title=pseudo.short(element.get("name") or "Source")[:200] or "Source",
            kind=kind, origin=Source.Origin.QDPX, text=text,
            word_count=importing.word_count(text), replacements=len(found), created_by=actor)
        report.sources += 1
        report.replacements += len(found)
        turns = []
        for selection in _children(element, "PlainTextSelection"):
            start = move(int(selection.get("startPosition")))
            end = move(int(selection.get("endPosition")), end=True)
            start, end = max(0, min(start, len(text))), max(0, min(end, len(text)))
            key = _guid(selection.get("guid"))
            made = _children(selection, "Coding")
            name = selection.get("name") or ""
            if not made and (key in turn_owner or name.endswith(TURN_SUFFIX)):
                owner = turn_owner.get(key)
                speaker = name.removesuffix(TURN_SUFFIX).strip() or (
                    f"[{owner.code}]" if owner else "")
                if end > start and speaker:
                    turns.append(SpeakerTurn(source=source, start=start, end=end,
                                             speaker=pseudo.short(speaker)[:60],
                                             participant=owner))
                continue
            first = None
            for coding in made:
                ref = _child(coding, "CodeRef")
                code = codes.get(_guid(ref.get("targetGUID")) if ref is not None else "")
                if code is None or end <= start:
                    report.dropped_codings += 1
                    continue
                coder = who(coding.get("creatingUser") or selection.get("creatingUser"))
                row = Coding.objects.create(source=source, code=code, start=start, end=end,
                                            coder=coder)
                first = first or row
                report.codings += 1
            if first is not None:
                memo({"coding": first}, _children(selection, "NoteRef"))
        if not turns:
            owners = {p.code.casefold(): p for p in participants.values()}
            for turn in importing.speaker_turns(text):
                turns.append(SpeakerTurn(
                    source=source, start=turn.start, end=turn.end, speaker=turn.speaker[:60],
                    participant=owners.get(importing.code_of_label(turn.speaker).casefold())))
        SpeakerTurn.objects.bulk_create(turns, batch_size=500)
        memo({"source": source}, _children(element, "NoteRef"))

    memo({}, _children(root, "NoteRef"))
    for key in notes:
        if key not in used_notes:
            memo({}, [{"targetGUID": key}])
    pseudo.save()
    report.replacements = pseudo.count
    audit_record(actor=actor, action="research.study.import", target=study, study=study.pk,
                 sources=report.sources, codings=report.codings, replacements=pseudo.count)
    return report


@transaction.atomic
def import_codebook(*, actor, study: Study, data: bytes) -> int:
    """Add the codes of a ``.qdc`` codebook to the study; a code whose name is already used
    at the same place in the tree is taken as that code. Returns how many codes were added."""
    if not policy.can_manage_study(actor, study):
        raise ValidationError("Only the study's lead can change its codebook this way.")
    if len(data) > 5 * 2**20:
        _refuse("A codebook file is at most 5 MB.")
    root = _parse(data, codebook_schema(), "codebook file")
    added = 0

    def add(node, parent):
        nonlocal added
        existing = {code.name.casefold(): code for code in
                    Code.objects.filter(study=study, parent=parent)}
        for element in _children(node, "Code"):
            name = (element.get("name") or "Code")[:120]
            code = existing.get(name.casefold())
            if code is None:
                description = _child(element, "Description")
                code = Code.objects.create(
                    study=study, parent=parent, name=name,
                    description=((description.text or "") if description is not None
                                 else "")[:4000],
                    colour=_colour(element.get("color")), position=len(existing) + added,
                    created_by=actor)
                added += 1
            add(element, code)

    add(_child(root, "Codes"), None)
    audit_record(actor=actor, action="research.codebook.import", target=study, study=study.pk,
                 codes=added)
    return added


def _archive_text(archive: zipfile.ZipFile, path: str) -> str:
    name = path.removeprefix("internal://")
    name = name if name.startswith("Sources/") else f"Sources/{name}"
    try:
        raw = archive.read(name)
    except KeyError:
        _refuse(f"The project refers to {path}, which is not in the archive.")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        _refuse(f"The text of {path} is not UTF-8.")


CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _clean(text: str) -> str:
    """Control characters (NUL above all) become spaces: selections count characters, so the
    text keeps its length."""
    return CONTROL.sub(" ", text)


def _colour(value: str | None) -> str:
    value = (value or "").strip()
    if re.fullmatch(r"#[0-9a-fA-F]{6}", value):
        return value.lower()
    if re.fullmatch(r"#[0-9a-fA-F]{3}", value):
        return "#" + "".join(ch * 2 for ch in value[1:]).lower()
    return "#1f6feb"


def _date(value) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _kind(description: str) -> str:
    found = re.search(r"hub source kind: (\w+)", description)
    if found and found.group(1) in Source.Kind.values:
        return found.group(1)
    lowered = description.casefold()
    if "focus group" in lowered:
        return Source.Kind.FOCUS_GROUP
    return Source.Kind.INTERVIEW
