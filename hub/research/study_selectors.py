"""What the study pages show, filtered by the policy. A study or source the person may not see
answers like a missing one (404)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404

from hub import policy
from hub.core.models import AuditEvent
from hub.library.models import Resource
from hub.members.models import User
from hub.research.models import (
    Coding,
    Participant,
    Source,
    SpeakerTurn,
    Study,
    StudyMember,
)


def study_get(*, user, slug: str) -> Study:
    """A study whose page this person may see (the team; members when it is listed)."""
    return get_object_or_404(policy.visible_studies(user, Study.objects.all()), slug=slug)


def study_get_readable(*, user, slug: str) -> Study:
    """A study whose content this person may read: its team only."""
    return get_object_or_404(policy.readable_studies(user, Study.objects.all()), slug=slug)


def study_get_managed(*, user, slug: str) -> Study:
    study = study_get_readable(user=user, slug=slug)
    if not policy.can_manage_study(user, study):
        raise Http404
    return study


def study_get_curated(*, user, slug: str) -> Study:
    """A study where this person imports sources and keeps participants and names."""
    study = study_get_readable(user=user, slug=slug)
    if not policy.can_curate_study(user, study):
        raise Http404
    return study


def study_lists(*, user) -> dict:
    """The person's own studies (with their role) and the other listed ones."""
    visible = policy.visible_studies(user, Study.objects.all())
    roles = dict(StudyMember.objects.filter(user=user).values_list("study_id", "role")) \
        if policy.is_member(user) else {}
    mine = [s for s in visible.filter(pk__in=list(roles)).annotate(
        n_sources=Count("sources", distinct=True))]
    for study in mine:
        study.my_role = StudyMember.Role(roles[study.pk]).label
    listed = visible.exclude(pk__in=list(roles)).filter(status=Study.Status.ACTIVE)
    return {"mine": mine, "listed": list(listed)}


def study_outputs(*, user, study: Study):
    return policy.visible_resources(user, study.outputs.all()).order_by("title")


def output_choices(*, user):
    """Library resources a lead may link as outputs: those they can see."""
    return policy.visible_resources(user, Resource.objects.all()).order_by("title")


def study_team(*, study: Study):
    return StudyMember.objects.filter(study=study).select_related("user__profile").order_by(
        "role", "id")


@dataclass
class StudyCounts:
    participants: int
    sources: int
    words: int
    codes: int
    codings: int


def study_counts(*, user, study: Study) -> StudyCounts:
    """Counts for the overview; codings as this person may see them (their own while the
    study is blind)."""
    sources = Source.objects.filter(study=study)
    words = sum(sources.values_list("word_count", flat=True))
    codings = policy.visible_codings(user, Coding.objects.filter(source__study=study))
    return StudyCounts(participants=study.participants.count(), sources=sources.count(),
                       words=words, codes=study.codes.count(), codings=codings.count())


def participant_list(*, study: Study):
    return Participant.objects.filter(study=study).annotate(
        n_turns=Count("turns")).prefetch_related("sharing_partners")


def participant_get(*, study: Study, pk: int) -> Participant:
    return get_object_or_404(Participant, study=study, pk=pk)


def source_list(*, study: Study):
    return Source.objects.filter(study=study).defer("text").annotate(
        n_turns=Count("turns")).select_related("created_by__profile")


def source_get(*, study: Study, pk: int, with_text: bool = True) -> Source:
    qs = Source.objects.filter(study=study)
    if not with_text:
        qs = qs.defer("text")
    return get_object_or_404(qs, pk=pk)


def source_turns(*, source: Source):
    return SpeakerTurn.objects.filter(source=source).select_related("participant").order_by(
        "start")


def source_speakers(*, source: Source) -> list[dict]:
    """Each speaker label of a source with its participant (if any) and turn count."""
    rows = {}
    for label, participant_id, n in SpeakerTurn.objects.filter(source=source).values_list(
            "speaker", "participant_id").annotate(n=Count("id")).order_by("speaker"):
        row = rows.setdefault(label, {"label": label, "participant_id": participant_id,
                                      "turns": 0})
        row["turns"] += n
    return list(rows.values())


LOG_ACTIONS = ("research.source.open", "research.team.add", "research.team.role",
               "research.team.remove")


def study_log(*, study: Study, everything: bool = False):
    """The study's access log: openings of its transcripts and changes to its team (with
    ``everything``, every recorded action on the study)."""
    qs = AuditEvent.objects.filter(context__study=study.pk, action__startswith="research.")
    if not everything:
        qs = qs.filter(action__in=LOG_ACTIONS)
    return qs.select_related("actor__profile").order_by("-created", "-id")


def people_named(ids) -> dict[int, User]:
    return {u.pk: u for u in User.objects.filter(pk__in=set(ids)).select_related("profile")}


def turns_prefetch():
    return Prefetch("turns", queryset=SpeakerTurn.objects.select_related("participant"))
