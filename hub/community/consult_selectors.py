"""Reads the consultation and concern pages share. Every list and every page goes through the
policy first, so something a person may not see answers like a missing page."""

import csv
import io
import statistics
from dataclasses import dataclass, field
from datetime import timedelta

from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import Http404
from django.utils import timezone

from hub import policy
from hub.assessment.exports import safe_cell
from hub.community.models import (
    Concern,
    ConcernReply,
    Consultation,
    ConsultationAnswer,
    ConsultationResponse,
)
from hub.members.models import Organisation, Sector

Status = Consultation.Status
STATES = ("open", "closed")
RECORD_MONTHS = 12
ANSWER_WITHIN_DAYS = 14


def state_of(consultation: Consultation, now=None) -> str:
    """draft, open, closed or withdrawn: "closed" is an open one whose date has passed."""
    if consultation.status == Status.OPEN and consultation.closes_at <= (now or timezone.now()):
        return "closed"
    return consultation.status


# --- Consultations ----------------------------------------------------------------------------

def consultation_page(*, user, state: str = "", organisation=None, number="1",
                      per_page: int = 20):
    """Opened consultations this person may see: those still open first (closing soonest),
    then the closed ones, newest first."""
    now = timezone.now()
    qs = policy.visible_consultations(user, Consultation.objects.filter(status=Status.OPEN))
    if organisation is not None:
        qs = qs.filter(organisation=organisation)
    if state == "open":
        qs = qs.filter(closes_at__gt=now).order_by("closes_at", "pk")
    elif state == "closed":
        qs = qs.filter(closes_at__lte=now).order_by("-closes_at", "-pk")
    else:
        qs = qs.order_by("-opened_at", "-pk")
    qs = qs.select_related("organisation").annotate(response_count=Count("responses"))
    page = Paginator(qs, per_page).get_page(number)
    for consultation in page.object_list:
        consultation.state = state_of(consultation, now)
    return page


def consultations_managed(*, user):
    """Drafts and withdrawn consultations of the organisations this person manages them for."""
    qs = policy.managed_consultations(
        user, Consultation.objects.filter(status__in=[Status.DRAFT, Status.WITHDRAWN]))
    return qs.select_related("organisation").order_by("status", "-modified", "-pk")


def consultation_get(*, user, slug: str) -> Consultation:
    consultation = policy.visible_consultations(
        user, Consultation.objects.filter(slug=slug)).select_related("organisation").first()
    if consultation is None:
        raise Http404("No such consultation.")
    consultation.state = state_of(consultation)
    return consultation


def consultation_managed_get(*, user, slug: str) -> Consultation:
    consultation = consultation_get(user=user, slug=slug)
    if not policy.can_manage_consultation(user, consultation):
        raise Http404("No such consultation.")
    return consultation


def response_of(*, user, consultation) -> ConsultationResponse | None:
    if not user.is_authenticated:
        return None
    return ConsultationResponse.objects.filter(
        consultation=consultation, respondent=user).prefetch_related("answers").first()


@dataclass
class SectorCount:
    sector: str
    label: str
    count: int


def sector_counts(consultation) -> list[SectorCount]:
    """Responses by sector, every sector shown (zero included), side by side."""
    counts = dict(consultation.responses.order_by().values("sector")
                  .annotate(n=Count("pk")).values_list("sector", "n"))
    return [SectorCount(value, label, counts.get(value, 0)) for value, label in Sector.choices]


@dataclass
class ShownAnswer:
    text: str
    sector: str
    name: str  # empty unless the respondent chose to show it


@dataclass
class QuestionAnswers:
    question: object
    answers: list = field(default_factory=list)


def answers_by_question(*, user, consultation) -> list[QuestionAnswers]:
    """Every answer, grouped by question, for those who may see the consultation; a name only
    where the respondent chose to show it (the issuing organisation included)."""
    if not policy.can_view_consultation_responses(user, consultation):
        return []
    groups = {q.pk: QuestionAnswers(q) for q in consultation.questions.all()}
    answers = ConsultationAnswer.objects.filter(response__consultation=consultation) \
        .select_related("response__respondent__profile") \
        .order_by("response__submitted_at", "response_id")
    for answer in answers:
        response = answer.response
        groups[answer.question_id].answers.append(ShownAnswer(
            answer.text, response.get_sector_display(), _shown_name(response)))
    return list(groups.values())


def _shown_name(response) -> str:
    if response.show_name and response.respondent is not None:
        return str(response.respondent)
    return ""


def answers_csv(*, user, consultation) -> str:
    """One row per response, one column per question; the name only where it was shown."""
    if not policy.can_export_consultation(user, consultation):
        raise Http404("No such consultation.")
    questions = list(consultation.questions.all())
    responses = consultation.responses.select_related("respondent__profile") \
        .prefetch_related("answers").order_by("submitted_at", "pk")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["response", "sector", "name_shown", "submitted", "updated"]
                    + [f"Q{n}: {q.text}" for n, q in enumerate(questions, 1)])
    for number, response in enumerate(responses, 1):
        texts = {a.question_id: a.text for a in response.answers.all()}
        row = [number, response.get_sector_display(), _shown_name(response),
               response.submitted_at.isoformat(timespec="minutes"),
               response.updated_at.isoformat(timespec="minutes")]
        writer.writerow([safe_cell(v) for v in row + [texts.get(q.pk, "") for q in questions]])
    return buffer.getvalue()


# --- Concerns ---------------------------------------------------------------------------------

def concern_page(*, user, organisation=None, status: str = "", number="1", per_page: int = 20):
    qs = policy.visible_concerns(user, Concern.objects.all())
    if organisation is not None:
        qs = qs.filter(organisation=organisation)
    if status in Concern.Status.values:
        qs = qs.filter(status=status)
    qs = qs.select_related("organisation", "author__profile") \
        .annotate(reply_count=Count("replies")).order_by("-created", "-pk")
    return Paginator(qs, per_page).get_page(number)


def concern_get(*, user, pk: int) -> Concern:
    concern = policy.visible_concerns(user, Concern.objects.filter(pk=pk)) \
        .select_related("organisation", "author__profile").prefetch_related(
            Prefetch("replies", ConcernReply.objects.select_related(
                "author__profile", "on_behalf"))).first()
    if concern is None:
        raise Http404("No such concern.")
    return concern


def concern_author_name(concern) -> str:
    """The author's name as others see it: only when they chose to show it."""
    if concern.show_name and concern.author is not None:
        return str(concern.author)
    return ""


def organisations_for_concerns():
    return Organisation.objects.order_by("name")


@dataclass
class ConcernRecord:
    organisation: Organisation
    open_count: int
    waiting_count: int
    open_public: list
    raised: int  # in the period, private ones included
    answered: int
    median_days: float | None
    within_share: float | None  # 0..1, of those whose 14 days have passed or were answered
    within_base: int
    months: int = RECORD_MONTHS
    within_days: int = ANSWER_WITHIN_DAYS


def concern_record(organisation, *, user=None, now=None, listed: int = 10) -> ConcernRecord:
    """How an organisation answers concerns: open ones (count, public ones listed) and, over the
    last twelve months, the median time to a first answer and the share answered within 14
    days. Private concerns count in the figures but are never listed; removed ones count in
    neither (a moderator judged they did not belong)."""
    now = now or timezone.now()
    mine = Concern.objects.filter(organisation=organisation, removed_at__isnull=True)
    counts = mine.aggregate(
        open=Count("pk", filter=~Q(status=Concern.Status.CLOSED)),
        waiting=Count("pk", filter=Q(status=Concern.Status.OPEN)))
    public = list(mine.filter(visibility=Concern.Visibility.PUBLIC)
                  .exclude(status=Concern.Status.CLOSED)
                  .order_by("-created", "-pk")[:listed])
    since = now - timedelta(days=365 * RECORD_MONTHS // 12)
    rows = list(mine.filter(created__gte=since).values_list("created", "answered_at"))
    waits = [(answered - created) for created, answered in rows if answered]
    median = (statistics.median(w.total_seconds() for w in waits) / 86400) if waits else None
    limit = timedelta(days=ANSWER_WITHIN_DAYS)
    due = [(c, a) for c, a in rows if a is not None or now - c >= limit]
    within = sum(1 for c, a in due if a is not None and a - c <= limit)
    return ConcernRecord(organisation, counts["open"], counts["waiting"], public, len(rows),
                         len(waits), median, (within / len(due)) if due else None, len(due))
