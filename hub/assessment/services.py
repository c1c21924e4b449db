"""Every change to assessments goes through a function here. Each checks the policy again.

The audit trail records what facilitators and staff do (opening and closing rounds, inviting,
making links, reminding, publishing an instrument). It never records a respondent's answers or
when a particular response was made.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from hub import policy
from hub.assessment import instrument as instrument_data
from hub.assessment import scoring
from hub.assessment.models import (
    Answer,
    ContextEvent,
    Initiative,
    Instrument,
    Perspective,
    Programme,
    Response,
    ResponseLink,
    Round,
    RoundInvitation,
    new_token,
    token_hash,
)
from hub.core.identifiers import contact_details
from hub.core.services import audit_record, email_queue
from hub.members.models import Organisation, User

MAX_LINKS_AT_ONCE = 200
PERSPECTIVES = dict(Perspective.choices)
REMINDER_GAP = timezone.timedelta(hours=20)


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _log(actor, action: str, target, organisation=None, **context):
    return audit_record(actor=actor, action=f"assessment.{action}", target=target,
                        organisation=organisation, **context)


# --- Instruments ----------------------------------------------------------------------------

def load_repository_instruments() -> list[Instrument]:
    """Store every instrument version kept in the repository that is not stored yet."""
    stored = set(Instrument.objects.values_list("version", flat=True))
    added = []
    for path in sorted(instrument_data.FOLDER.glob("v*.yaml"),
                       key=lambda p: int(p.stem[1:])):
        version = int(path.stem[1:])
        if version in stored:
            continue
        data, text = instrument_data.read(version)
        added.append(Instrument.objects.create(
            version=version, title=data["title"], data=data, source=text))
    return added


def current_instrument() -> Instrument:
    latest = Instrument.objects.order_by("-version").first()
    if latest is None:
        load_repository_instruments()
        latest = Instrument.objects.order_by("-version").first()
    return latest


@transaction.atomic
def publish_instrument(actor, text: str) -> Instrument:
    """Publish a new version written in YAML. New rounds use it; rounds already open keep
    theirs."""
    _require(policy.can_publish_instrument(actor))
    data = instrument_data.parse(text)
    latest = current_instrument()
    if data["version"] <= latest.version:
        raise ValidationError(
            f"The version must be higher than the current one ({latest.version}).")
    try:
        with transaction.atomic():
            instrument = Instrument.objects.create(
                version=data["version"], title=data["title"], data=data, source=text,
                published_by=actor)
    except IntegrityError as error:
        raise ValidationError("That version has just been published by someone else.") \
            from error
    _log(actor, "instrument_published", instrument, version=instrument.version)
    return instrument


# --- Initiatives and programmes -------------------------------------------------------------

def _check_lead(actor, organisation: Organisation) -> None:
    allowed = policy.lead_organisation_ids(actor)
    if allowed is not None and organisation.pk not in allowed:
        raise ValidationError({"lead_organisation":
                               "You can only name an organisation you belong to as the lead."})


@transaction.atomic
def create_initiative(actor, *, partner_organisations=(), **fields) -> Initiative:
    _require(policy.can_create_initiative(actor))
    _check_lead(actor, fields["lead_organisation"])
    initiative = Initiative(created_by=actor, **fields)
    initiative.full_clean()
    initiative.save()
    initiative.partner_organisations.set(partner_organisations)
    initiative.facilitators.add(actor)
    _log(actor, "initiative_created", initiative, initiative.lead_organisation)
    return initiative


@transaction.atomic
def update_initiative(actor, initiative: Initiative, *, partner_organisations=None,
                      **fields) -> Initiative:
    _require(policy.can_manage_initiative(actor, initiative))
    if "lead_organisation" in fields and \
            fields["lead_organisation"].pk != initiative.lead_organisation_id:
        _check_lead(actor, fields["lead_organisation"])
    for name, value in fields.items():
        setattr(initiative, name, value)
    initiative.full_clean()
    initiative.save()
    if partner_organisations is not None:
        initiative.partner_organisations.set(partner_organisations)
    return initiative


def add_facilitator(actor, initiative: Initiative, email: str) -> User:
    _require(policy.can_manage_initiative(actor, initiative))
    person = User.objects.filter(email__iexact=email.strip(), is_active=True,
                                 standing=User.Standing.MEMBER).first()
    if person is None:
        raise ValidationError({"email": "No member of the hub has that address."})
    initiative.facilitators.add(person)
    _log(actor, "facilitator_added", initiative, initiative.lead_organisation,
         user=person.pk)
    return person


def remove_facilitator(actor, initiative: Initiative, person: User) -> None:
    _require(policy.can_manage_initiative(actor, initiative))
    if initiative.facilitators.count() <= 1:
        raise ValidationError("An initiative needs at least one facilitator.")
    initiative.facilitators.remove(person)
    _log(actor, "facilitator_removed", initiative, initiative.lead_organisation,
         user=person.pk)


def add_context_event(actor, initiative: Initiative, **fields) -> ContextEvent:
    _require(policy.can_manage_initiative(actor, initiative))
    event = ContextEvent(initiative=initiative, added_by=actor, **fields)
    event.full_clean()
    event.save()
    return event


def delete_context_event(actor, event: ContextEvent) -> None:
    _require(policy.can_manage_initiative(actor, event.initiative))
    event.delete()


@transaction.atomic
def save_programme(actor, programme: Programme | None, *, initiatives=(), **fields) -> Programme:
    if programme is None:
        _require(policy.is_member(actor))
        allowed = policy.lead_organisation_ids(actor)
        if allowed is not None and fields["organisation"].pk not in allowed:
            raise ValidationError({"organisation": "Choose an organisation you belong to."})
        programme = Programme(created_by=actor)
    else:
        _require(policy.can_manage_programme(actor, programme))
    for name, value in fields.items():
        setattr(programme, name, value)
    programme.full_clean()
    programme.save()
    visible = policy.visible_initiatives(actor, Initiative.objects.all())
    programme.initiatives.set(visible.filter(pk__in=[i.pk for i in initiatives]))
    return programme


# --- Rounds ---------------------------------------------------------------------------------

@transaction.atomic
def open_round(actor, initiative: Initiative, **fields) -> Round:
    _require(policy.can_manage_initiative(actor, initiative))
    round_ = Round(initiative=initiative, instrument=current_instrument(), created_by=actor,
                   **fields)
    round_.full_clean()
    if round_.closes_at <= round_.opens_at:
        raise ValidationError({"closes_at": "The round must close after it opens."})
    if round_.closes_at <= timezone.now():
        raise ValidationError({"closes_at": "The closing time is already past."})
    round_.save()
    _log(actor, "round_opened", round_, initiative.lead_organisation,
         instrument=round_.instrument.version)
    return round_


@transaction.atomic
def close_round(actor, round_: Round) -> None:
    _require(policy.can_manage_initiative(actor, round_.initiative))
    if round_.state == "closed":
        return
    round_.closed_early_at = timezone.now()
    round_.save(update_fields=["closed_early_at"])
    _log(actor, "round_closed", round_, round_.initiative.lead_organisation)


def _respond_url(round_: Round) -> str:
    return settings.SITE_URL + reverse("assessment:respond", args=[round_.pk])


def _mail(people, *, subject: str, template: str, context: dict) -> None:
    body = render_to_string(template, {"site_url": settings.SITE_URL, **context})
    for person in people:
        email_queue(subject=settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + subject, body=body,
                    to=[person.email], from_email=settings.DEFAULT_FROM_EMAIL)


@dataclass
class Invited:
    invited: list[User]
    already: list[User]
    unknown: list[str]


@transaction.atomic
def invite_members(actor, round_: Round, addresses: list[str]) -> Invited:
    _require(policy.can_manage_initiative(actor, round_.initiative))
    if round_.state == "closed":
        raise ValidationError("This round has closed.")
    wanted = {address.strip().lower() for address in addresses if address.strip()}
    people = {person.email.lower(): person for person in User.objects.filter(
        email__in=wanted, is_active=True, standing=User.Standing.MEMBER)}
    # Emails are stored as given; match the rest without regard to case.
    for address in wanted - set(people):
        person = User.objects.filter(email__iexact=address, is_active=True,
                                     standing=User.Standing.MEMBER).first()
        if person:
            people[address] = person
    existing = set(round_.invitations.values_list("user_id", flat=True))
    result = Invited([], [], sorted(wanted - set(people)))
    for person in people.values():
        if person.pk in existing:
            result.already.append(person)
            continue
        RoundInvitation.objects.create(round=round_, user=person, invited_by=actor)
        result.invited.append(person)
    _mail(result.invited, subject=f"Your view of {round_.initiative}",
          template="assessment/email/invitation.txt",
          context={"round": round_, "url": _respond_url(round_)})
    if result.invited:
        _log(actor, "members_invited", round_, round_.initiative.lead_organisation,
             count=len(result.invited))
    return result


@transaction.atomic
def create_links(actor, round_: Round, count: int) -> list[str]:
    """Make ``count`` private single-use links. The tokens are returned once and never
    stored."""
    _require(policy.can_manage_initiative(actor, round_.initiative))
    if round_.state == "closed":
        raise ValidationError("This round has closed.")
    if not 1 <= count <= MAX_LINKS_AT_ONCE:
        raise ValidationError(f"Make between 1 and {MAX_LINKS_AT_ONCE} links at a time.")
    tokens = []
    for _ in range(count):
        token, digest = new_token()
        ResponseLink.objects.create(round=round_, token_hash=digest, created_by=actor)
        tokens.append(token)
    _log(actor, "links_created", round_, round_.initiative.lead_organisation, count=count)
    return tokens


def withdraw_unused_links(actor, round_: Round) -> int:
    _require(policy.can_manage_initiative(actor, round_.initiative))
    count = round_.links.filter(used=False, revoked_at=None).update(revoked_at=timezone.now())
    if count:
        _log(actor, "links_withdrawn", round_, round_.initiative.lead_organisation, count=count)
    return count


@transaction.atomic
def send_reminders(actor, round_: Round) -> int:
    """Remind invited members who have not submitted. At most once in 20 hours."""
    _require(policy.can_manage_initiative(actor, round_.initiative))
    round_ = Round.objects.select_for_update().get(pk=round_.pk)
    if not round_.is_open():
        raise ValidationError("Reminders can only be sent while the round is open.")
    if round_.reminded_at and timezone.now() - round_.reminded_at < REMINDER_GAP:
        raise ValidationError("A reminder went out less than a day ago. Please wait before "
                              "sending another.")
    submitted = round_.responses.filter(submitted_at__isnull=False).values("user_id")
    people = list(User.objects.filter(
        round_invitations__round=round_, is_active=True).exclude(pk__in=submitted))
    _mail(people, subject=f"Reminder: your view of {round_.initiative}",
          template="assessment/email/reminder.txt",
          context={"round": round_, "url": _respond_url(round_)})
    round_.reminded_at = timezone.now()
    round_.save(update_fields=["reminded_at"])
    _log(actor, "reminders_sent", round_, round_.initiative.lead_organisation,
         count=len(people))
    return len(people)


# --- Responding -----------------------------------------------------------------------------

def _check_perspective(perspective: str) -> None:
    from hub.assessment.models import Perspective

    if perspective not in Perspective.values:
        raise ValidationError({"perspective": "Choose the perspective you answer from."})


@transaction.atomic
def start_member_response(actor, round_: Round, perspective: str) -> Response:
    _require(policy.can_respond(actor, round_))
    _check_perspective(perspective)
    response, created = Response.objects.get_or_create(
        round=round_, user=actor, defaults={"perspective": perspective})
    if not created and response.perspective != perspective:
        response.perspective = perspective
        response.save(update_fields=["perspective"])
        if response.submitted_at:
            retally(round_)
    return response


def link_for(token: str) -> ResponseLink | None:
    return ResponseLink.objects.select_related("round__initiative").filter(
        token_hash=token_hash(token)).first()


@transaction.atomic
def start_link_response(token: str, perspective: str) -> tuple[Response, str]:
    """Spend a private link and open a response with it. Returns the response and the key the
    respondent keeps to come back to it. The response is not tied to the link."""
    _check_perspective(perspective)
    link = ResponseLink.objects.select_for_update().filter(
        token_hash=token_hash(token)).select_related("round").first()
    if link is None or link.revoked_at or link.used:
        raise PermissionDenied
    if not link.round.is_open():
        raise ValidationError("This round is not open for answers.")
    link.used = True
    link.save(update_fields=["used"])
    key, digest = new_token()
    response = Response.objects.create(round=link.round, perspective=perspective,
                                       resume_hash=digest)
    return response, key


def response_for_key(key: str) -> Response | None:
    return Response.objects.select_related("round__instrument", "round__initiative").filter(
        resume_hash=token_hash(key)).first()


@dataclass
class Saved:
    answer: Answer | None
    note_held_back: list[str]


def _note_problems(note: str) -> list[str]:
    found = contact_details(note)
    return sorted({kind for kind, _ in found})


@transaction.atomic
def save_answer(actor, response: Response, indicator: str, *, value=None, dont_know=False,
                note: str = "", resource=None, coding=None,
                resume_key: str | None = None) -> Saved:
    """Save one answer as soon as it is given. A note that holds an email address or a phone
    number is not stored: the rest of the answer is, and the person is asked to remove it."""
    _require(policy.can_answer(actor, response, resume_key))
    if indicator not in response.round.instrument.indicators:
        raise ValidationError({"indicator": "That question is not part of this round."})
    if value in ("", None):
        value = None
    else:
        try:
            value = int(value)
        except (TypeError, ValueError):
            raise ValidationError({"value": "Choose a point on the scale."}) from None
        if not 1 <= value <= 5:
            raise ValidationError({"value": "Choose a point on the scale."})
    if dont_know:
        value = None
    note = (note or "").strip()
    if len(note) > 2000:
        raise ValidationError({"note": "Please keep the note under 2,000 characters."})
    held_back = _note_problems(note)
    if resource is not None:
        from hub.library.models import Resource

        viewer = actor if response.user_id else None
        if not policy.visible_resources(viewer, Resource.objects.filter(pk=resource.pk)).exists():
            raise ValidationError({"resource": "That library item cannot be found."})
    if coding is not None and not (response.user_id and policy.can_view_coding(actor, coding)):
        raise ValidationError({"coding": "That coded passage cannot be found."})
    answer = Answer.objects.filter(response=response, indicator=indicator).first()
    if answer is None:
        answer = Answer(response=response, indicator=indicator)
    answer.value = value
    answer.dont_know = bool(dont_know)
    if not held_back:
        answer.note = note
    answer.resource = resource
    answer.coding = coding
    if answer.value is None and not answer.dont_know and not answer.note \
            and answer.resource is None and answer.coding is None:
        if answer.pk:
            answer.delete()
        answer = None
    else:
        answer.save()
    if response.submitted_at:
        retally(response.round)
    return Saved(answer, held_back)


@transaction.atomic
def submit_response(actor, response: Response, resume_key: str | None = None) -> None:
    _require(policy.can_answer(actor, response, resume_key))
    if not response.answers.exists():
        raise ValidationError("Answer at least one question before you send your answers.")
    if response.submitted_at is None:
        response.submitted_at = timezone.now()
        response.save(update_fields=["submitted_at"])
    retally(response.round)


def retally(round_: Round) -> dict:
    """Sum the round's submitted answers by perspective and indicator, with the round locked so
    two submissions at once cannot overwrite each other's count."""
    round_ = Round.objects.select_for_update().select_related("instrument").get(pk=round_.pk)
    submitted = Q(response__round=round_, response__submitted_at__isnull=False)
    tally: dict[str, dict] = {}
    respondents = (Response.objects.filter(round=round_, submitted_at__isnull=False)
                   .values("perspective").annotate(n=Count("pk")))
    for row in respondents:
        tally[row["perspective"]] = {"n": row["n"], "items": {}}
    rows = (Answer.objects.filter(submitted)
            .values("response__perspective", "indicator")
            .annotate(total=Sum("value"), answered=Count("value"),
                      unknown=Count("pk", filter=Q(dont_know=True))))
    for row in rows:
        entry = tally[row["response__perspective"]]
        entry["items"][row["indicator"]] = [row["total"] or 0, row["answered"], row["unknown"]]
    round_.tally = tally
    round_.summary = scoring.group_round(tally, round_.instrument.data,
                                         min_group=round_.min_group, labels=PERSPECTIVES)
    round_.save(update_fields=["tally", "summary"])
    return tally
