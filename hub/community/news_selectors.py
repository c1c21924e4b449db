"""Reads the news and briefing pages share. Every list and every page goes through the policy
first, so an item someone may not see answers like a missing one."""

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.core.paginator import Paginator
from django.db.models import Value
from django.http import Http404

from hub import policy
from hub.community.models import Briefing, NewsItem, Publication

PUBLISHED = Publication.Status.PUBLISHED
KINDS = ("news", "briefings")


@dataclass(frozen=True)
class Entry:
    """One line of the combined list: a news item or a briefing."""

    kind: str
    item: Publication


def _published_news(user):
    return policy.visible_news(user, NewsItem.objects.filter(status=PUBLISHED))


def _published_briefings(user):
    return policy.visible_briefings(user, Briefing.objects.filter(status=PUBLISHED))


def publication_page(*, user, kind: str = "", number="1", per_page: int = 20):
    """A page of the published news and briefings this person may see, newest first. The
    two lists are merged in SQL (a union of keys) so pagination counts both."""
    parts = []
    if kind != "briefings":
        parts.append(_published_news(user).order_by()
                     .values_list(Value("news"), "pk", "published_at"))
    if kind != "news":
        parts.append(_published_briefings(user).order_by()
                     .values_list(Value("briefings"), "pk", "published_at"))
    keys = parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]
    page = Paginator(keys.order_by("-published_at", "-pk"), per_page).get_page(number)
    rows = list(page.object_list)
    news = NewsItem.objects.in_bulk([pk for k, pk, _ in rows if k == "news"])
    briefings = Briefing.objects.select_related("organisation").in_bulk(
        [pk for k, pk, _ in rows if k == "briefings"])
    page.object_list = [Entry(k, news[pk] if k == "news" else briefings[pk])
                        for k, pk, _ in rows]
    return page


def news_get(*, user, slug: str) -> NewsItem:
    item = policy.visible_news(user, NewsItem.objects.filter(slug=slug)).first()
    if item is None:
        raise Http404("No such news item.")
    return item


def news_managed_get(*, user, slug: str) -> NewsItem:
    """The item, for those who may change it; 404 for everyone else."""
    item = news_get(user=user, slug=slug)
    if not policy.can_manage_news(user, item):
        raise Http404("No such news item.")
    return item


def news_unpublished(*, user):
    """Drafts and withdrawn news, for the staff who write news."""
    if not policy.can_write_news(user):
        return NewsItem.objects.none()
    return policy.visible_news(user, NewsItem.objects.exclude(status=PUBLISHED)) \
        .order_by("-modified", "-pk")


def briefing_get(*, user, slug: str) -> Briefing:
    qs = policy.visible_briefings(user, Briefing.objects.filter(slug=slug))
    briefing = qs.select_related("organisation").first()
    if briefing is None:
        raise Http404("No such briefing.")
    return briefing


def briefing_managed_get(*, user, slug: str) -> Briefing:
    briefing = briefing_get(user=user, slug=slug)
    if not policy.can_manage_briefing(user, briefing):
        raise Http404("No such briefing.")
    return briefing


def briefings_managed(*, user):
    """Every briefing of the organisations whose briefings this person writes, any status."""
    qs = policy.managed_briefings(user, Briefing.objects.all())
    return qs.select_related("organisation").prefetch_related("audience_organisations") \
        .order_by("status", "-published_at", "-modified", "-pk")


def public_news():
    """Published news for everyone, through the visitor's rule as well."""
    return _published_news(AnonymousUser())


def public_briefings():
    """Published public briefings only: never members' or named organisations' ones, whoever
    asks (feeds and the weekly email have no reader to check)."""
    return policy.public_briefings(_published_briefings(AnonymousUser()))


def feed_entries(limit: int = 50) -> list[Entry]:
    news = [Entry("news", item) for item in public_news().order_by("-published_at")[:limit]]
    briefings = [Entry("briefings", item) for item in public_briefings()
                 .select_related("organisation").order_by("-published_at")[:limit]]
    merged = sorted(news + briefings, key=lambda e: (e.item.published_at, e.item.pk),
                    reverse=True)
    return merged[:limit]
