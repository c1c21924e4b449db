"""Every change to consultations and concerns goes through a function here, and each asks the
policy again.

A consultation starts as a draft; opening it sets ``opened_at`` (once) and it takes responses
until its closing date, when it closes by itself (nothing has to run: "closed" is an open
consultation whose date has passed). Its questions are fixed once it has opened, so every
response answers the same ones. After the closing date the organisation publishes what it did
("you said, we did"); the first publication tells each respondent by mail. Withdrawing is
final.

A concern is addressed to one organisation. Its first answer from that organisation sets
``answered_at``, the figure behind the organisation's record; the author may follow up and
either side may close it. Moderators may remove a public concern, giving a reason: it leaves
public view but stays with its author and the organisation.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from hub import policy
from hub.community import markdown
from hub.community.models import (
    Concern,
    ConcernReply,
    Consultation,
    ConsultationAnswer,
    ConsultationChange,
    ConsultationQuestion,
    ConsultationResponse,
)
from hub.core.services import audit_record, email_queue, unique_slug
from hub.members.models import Membership, Sector, User

RESERVED_SLUGS = {"new"}
MAX_QUESTIONS = 20
QUESTION_LENGTH = 500
CONSULTATION_FIELDS = {"organisation", "title", "summary", "body_markdown", "audience",
                       "audience_organisations", "closes_at", "questions", "open_now"}
Status = Consultation.Status


@dataclass(frozen=True)
class QuestionSpec:
    text: str
    required: bool = False


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def refuse_nul(**values) -> None:
    """PostgreSQL refuses NUL characters; so do we, with a message beside the field."""
    bad = {name: "Null characters are not allowed." for name, value in values.items()
           if isinstance(value, str) and "\x00" in value}
    if bad:
        raise ValidationError(bad)



def _log(actor, action: str, target, organisation=None, **context):
    return audit_record(actor=actor, action=f"community.{action}", target=target,
                        organisation=organisation, **context)


def _mail(subject: str, template: str, context: dict, to: list[str]) -> None:
    body = render_to_string(template, context)
    email_queue(subject=settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + subject, body=body, to=to,
                from_email=settings.DEFAULT_FROM_EMAIL)


def _url(obj) -> str:
    return settings.SITE_URL + obj.get_absolute_url()


def is_closed(consultation: Consultation, now=None) -> bool:
    return (consultation.status == Status.OPEN
            and consultation.closes_at <= (now or timezone.now()))


# --- Consultations ----------------------------------------------------------------------------

def _check_questions(questions) -> list[QuestionSpec]:
    questions = [QuestionSpec(q.text.strip(), bool(q.required)) for q in questions
                 if q.text.strip()]
    if not questions:
        raise ValidationError({"questions": "Ask at least one question."})
    if len(questions) > MAX_QUESTIONS:
        raise ValidationError({"questions": f"Ask at most {MAX_QUESTIONS} questions "
                                            f"(there are {len(questions)})."})
    for n, question in enumerate(questions, 1):
        if len(question.text) > QUESTION_LENGTH:
            raise ValidationError({"questions": f"Question {n} is longer than "
                                                f"{QUESTION_LENGTH} characters."})
        refuse_nul(questions=question.text)
    return questions


def _apply(actor, consultation: Consultation, fields: dict, *, creating: bool) -> None:
    unknown = set(fields) - CONSULTATION_FIELDS
    if unknown:
        raise TypeError(f"unexpected fields: {sorted(unknown)}")
    refuse_nul(**fields)
    questions = fields.pop("questions", None)
    named = fields.pop("audience_organisations", None)
    open_now = fields.pop("open_now", False)
    organisation_before = None if creating else consultation.organisation_id
    closes_before = None if creating else consultation.closes_at
    for name, value in fields.items():
        setattr(consultation, name, value)
    consultation.body_html = markdown.render(consultation.body_markdown)
    errors = {}
    if consultation.organisation_id != organisation_before and (
            consultation.organisation_id not in policy.consultation_organisation_ids(actor)):
        errors["organisation"] = "Choose a partner organisation you open consultations for."
    named = set(named) if named is not None else (
        set() if creating else set(consultation.audience_organisations.all()))
    if consultation.audience != Consultation.Audience.ORGANISATIONS:
        named = set()
    elif not named:
        errors["audience_organisations"] = ("Name at least one organisation, or choose "
                                            "another audience.")
    now = timezone.now()
    opening = open_now and consultation.status == Status.DRAFT
    if consultation.closes_at and consultation.closes_at <= now and (
            opening or consultation.closes_at != closes_before):
        errors["closes_at"] = "Choose a closing date in the future."
    if questions is not None and consultation.status != Status.DRAFT:
        errors["questions"] = "Questions cannot change once the consultation has opened."
    try:
        specs = _check_questions(questions) if questions is not None else None
    except ValidationError as error:
        errors.update(error.message_dict)
        specs = None
    if errors:
        raise ValidationError(errors)
    if opening:
        consultation.status = Status.OPEN
        consultation.opened_at = consultation.opened_at or now
    consultation.full_clean(exclude=["slug"])
    consultation.save()
    consultation.audience_organisations.set(named)
    if specs is not None:
        consultation.questions.all().delete()
        ConsultationQuestion.objects.bulk_create(
            ConsultationQuestion(consultation=consultation, position=n, text=q.text,
                                 required=q.required) for n, q in enumerate(specs, 1))
    if creating or opening:
        if not consultation.questions.exists():
            raise ValidationError({"questions": "Ask at least one question."})


@transaction.atomic
def consultation_create(*, actor, **fields) -> Consultation:
    _require(policy.can_open_consultations(actor))
    consultation = Consultation(created_by=actor, slug=unique_slug(
        Consultation, fields.get("title", ""), reserved=RESERVED_SLUGS))
    _apply(actor, consultation, dict(fields), creating=True)
    _log(actor, "consultation_created", consultation, consultation.organisation,
         status=consultation.status, audience=consultation.audience)
    return consultation


@transaction.atomic
def consultation_update(*, actor, consultation: Consultation, **fields) -> Consultation:
    _require(policy.can_manage_consultation(actor, consultation))
    consultation = Consultation.objects.select_for_update().get(pk=consultation.pk)
    if consultation.status == Status.WITHDRAWN:
        raise ValidationError("This consultation has been withdrawn and can no longer change.")
    was_draft = consultation.status == Status.DRAFT
    _apply(actor, consultation, dict(fields), creating=False)
    _log(actor, "consultation_updated", consultation, consultation.organisation,
         status=consultation.status, audience=consultation.audience,
         opened=was_draft and consultation.status == Status.OPEN)
    return consultation


def consultation_open(*, actor, consultation: Consultation) -> Consultation:
    return consultation_update(actor=actor, consultation=consultation, open_now=True)


@transaction.atomic
def consultation_withdraw(*, actor, consultation: Consultation) -> Consultation:
    _require(policy.can_manage_consultation(actor, consultation))
    consultation = Consultation.objects.select_for_update().get(pk=consultation.pk)
    if consultation.status == Status.WITHDRAWN:
        raise ValidationError("This consultation has already been withdrawn.")
    consultation.status = Status.WITHDRAWN
    consultation.save(update_fields=["status", "modified"])
    _log(actor, "consultation_withdrawn", consultation, consultation.organisation)
    return consultation


def _answers_for(consultation, answers: dict) -> dict:
    """Check the answers against the questions: every required one answered, none too long,
    no NUL; returns {question: text} for the questions answered."""
    questions = list(consultation.questions.all())
    errors, kept = {}, {}
    for question in questions:
        text = (answers.get(question.pk) or "").strip()
        field = f"q{question.pk}"
        if "\x00" in text:
            errors[field] = "Null characters are not allowed."
        elif len(text) > 6000:
            errors[field] = f"Keep this answer under 6000 characters (it has {len(text)})."
        elif question.required and not text:
            errors[field] = "This question needs an answer."
        elif text:
            kept[question] = text
    unknown = set(answers) - {q.pk for q in questions}
    if unknown:
        raise ValidationError("Those answers are for questions this consultation does not ask.")
    if errors:
        raise ValidationError(errors)
    if not kept:
        raise ValidationError("Answer at least one question.")
    return kept


@transaction.atomic
def response_save(*, actor, consultation: Consultation, answers: dict,
                  show_name: bool = False) -> ConsultationResponse:
    """Create or replace this member's response. ``answers`` maps question ids to text."""
    consultation = Consultation.objects.select_for_update().get(pk=consultation.pk)
    if not policy.can_view_consultation(actor, consultation):
        raise PermissionDenied
    if not policy.can_respond_consultation(actor, consultation):
        raise ValidationError("This consultation is not taking responses: it has closed "
                              "or is not open to you. Nothing was saved.")
    kept = _answers_for(consultation, answers)
    sector = getattr(getattr(actor, "profile", None), "sector", "") or Sector.OTHER
    response = ConsultationResponse.objects.filter(consultation=consultation,
                                                   respondent=actor).first()
    created = response is None
    if created:
        try:
            with transaction.atomic():
                response = ConsultationResponse.objects.create(
                    consultation=consultation, respondent=actor, sector=sector,
                    show_name=bool(show_name))
        except IntegrityError:  # a second tab got there first: update that one
            response = ConsultationResponse.objects.get(consultation=consultation,
                                                        respondent=actor)
            created = False
    if not created:
        response.show_name = bool(show_name)
        response.sector = sector
        response.save()
    response.answers.exclude(question__in=list(kept)).delete()
    for question, text in kept.items():
        ConsultationAnswer.objects.update_or_create(response=response, question=question,
                                                    defaults={"text": text})
    # Recorded without the respondent: the organisation's admins read this trail, and they
    # see a name only where the respondent chose to give it.
    _log(None, "consultation_responded", consultation, consultation.organisation,
         created=created)
    return response


@dataclass(frozen=True)
class ChangeSpec:
    you_said: str
    we_did: str
    why: str = ""


@transaction.atomic
def outcome_publish(*, actor, consultation: Consultation, summary: str,
                    changes: list[ChangeSpec]) -> Consultation:
    """Publish (or correct) "you said, we did" after the closing date. The first publication
    mails each respondent the link."""
    _require(policy.can_manage_consultation(actor, consultation))
    consultation = Consultation.objects.select_for_update().get(pk=consultation.pk)
    if not is_closed(consultation):
        raise ValidationError("The outcome can be published once the consultation has closed.")
    summary = (summary or "").strip()
    refuse_nul(outcome_summary=summary)
    changes = [c for c in changes if c.you_said.strip() or c.we_did.strip()]
    for change in changes:
        refuse_nul(changes=change.you_said + change.we_did + change.why)
        if not (change.you_said.strip() and change.we_did.strip()):
            raise ValidationError({"changes": "Each line needs both what people said and "
                                              "what you did."})
    if not summary and not changes:
        raise ValidationError({"outcome_summary": "Say what you did: a summary, or at least "
                                                  "one “you said, we did” line."})
    first = consultation.outcome_published_at is None
    consultation.outcome_summary = summary
    if first:
        consultation.outcome_published_at = timezone.now()
    consultation.full_clean(exclude=["slug"])
    consultation.save()
    consultation.changes.all().delete()
    made = [ConsultationChange(consultation=consultation, position=n, you_said=c.you_said.strip(),
                               we_did=c.we_did.strip(), why=c.why.strip())
            for n, c in enumerate(changes, 1)]
    for change in made:
        change.full_clean(exclude=["consultation"])
    ConsultationChange.objects.bulk_create(made)
    told = _tell_respondents(consultation) if first else 0
    _log(actor, "consultation_outcome", consultation, consultation.organisation,
         changes=len(made), first=first, told=told)
    return consultation


def _tell_respondents(consultation: Consultation) -> int:
    people = User.objects.filter(
        is_active=True, pk__in=consultation.responses.values("respondent_id")).order_by("pk")
    context = {"consultation": consultation, "url": _url(consultation)}
    told = 0
    for person in people:
        _mail(f"What came of: {consultation.title}", "community/email/consultation_outcome.txt",
              context, [person.email])
        told += 1
    return told


# --- Concerns ---------------------------------------------------------------------------------

def _recorded_actor(actor, concern: Concern):
    """The author's own steps go into the audit trail without their account: the trail is read
    by staff and the organisation's admins, and a concern must not lead back to a person who
    chose not to be named (the organisation's answers keep their author)."""
    return None if actor.pk == concern.author_id else actor


def _body(text: str, field: str, limit: int = 8000) -> str:
    text = (text or "").strip()
    refuse_nul(**{field: text})
    if not text:
        raise ValidationError({field: "Write something first."})
    if len(text) > limit:
        raise ValidationError({field: f"Keep it under {limit} characters (it has {len(text)})."})
    return text


@transaction.atomic
def concern_raise(*, actor, organisation, title: str, body_markdown: str,
                  visibility: str = Concern.Visibility.PUBLIC,
                  show_name: bool = False) -> Concern:
    _require(policy.can_raise_concern(actor))
    refuse_nul(title=title)
    concern = Concern(organisation=organisation, author=actor, title=(title or "").strip(),
                      body_markdown=_body(body_markdown, "body_markdown"),
                      visibility=visibility, show_name=bool(show_name))
    concern.body_html = markdown.render(concern.body_markdown)
    concern.full_clean()
    concern.save()
    _log(_recorded_actor(actor, concern), "concern_raised", concern, organisation,
         visibility=concern.visibility)
    _tell_organisation(concern)
    return concern


def _tell_organisation(concern: Concern) -> int:
    """Mail the organisation's editors and admins: the title and the link, never the author."""
    people = User.objects.filter(
        is_active=True, standing=User.Standing.MEMBER,
        pk__in=Membership.objects.filter(
            organisation=concern.organisation,
            role__in=[Membership.Role.EDITOR, Membership.Role.ADMIN]).values("user_id"),
    ).exclude(pk=concern.author_id).order_by("pk")
    context = {"concern": concern, "url": _url(concern)}
    for person in people:
        _mail(f"A concern for {concern.organisation.name}", "community/email/concern_new.txt",
              context, [person.email])
    return len(people)


@transaction.atomic
def concern_reply(*, actor, concern: Concern, body_markdown: str) -> ConcernReply:
    concern = Concern.objects.select_for_update(of=("self",)).select_related(
        "organisation", "author").get(pk=concern.pk)
    if not policy.can_view_concern(actor, concern):
        raise PermissionDenied
    if concern.status == Concern.Status.CLOSED:
        raise ValidationError("This concern is closed; nothing more can be added.")
    answering = policy.can_answer_concern(actor, concern)
    if not (answering or policy.can_reply_concern(actor, concern)):
        raise PermissionDenied
    text = _body(body_markdown, "body_markdown")
    reply = ConcernReply.objects.create(
        concern=concern, author=actor, on_behalf=concern.organisation if answering else None,
        body_markdown=text, body_html=markdown.render(text))
    if answering and concern.answered_at is None:
        concern.answered_at = reply.created
        concern.status = Concern.Status.ANSWERED
        concern.save(update_fields=["answered_at", "status", "modified"])
    _log(_recorded_actor(actor, concern), "concern_replied", concern, concern.organisation,
         reply=reply.pk, on_behalf=answering)
    if answering and concern.author_id and concern.author_id != actor.pk \
            and concern.author.is_active:
        _mail(f"{concern.organisation.name} answered your concern",
              "community/email/concern_answered.txt",
              {"concern": concern, "url": _url(concern)}, [concern.author.email])
    return reply


@transaction.atomic
def concern_close(*, actor, concern: Concern) -> Concern:
    concern = Concern.objects.select_for_update().get(pk=concern.pk)
    if not policy.can_view_concern(actor, concern):
        raise PermissionDenied
    if concern.status == Concern.Status.CLOSED:
        raise ValidationError("This concern is already closed.")
    _require(policy.can_close_concern(actor, concern))
    concern.status = Concern.Status.CLOSED
    concern.closed_at = timezone.now()
    concern.save(update_fields=["status", "closed_at", "modified"])
    _log(_recorded_actor(actor, concern), "concern_closed", concern, concern.organisation,
         by_organisation=policy.can_answer_concern(actor, concern))
    return concern


@transaction.atomic
def concern_remove(*, actor, concern: Concern, reason: str) -> Concern:
    concern = Concern.objects.select_for_update().get(pk=concern.pk)
    _require(policy.can_remove_concern(actor, concern))
    reason = (reason or "").strip()
    refuse_nul(reason=reason)
    if not reason:
        raise ValidationError({"reason": "Give a reason: the author and the organisation "
                                         "will see it."})
    if len(reason) > 300:
        raise ValidationError({"reason": "Keep the reason under 300 characters."})
    concern.removed_at = timezone.now()
    concern.removed_reason = reason
    concern.save(update_fields=["removed_at", "removed_reason", "modified"])
    _log(actor, "concern_removed", concern, concern.organisation)
    return concern
