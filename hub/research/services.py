"""Every write of the research workspace's studies, teams, participants, registered names and
sources. Codebook and codings have their own modules.

The rule that shapes this module: no real name is ever stored. Participants have codes; names
the lead registers go into the study's registry as keyed hashes only; a source keeps only the
text that ``pseudonymise.apply`` returns for the proposals the researcher confirmed, and the
original never reaches the database, the session, the cache, a file or a log. Audit events
carry identifiers and counts, never content.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from hub import policy
from hub.core.services import audit_record, unique_slug
from hub.members.models import User
from hub.research import importing, pseudonymise
from hub.research.models import Participant, Source, SpeakerTurn, Study, StudyMember
from hub.research.pseudonymise import Registry

Role = StudyMember.Role


def _no_nul(**fields) -> None:
    for name, value in fields.items():
        if isinstance(value, str) and "\x00" in value:
            raise ValidationError({name: "Remove the NUL character (\\0) from this text."})


# --- The registry ------------------------------------------------------------------------------

def study_key(study: Study) -> bytes:
    """The key of the study's registry: the site's secret and the study's own salt."""
    return hmac.new(settings.SECRET_KEY.encode(), f"research-registry\0{study.registry_salt}"
                    .encode(), hashlib.sha256).digest()


def _registry_state(study: Study) -> dict:
    return json.loads(study.registry) if study.registry else {}


def registry_load(study: Study) -> tuple[Registry, dict[str, str]]:
    """The study's registry and, for labels of names tied to a participant, that participant's
    code as a label ("[Participant 2]" -> "[P07]")."""
    state = _registry_state(study)
    registry = Registry.load(study_key(study), study.registry) if state else Registry(
        study_key(study))
    tied = {label: int(pk) for label, pk in state.get("participants", {}).items()}
    codes = dict(Participant.objects.filter(study=study, pk__in=set(tied.values()))
                 .values_list("pk", "code"))
    return registry, {label: f"[{codes[pk]}]" for label, pk in tied.items() if pk in codes}


def _registry_save(study: Study, registry: Registry, tied: dict[str, int] | None = None) -> None:
    state = json.loads(registry.dump())
    state["participants"] = {**_registry_state(study).get("participants", {}), **(tied or {})}
    study.registry = json.dumps(state, sort_keys=True)
    study.save(update_fields=["registry", "modified"])


def registry_version(study: Study) -> str:
    """A short fingerprint of the registry, so a review can tell that it changed meanwhile."""
    return hashlib.sha256(study.registry.encode()).hexdigest()[:16]


def registry_summary(study: Study) -> list[dict]:
    """Each registered entity's label, kind, participant code and number of names: no names."""
    state = _registry_state(study)
    _, codes = registry_load(study)
    entries: dict[str, dict] = {}
    for kind, label in state.get("names", {}).values():
        entry = entries.setdefault(label, {"label": label, "kind": kind, "names": 0,
                                           "code": codes.get(label, "")})
        entry["names"] += 1
    return sorted(entries.values(), key=lambda e: (pseudonymise.NAMED.index(e["kind"]),
                                                   _label_number(e["label"])))


def _label_number(label: str) -> int:
    found = re.search(r"\d+", label)
    return int(found.group()) if found else 0


@transaction.atomic
def registry_add(*, actor, study: Study, kind: str, names: list[str],
                 participant: Participant | None = None) -> str:
    """Register a person, place or organisation under one label, with all its aliases."""
    study = Study.objects.select_for_update().get(pk=study.pk)
    names = [n.strip() for n in names if n.strip()]
    if not names:
        raise ValidationError({"names": "Give at least one name."})
    if participant is not None:
        kind = "participant"
    if kind not in pseudonymise.NAMED:
        raise ValidationError({"kind": "Choose a person, place or organisation."})
    registry, _ = registry_load(study)
    entity = f"participant\0{participant.pk}" if participant else secrets.token_hex(8)
    try:
        labels = {registry.register(name, kind, entity) for name in names}
    except ValueError:
        raise ValidationError({"names": "Each line needs at least one letter or digit."}) from None
    label = sorted(labels)[0]
    _registry_save(study, registry, {label: participant.pk} if participant else None)
    audit_record(actor=actor, action="research.registry.add", target=study, study=study.pk,
                 names=len(names), kind=kind)
    return label


# --- Studies -----------------------------------------------------------------------------------


STUDY_FIELDS = ("title", "description", "research_questions", "listed", "blind")


@transaction.atomic
def study_create(*, actor: User, title: str, description: str = "",
                 research_questions: str = "", listed: bool = False, blind: bool = False,
                 outputs=()) -> Study:
    if not policy.can_create_study(actor):
        raise ValidationError("Only members of the hub can start a study.")
    _no_nul(title=title, description=description, research_questions=research_questions)
    study = Study(title=title.strip(), description=description.strip(),
                  research_questions=research_questions.strip(), listed=listed, blind=blind,
                  created_by=actor, slug=unique_slug(Study, title))
    study.full_clean()
    study.save()
    study.outputs.set(outputs)
    StudyMember.objects.create(study=study, user=actor, role=Role.LEAD, added_by=actor)
    policy.forget_study_roles(actor)
    audit_record(actor=actor, action="research.study.create", target=study, study=study.pk)
    return study


@transaction.atomic
def study_update(*, actor: User, study: Study, outputs=None, **fields) -> Study:
    _no_nul(**fields)
    changed = []
    for name in STUDY_FIELDS:
        if name in fields:
            value = fields[name]
            value = value.strip() if isinstance(value, str) else value
            if getattr(study, name) != value:
                setattr(study, name, value)
                changed.append(name)
    study.full_clean()
    study.save()
    if outputs is not None:
        study.outputs.set(outputs)
        changed.append("outputs")
    audit_record(actor=actor, action="research.study.edit", target=study, study=study.pk,
                 fields=changed)
    return study


@transaction.atomic
def study_archive(*, actor: User, study: Study, archived: bool = True) -> Study:
    study.status = Study.Status.ARCHIVED if archived else Study.Status.ACTIVE
    study.save(update_fields=["status", "modified"])
    audit_record(actor=actor, action="research.study.archive" if archived
                 else "research.study.reopen", target=study, study=study.pk)
    return study


# --- The team ----------------------------------------------------------------------------------

@transaction.atomic
def team_add(*, actor: User, study: Study, email: str, role: str) -> StudyMember:
    if role not in Role.values:
        raise ValidationError({"role": "Choose lead, coder or viewer."})
    user = User.objects.filter(email__iexact=email.strip()).first()
    if user is None or not policy.is_member(user):
        raise ValidationError({"email": "No member of the hub has this address. People must "
                                        "join the hub before they can join a study."})
    if StudyMember.objects.filter(study=study, user=user).exists():
        raise ValidationError({"email": "This person is already in the team."})
    member = StudyMember.objects.create(study=study, user=user, role=role, added_by=actor)
    policy.forget_study_roles(user)
    audit_record(actor=actor, action="research.team.add", target=study, study=study.pk,
                 member=user.pk, role=role)
    return member


def _leads(study: Study) -> int:
    return StudyMember.objects.filter(study=study, role=Role.LEAD).count()


@transaction.atomic
def team_change(*, actor: User, member: StudyMember, role: str) -> StudyMember:
    if role not in Role.values:
        raise ValidationError("Choose lead, coder or viewer.")
    StudyMember.objects.select_for_update().filter(study=member.study_id).exists()
    if member.role == Role.LEAD and role != Role.LEAD and _leads(member.study) <= 1:
        raise ValidationError("A study needs at least one lead. Make someone else lead first.")
    before, member.role = member.role, role
    member.save(update_fields=["role"])
    policy.forget_study_roles(member.user)
    audit_record(actor=actor, action="research.team.role", target=member.study,
                 study=member.study_id, member=member.user_id, role=role, before=before)
    return member


@transaction.atomic
def team_remove(*, actor: User, member: StudyMember) -> None:
    StudyMember.objects.select_for_update().filter(study=member.study_id).exists()
    if member.role == Role.LEAD and _leads(member.study) <= 1:
        raise ValidationError("A study needs at least one lead. Make someone else lead before "
                              "this person leaves.")
    study, user_id = member.study, member.user_id
    member.delete()
    policy.forget_study_roles(member.user)
    audit_record(actor=actor, action="research.team.remove", target=study, study=study.pk,
                 member=user_id)


# --- Participants ------------------------------------------------------------------------------

def _check_identifying(study: Study, *, code: str, location: str, attributes: dict,
                       exclude_pk=None) -> None:
    registry, _ = registry_load(study)
    if not any(ch.isdigit() for ch in code):
        raise ValidationError({"code": "A code needs at least one digit (such as P07 or YP-3), "
                                       "so that it can never be someone's name or initials."})
    if registry.lookup(code) is not None:
        raise ValidationError({"code": "This code is a name registered for the study. Choose a "
                                       "code that is not a name, such as P07."})
    if Participant.objects.filter(study=study, code__iexact=code).exclude(pk=exclude_pk).exists():
        raise ValidationError({"code": f"The study already has a participant {code}. Each code "
                                       f"is used once."})
    if location and registry.lookup(location) is not None:
        raise ValidationError({"location": "This is a name registered for the study. Give a "
                                           "broad area instead (a city or region)."})
    for key, value in attributes.items():
        if registry.lookup(str(value)) is not None or registry.lookup(key) is not None:
            raise ValidationError({"attributes": f"The attribute {key!r} holds a name "
                                                 f"registered for the study."})


PARTICIPANT_FIELDS = ("code", "group", "location", "attributes", "consent_date",
                      "consent_quotation", "consent_archiving", "consent_sharing")


def _participant_save(*, actor, study, participant, sharing_partners, fields, action):
    _no_nul(**{k: v for k, v in fields.items() if isinstance(v, str)})
    attributes = fields.get("attributes") or {}
    if any("\x00" in str(k) + str(v) for k, v in attributes.items()):
        raise ValidationError({"attributes": "Remove the NUL character (\\0)."})
    fields["code"] = fields["code"].strip()
    _check_identifying(study, code=fields["code"], location=fields.get("location", ""),
                       attributes=attributes, exclude_pk=participant.pk)
    for name in PARTICIPANT_FIELDS:
        if name in fields:
            setattr(participant, name, fields[name])
    if not participant.consent_sharing:
        sharing_partners = []
    participant.full_clean(exclude=["study"])
    participant.save()
    participant.sharing_partners.set(sharing_partners or [])
    audit_record(actor=actor, action=action, target=participant, study=study.pk)
    return participant


@transaction.atomic
def participant_create(*, actor: User, study: Study, sharing_partners=(), **fields) -> Participant:
    return _participant_save(actor=actor, study=study, participant=Participant(study=study),
                             sharing_partners=sharing_partners, fields=fields,
                             action="research.participant.add")


@transaction.atomic
def participant_update(*, actor: User, participant: Participant, sharing_partners=(),
                       **fields) -> Participant:
    return _participant_save(actor=actor, study=participant.study, participant=participant,
                             sharing_partners=sharing_partners, fields=fields,
                             action="research.participant.edit")


@transaction.atomic
def participant_delete(*, actor: User, participant: Participant) -> None:
    """Remove a participant; their speaker turns stay, attributed to no one."""
    study = participant.study
    audit_record(actor=actor, action="research.participant.remove", target=participant,
                 study=study.pk)
    participant.delete()


# --- Sources -----------------------------------------------------------------------------------

def title_check(study: Study, title: str) -> None:
    """A source's title is stored and logged as typed: refuse one holding a registered name or
    a contact detail."""
    registry, _ = registry_load(study)
    found = [p for p in pseudonymise.propose(title, registry)
             if p.source in ("registered", "pattern")]
    if found:
        raise ValidationError({"title": "This title holds a name registered for the study or a "
                                        "contact detail. Give a neutral title such as "
                                        "“Interview 4” or “Focus group, young people”."})


def review_build(*, study: Study, text: str, rejected: set[str], marks: list[tuple[str, str]]):
    """The proposals for a transcript under review, with marked spans, and the preview text.

    Returns (registry, proposals, accepted, preview). Nothing is saved: the registry's
    reserved labels are kept only when the source is confirmed.
    """
    registry, tied = registry_load(study)
    proposals = importing.propose(text, registry, tied)
    # A span marked by hand wins over a proposal the researcher declined there
    kept = [p for p in proposals if importing.proposal_key(p) not in rejected]
    extra = importing.marked(text, marks, registry, kept)
    proposals = [p for p in proposals if p in kept or not any(
        p.start < m.end and m.start < p.end for m in extra)] + extra
    proposals.sort(key=lambda p: p.start)
    accepted = [p for p in proposals if importing.proposal_key(p) not in rejected]
    return registry, proposals, accepted, pseudonymise.apply(text, accepted)


def _auto_participant(study: Study, label: str):
    return Participant.objects.filter(study=study,
                                      code__iexact=importing.code_of_label(label)).first()


@transaction.atomic
def source_confirm(*, actor: User, study: Study, title: str, kind: str, origin: str, text: str,
                   rejected: set[str], marks: list[tuple[str, str]],
                   speakers: dict[str, int | None]) -> Source:
    """Store the pseudonymised text of a reviewed transcript, and its speaker turns.

    ``text`` is the original as the review form carried it; it is used here and dropped.
    ``speakers`` maps a speaker label of the pseudonymised text to a participant's id (None:
    nobody); labels it does not name go to the participant whose code they are, if any.
    """
    study = Study.objects.select_for_update().get(pk=study.pk)
    if not policy.can_curate_study(actor, study):
        raise ValidationError("This study is archived: nothing can be imported.")
    _no_nul(title=title)
    title_check(study, title)
    text = importing.clean_text(text)
    registry, _proposals, accepted, stored = review_build(study=study, text=text,
                                                          rejected=rejected, marks=marks)
    source = Source(study=study, title=title.strip(), kind=kind, origin=origin, text=stored,
                    word_count=importing.word_count(stored), replacements=len(accepted),
                    created_by=actor)
    source.full_clean(exclude=["study", "text"])
    source.save()
    participants = {p.pk: p for p in study.participants.all()}
    turns = []
    for turn in importing.speaker_turns(stored):
        if turn.speaker in speakers:
            participant = participants.get(speakers[turn.speaker])
        else:
            participant = _auto_participant(study, turn.speaker)
        turns.append(SpeakerTurn(source=source, start=turn.start, end=turn.end,
                                 speaker=turn.speaker, participant=participant))
    SpeakerTurn.objects.bulk_create(turns, batch_size=500)
    # The registry keeps the labels handed out for this source, and names marked by hand
    _registry_save(study, registry)
    audit_record(actor=actor, action="research.source.import", target=source, study=study.pk,
                 replacements=len(accepted), words=source.word_count, turns=len(turns))
    return source


def source_open(*, actor: User, source: Source) -> None:
    """Record that someone opened a transcript (every opening, by every page that shows one)."""
    audit_record(actor=actor, action="research.source.open", target=source,
                 study=source.study_id)


@transaction.atomic
def source_update(*, actor: User, source: Source, title: str, kind: str,
                  speakers: dict[str, int | None]) -> Source:
    """Change a source's title and kind, and who each speaker label is."""
    _no_nul(title=title)
    if title.strip() != source.title:
        title_check(source.study, title)
    source.title, source.kind = title.strip(), kind
    source.full_clean(exclude=["study", "text"])
    source.save(update_fields=["title", "kind"])
    participants = {p.pk: p for p in source.study.participants.all()}
    for label, pk in speakers.items():
        source.turns.filter(speaker=label).update(participant=participants.get(pk))
    audit_record(actor=actor, action="research.source.edit", target=source,
                 study=source.study_id)
    return source


@transaction.atomic
def source_delete(*, actor: User, source: Source) -> None:
    """Delete a source with its turns, codings and memos."""
    audit_record(actor=actor, action="research.source.delete", target=source,
                 study=source.study_id)
    source.delete()
