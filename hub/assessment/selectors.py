"""Reads that several views share: the results of rounds, an initiative's report, a programme's
spread and a facilitator's view of progress. Every list goes through the policy first."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q

from hub import policy
from hub.assessment import scoring
from hub.assessment.models import (
    Answer,
    Initiative,
    Perspective,
    Programme,
    Round,
)

PERSPECTIVES = dict(Perspective.choices)
WEIGHT_KEYS = [*PERSPECTIVES, scoring.POOLED]
MAX_WEIGHT = 10


def weights_from(params) -> dict[str, float]:
    """Weights a reader set in the report's form (``w-<perspective>``), clamped to 0–10.
    Anything unreadable counts as the default of 1."""
    weights = {}
    for key in WEIGHT_KEYS:
        raw = params.get(f"w-{key}")
        if raw in (None, ""):
            continue
        try:
            value = float(raw)
        except ValueError:
            continue
        if value == value:  # not NaN
            weights[key] = min(max(value, 0.0), MAX_WEIGHT)
    if weights and not any(weights.get(key, 1.0) > 0 for key in WEIGHT_KEYS):
        return {}
    return weights


def round_result(round_: Round, weights=None) -> scoring.RoundResult:
    return scoring.combine(round_.summary or {}, round_.instrument.data,
                           min_group=round_.min_group, threshold=round_.divergence_threshold,
                           weights=weights)


def rounds_with_results(user, qs=None):
    """Rounds whose aggregate results this person may see, oldest first."""
    qs = Round.objects.all() if qs is None else qs
    return (qs.filter(policy.results_visible_q(user)).defer("tally")
            .select_related("instrument", "initiative").order_by("opens_at", "id"))


@dataclass
class HistoryPoint:
    round: Round
    result: scoring.RoundResult


@dataclass
class Evidence:
    dimension: str
    indicator: str
    question: str
    perspective: str
    note: str
    resource: object | None
    coding: object | None = None


@dataclass
class InitiativeReport:
    initiative: Initiative
    round: Round | None
    result: scoring.RoundResult | None
    history: list[HistoryPoint]
    events: list
    evidence: list[Evidence] = field(default_factory=list)
    hidden_evidence: int = 0


def _evidence(user, round_: Round, result: scoring.RoundResult) -> tuple[list[Evidence], int]:
    """Notes, library items and coded passages given with submitted answers, labelled only by
    perspective. A note from a perspective too small to be shown apart is labelled as the
    combined group, or left out with its group. Library items appear only to those who may
    see them, and coded passages only to those who may read their study."""
    from hub.library.models import Resource
    from hub.research.models import Coding

    indicators = round_.instrument.indicators
    shown = {group.key for group in result.groups}
    pooled = next((g for g in result.groups if g.key == scoring.POOLED), None)
    answers = (Answer.objects
               .filter(response__round=round_, response__submitted_at__isnull=False)
               .filter(~Q(note="") | Q(resource__isnull=False) | Q(coding__isnull=False))
               .values_list("indicator", "response__perspective", "note", "resource_id",
                            "coding_id")
               .order_by("indicator", "pk"))
    rows = list(answers)
    visible = set(policy.visible_resources(user, Resource.objects.filter(
        pk__in={row[3] for row in rows if row[3]})).values_list("pk", flat=True))
    resources = Resource.objects.in_bulk(visible)
    codings = {c.pk: c for c in policy.visible_codings(user, Coding.objects.filter(
        pk__in={row[4] for row in rows if row[4]})).select_related("source__study", "code")}
    items, hidden = [], 0
    for indicator, perspective, note, resource_id, coding_id in rows:
        if indicator not in indicators:
            continue
        if perspective in shown:
            label = PERSPECTIVES[perspective]
        elif pooled and perspective in pooled.members:
            label = scoring.POOLED_LABEL
        else:
            continue
        resource = resources.get(resource_id)
        coding = codings.get(coding_id)
        if resource_id and resource is None:
            hidden += 1
        # A passage from a study the reader cannot see is left out without a trace.
        if not note and resource is None and coding is None:
            continue
        item = indicators[indicator]
        items.append(Evidence(item["dimension"], indicator, item["question"], label, note,
                              resource, coding))
    return items, hidden


def initiative_report(user, initiative: Initiative, *, round_pk=None,
                      weights=None) -> InitiativeReport:
    rounds = list(rounds_with_results(user, initiative.rounds.all()))
    history = [HistoryPoint(r, round_result(r, weights)) for r in rounds]
    chosen = next((p for p in history if p.round.pk == round_pk), None) if round_pk else None
    if chosen is None and history:
        with_answers = [p for p in history if p.result.respondents]
        chosen = (with_answers or history)[-1]
    report = InitiativeReport(initiative, chosen.round if chosen else None,
                              chosen.result if chosen else None, history,
                              list(initiative.context_events.all()))
    if chosen:
        report.evidence, report.hidden_evidence = _evidence(user, chosen.round, chosen.result)
    return report


@dataclass
class ProgrammeRow:
    initiative: Initiative
    round: Round | None
    result: scoring.RoundResult | None


@dataclass
class ProgrammeReport:
    programme: Programme
    rows: list[ProgrammeRow]
    hidden: int
    overall: scoring.Spread
    dimensions: dict[str, scoring.Spread]
    perspectives: dict[str, scoring.Spread]
    instrument: object | None


def latest_results(user, initiatives, weights=None) -> list[ProgrammeRow]:
    """Each initiative with its latest round that has results this person may see (or its
    latest round, if none has answers yet). A fixed number of queries however many
    initiatives, rounds and responses there are; only the chosen rounds' tallies are read,
    and each instrument version once."""
    from django.db.models import Exists, OuterRef

    from hub.assessment.models import Instrument, Response

    initiatives = list(initiatives)
    answered = Response.objects.filter(round=OuterRef("pk"), submitted_at__isnull=False)
    candidates = (Round.objects.filter(initiative__in=[i.pk for i in initiatives])
                  .filter(policy.results_visible_q(user))
                  .annotate(answered=Exists(answered)).order_by("opens_at", "id")
                  .values_list("pk", "initiative_id", "answered"))
    latest: dict[int, tuple[int, bool]] = {}
    for pk, initiative_id, has_answers in candidates:
        if has_answers or not latest.get(initiative_id, (0, False))[1]:
            latest[initiative_id] = (pk, has_answers)
    chosen = Round.objects.defer("tally").in_bulk([pk for pk, _ in latest.values()])
    instruments = Instrument.objects.in_bulk({r.instrument_id for r in chosen.values()})
    rows = []
    for initiative in initiatives:
        round_ = chosen.get(latest.get(initiative.pk, (None, False))[0])
        if round_ is not None:
            round_.instrument = instruments[round_.instrument_id]
            round_.initiative = initiative
        rows.append(ProgrammeRow(initiative, round_,
                                 round_result(round_, weights) if round_ else None))
    return rows


def programme_report(user, programme: Programme, weights=None) -> ProgrammeReport:
    all_initiatives = programme.initiatives.all()
    visible = list(policy.visible_initiatives(user, all_initiatives)
                   .select_related("lead_organisation").order_by("name"))
    rows = latest_results(user, visible, weights)
    scored = [row for row in rows if row.result and row.result.overall is not None]
    instrument = max((row.round.instrument for row in scored), key=lambda i: i.version,
                     default=None)
    dimensions = {}
    if instrument:
        for dimension in instrument.dimensions:
            dimensions[dimension["key"]] = scoring.spread_of(
                next((d.overall for d in row.result.dimensions if d.key == dimension["key"]),
                     None) for row in scored)
    perspectives = {}
    for key, label in PERSPECTIVES.items():
        values = [group.position for row in scored for group in row.result.groups
                  if group.key == key]
        if values:
            perspectives[label] = scoring.spread_of(values)
    return ProgrammeReport(
        programme=programme, rows=rows,
        hidden=all_initiatives.count() - len(visible),
        overall=scoring.spread_of(row.result.overall for row in scored),
        dimensions=dimensions, perspectives=perspectives, instrument=instrument)


@dataclass
class Progress:
    by_perspective: list[tuple[str, int, int]]
    invitations: list[tuple[object, bool]]
    links: dict[str, int]


def progress(round_: Round) -> Progress:
    """What a facilitator sees while a round runs: how many have started and submitted from
    each perspective, which invited members have submitted, and how the links stand. Never
    which answer came from whom."""
    counts = (round_.responses.values("perspective")
              .annotate(started=Count("pk"),
                        submitted=Count("pk", filter=Q(submitted_at__isnull=False))))
    by_key = {row["perspective"]: row for row in counts}
    rows = [(label, by_key[key]["started"], by_key[key]["submitted"])
            for key, label in PERSPECTIVES.items() if key in by_key]
    submitted = set(round_.responses.filter(submitted_at__isnull=False, user__isnull=False)
                    .values_list("user_id", flat=True))
    invitations = [(invitation, invitation.user_id in submitted) for invitation in
                   round_.invitations.select_related("user__profile").order_by("invited_at")]
    links = {"unused": 0, "used": 0, "withdrawn": 0}
    for used, revoked in round_.links.values_list("used", "revoked_at"):
        links["withdrawn" if revoked else "used" if used else "unused"] += 1
    return Progress(rows, invitations, links)


def initiatives_for_home(user):
    return (policy.visible_initiatives(user, Initiative.objects.all())
            .select_related("lead_organisation").order_by("name"))
