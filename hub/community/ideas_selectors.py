"""Reads the ideas board's pages share. Every list and every page goes through the policy first,
so an idea someone may not see answers like a missing one, and the links to what came of an
adopted idea are shown only to those who may see what they point at.

Support is counted per sector, never only as one total: the board shows police, community,
research and the other sectors side by side, so the most numerous group cannot speak for all.
"""

from dataclasses import dataclass

from django.core.paginator import Paginator
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404

from hub import policy
from hub.community.models import Event, Idea, IdeaComment, IdeaSupport
from hub.library.models import Resource
from hub.members.models import Sector

SORTS = {
    "newest": ("-created", "-id"),
    "supported": ("-support_count", "-created", "-id"),
    "discussed": ("-comment_count", "-created", "-id"),
}
SORT_LABELS = {"newest": "Newest first", "supported": "Most supported",
               "discussed": "Most discussed"}


@dataclass(frozen=True)
class SectorCount:
    sector: str
    label: str
    count: int


def _count(model, **filters):
    """A correlated count, so two counts on one row do not multiply each other's joins."""
    rows = (model.objects.filter(idea=OuterRef("pk"), **filters).order_by()
            .values("idea").annotate(n=Count("pk")).values("n"))
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


def _with_counts(qs):
    return qs.annotate(support_count=_count(IdeaSupport),
                       comment_count=_count(IdeaComment, removed_at=None))


def idea_list(*, user, status: str = "", sort: str = "newest", query: str = ""):
    """The ideas this person may see, filtered and sorted, each with its support and comment
    counts."""
    qs = policy.visible_ideas(user, Idea.objects.all())
    if status in Idea.Status.values:
        qs = qs.filter(status=status)
    query = (query or "").strip()
    if query:
        qs = qs.filter(Q(title__icontains=query) | Q(body_markdown__icontains=query))
    qs = _with_counts(qs).select_related("author__profile__organisation")
    return qs.order_by(*SORTS.get(sort, SORTS["newest"]))


def sector_counts(support_rows) -> list[SectorCount]:
    """Every sector in the fixed order of the sector list, with its count (zero included, so
    a voice that is missing shows as missing)."""
    counts = {sector: n for sector, n in support_rows}
    return [SectorCount(value, label, counts.get(value, 0)) for value, label in Sector.choices]


def idea_page(*, user, status: str = "", sort: str = "newest", query: str = "",
              number="1", per_page: int = 20):
    """A page of ideas; each row carries ``sectors`` (support per sector) and ``mine``
    (whether this person supports it), fetched in two queries for the whole page."""
    page = Paginator(idea_list(user=user, status=status, sort=sort, query=query),
                     per_page).get_page(number)
    rows = list(page.object_list)
    ids = [idea.pk for idea in rows]
    by_idea: dict[int, list] = {pk: [] for pk in ids}
    for idea_id, sector, n in (IdeaSupport.objects.filter(idea_id__in=ids).order_by()
                               .values("idea_id", "sector").annotate(n=Count("pk"))
                               .values_list("idea_id", "sector", "n")):
        by_idea[idea_id].append((sector, n))
    mine = set(IdeaSupport.objects.filter(idea_id__in=ids, user=user)
               .values_list("idea_id", flat=True)) if ids and policy.is_member(user) else set()
    for idea in rows:
        idea.sectors = [s for s in sector_counts(by_idea[idea.pk]) if s.count]
        idea.mine = idea.pk in mine
    page.object_list = rows
    return page


def idea_get(*, user, pk) -> Idea:
    qs = policy.visible_ideas(user, Idea.objects.filter(pk=pk))
    idea = _with_counts(qs).select_related(
        "author__profile__organisation", "status_changed_by__profile",
        "outcome_event", "outcome_resource").first()
    if idea is None:
        raise Http404("No such idea.")
    return idea


def idea_editable_get(*, user, pk) -> Idea:
    """The idea, for its author while it is new; 404 for everyone else."""
    idea = idea_get(user=user, pk=pk)
    if not policy.can_edit_idea(user, idea):
        raise Http404("No such idea.")
    return idea


def idea_sectors(idea: Idea) -> list[SectorCount]:
    return sector_counts(IdeaSupport.objects.filter(idea=idea).order_by()
                         .values("sector").annotate(n=Count("pk")).values_list("sector", "n"))


def idea_supported_by(*, user, idea: Idea) -> bool:
    return policy.is_member(user) and IdeaSupport.objects.filter(idea=idea, user=user).exists()


def idea_outcomes(*, user, idea: Idea) -> dict:
    """What came of an adopted idea, as far as this person may see it: a restricted
    resource's title, or a draft event's, never reaches someone who cannot open it."""
    if idea.status != Idea.Status.ADOPTED:
        return {}
    event, resource = idea.outcome_event, idea.outcome_resource
    return {
        "event": event if event is not None and policy.can_view_event(user, event) else None,
        "resource": resource if resource is not None and policy.can_view_resource(
            user, resource) else None,
        "note": idea.outcome_note,
    }


def idea_comments(*, user, idea: Idea):
    if not policy.can_view_idea(user, idea):
        return IdeaComment.objects.none()
    return idea.comments.select_related("author__profile__organisation",
                                        "removed_by__profile").order_by("created", "pk")


def idea_comment_get(*, user, pk) -> IdeaComment:
    """A comment on an idea this person may see; 404 otherwise."""
    comment = IdeaComment.objects.filter(
        pk=pk, idea__in=policy.visible_ideas(user, Idea.objects.all())
    ).select_related("idea", "author__profile").first()
    if comment is None:
        raise Http404("No such comment.")
    return comment


def outcome_events(*, user):
    """Events staff may link an adopted idea to: those they see, newest first."""
    return policy.visible_events(user, Event.objects.all()).order_by("-starts_at", "-pk")


def outcome_resources(*, user):
    return policy.visible_resources(user, Resource.objects.all()).order_by("title", "pk")
