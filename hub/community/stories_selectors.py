"""Reads the story and funding pages share. Every list and page goes through the policy first,
so an item someone may not see answers like a missing one; the initiatives and library items a
story links are filtered through the reader's own rules."""

from datetime import datetime

from django.contrib.auth.models import AnonymousUser
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import Http404
from django.utils import timezone

from hub import policy
from hub.community.models import FundingFollow, FundingOpportunity, Story
from hub.members.models import Organisation

PUBLISHED = Story.Status.PUBLISHED
SEARCHED = ("title", "summary", "context", "what_was_done", "other_partners", "outcome",
            "evidence")


# --- Stories ----------------------------------------------------------------------------------

def story_page(*, user, organisation: Organisation | None = None, query: str = "",
               number="1", per_page: int = 20):
    """A page of published stories, newest first: told by or with ``organisation`` and
    matching every word of ``query``."""
    qs = policy.visible_stories(user, Story.objects.filter(status=PUBLISHED))
    if organisation is not None:
        qs = qs.filter(Q(organisation=organisation) | Q(
            pk__in=Story.partners.through.objects.filter(
                organisation=organisation).values("story_id")))
    for word in query.split()[:10]:
        match = Q()
        for name in SEARCHED:
            match |= Q(**{f"{name}__icontains": word})
        qs = qs.filter(match)
    qs = qs.select_related("organisation").prefetch_related(
        Prefetch("partners", queryset=Organisation.objects.order_by("name")))
    return Paginator(qs.order_by("-published_at", "-pk"), per_page).get_page(number)


def story_filter_organisations():
    """Organisations that tell or took part in a published story, for the list's filter."""
    published = Story.objects.filter(status=PUBLISHED)
    return Organisation.objects.filter(
        Q(pk__in=published.values("organisation_id"))
        | Q(pk__in=Story.partners.through.objects.filter(
            story__status=PUBLISHED).values("organisation_id"))).order_by("name")


def story_get(*, user, slug: str) -> Story:
    story = policy.visible_stories(user, Story.objects.filter(slug=slug)) \
        .select_related("organisation").first()
    if story is None:
        raise Http404("No such story.")
    return story


def story_managed_get(*, user, slug: str) -> Story:
    story = story_get(user=user, slug=slug)
    if not policy.can_manage_story(user, story):
        raise Http404("No such story.")
    return story


def story_links(*, user, story: Story) -> dict:
    """The story's partners, and the initiatives and library items this reader may see."""
    return {
        "partners": list(story.partners.order_by("name")),
        "initiatives": list(policy.visible_initiatives(user, story.initiatives.all())
                            .order_by("name")),
        "resources": list(policy.visible_resources(user, story.resources.all())
                          .order_by("title")),
    }


def stories_managed(*, user):
    """Every story of the organisations whose stories this person tells, any status, and
    the drafts they wrote themselves."""
    qs = policy.managed_stories(user, Story.objects.all())
    if policy.is_member(user) and not policy.acts_as_staff(user):
        qs = Story.objects.filter(Q(pk__in=qs.values("pk")) | Q(author=user))
    return qs.select_related("organisation").order_by("status", "-published_at", "-modified",
                                                      "-pk")


def public_stories():
    """Published stories, through the visitor's rule as well: for feeds and the email."""
    return policy.public_stories(policy.visible_stories(AnonymousUser(), Story.objects.all()))


# --- Funding ----------------------------------------------------------------------------------

def closes_in(deadline: datetime, now: datetime) -> str:
    """“closes in 3 days”, “closes in 5 hours”, or “closed”."""
    left = deadline - now
    if left.total_seconds() <= 0:
        return "closed"
    if left.days >= 1:
        return f"closes in {left.days} day{'s' if left.days != 1 else ''}"
    hours = left.seconds // 3600
    if hours >= 1:
        return f"closes in {hours} hour{'s' if hours != 1 else ''}"
    return "closes within the hour"


def funding_lists(*, user, closed: bool = False, now: datetime | None = None,
                  limit: int = 100):
    """Published opportunities this person may see: open ones by deadline, soonest first, or
    closed ones, most recently closed first. Each carries ``followed`` for this person."""
    now = now or timezone.now()
    qs = policy.visible_funding(user, FundingOpportunity.objects.filter(status=PUBLISHED))
    if closed:
        qs = qs.filter(deadline__lte=now).order_by("-deadline", "-pk")
    else:
        qs = qs.filter(deadline__gt=now).order_by("deadline", "pk")
    rows = list(qs[:limit])
    followed = funding_followed_ids(user=user, ids=[row.pk for row in rows])
    for row in rows:
        row.followed = row.pk in followed
        row.closes_in = closes_in(row.deadline, now)
    return rows


def funding_counts(*, user, now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    qs = policy.visible_funding(user, FundingOpportunity.objects.filter(status=PUBLISHED))
    return {"open": qs.filter(deadline__gt=now).count(),
            "closed": qs.filter(deadline__lte=now).count()}


def funding_followed_ids(*, user, ids=None) -> set[int]:
    if not policy.is_member(user):
        return set()
    qs = FundingFollow.objects.filter(user=user)
    if ids is not None:
        qs = qs.filter(opportunity_id__in=ids)
    return set(qs.values_list("opportunity_id", flat=True))


def funding_get(*, user, slug: str) -> FundingOpportunity:
    opportunity = policy.visible_funding(
        user, FundingOpportunity.objects.filter(slug=slug)).first()
    if opportunity is None:
        raise Http404("No such funding opportunity.")
    return opportunity


def funding_managed_get(*, user, slug: str) -> FundingOpportunity:
    opportunity = funding_get(user=user, slug=slug)
    if not policy.can_manage_funding(user, opportunity):
        raise Http404("No such funding opportunity.")
    return opportunity


def funding_unpublished(*, user):
    """Drafts and withdrawn opportunities, for those who list them: staff see all, others
    their own."""
    if not (policy.can_write_funding(user) or policy.acts_as_staff(user)):
        return FundingOpportunity.objects.none()
    return policy.visible_funding(user, FundingOpportunity.objects.exclude(
        status=PUBLISHED)).order_by("-modified", "-pk")


def funding_following(*, user, now: datetime | None = None):
    """The opportunities this person follows that they may still see, open ones first."""
    if not policy.is_member(user):
        return []
    now = now or timezone.now()
    qs = policy.visible_funding(user, FundingOpportunity.objects.filter(
        status=PUBLISHED, follows__user=user))
    rows = list(qs.order_by("deadline", "pk")[:200])
    for row in rows:
        row.closes_in = closes_in(row.deadline, now)
    return [row for row in rows if row.deadline > now] + [
        row for row in rows if row.deadline <= now]


def public_funding():
    return policy.public_funding(policy.visible_funding(AnonymousUser(),
                                                        FundingOpportunity.objects.all()))
