"""Atom feeds of published success stories and funding opportunities.

Built without looking at who asks (feed readers carry no session), so every reader gets the
same: published items only, never drafts or withdrawn ones."""

from django.contrib.syndication.views import Feed
from django.template.defaultfilters import linebreaks
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed

from hub.community import stories_selectors
from hub.library.metadata import xml_text

LIMIT = 50


class PublicStoriesFeed(Feed):
    feed_type = Atom1Feed
    title = "Success stories from the Engagement Hub"
    subtitle = "What police and community partners did together, and what came of it."
    link = reverse_lazy("community:story_list")
    feed_url = reverse_lazy("community:story_feed")

    def items(self):
        return stories_selectors.public_stories().select_related("organisation") \
            .order_by("-published_at", "-pk")[:LIMIT]

    def item_title(self, story):
        return xml_text(story.title)

    def item_description(self, story):
        return linebreaks(xml_text(story.summary), autoescape=True)

    def item_link(self, story):
        return story.get_absolute_url()

    def item_guid(self, story):
        return f"tag:engagement-hub,2026:story/{story.pk}"

    item_guid_is_permalink = False

    def item_pubdate(self, story):
        return story.published_at

    def item_updateddate(self, story):
        return story.published_at

    def item_author_name(self, story):
        # A story speaks for its organisation (or the hub), never for one person.
        return xml_text(story.organisation.name) if story.organisation else "Engagement Hub"


class PublicFundingFeed(Feed):
    feed_type = Atom1Feed
    title = "Funding opportunities from the Engagement Hub"
    subtitle = "Open funding for community projects, soonest deadline first."
    link = reverse_lazy("community:funding_list")
    feed_url = reverse_lazy("community:funding_feed")

    def items(self):
        return stories_selectors.public_funding().filter(deadline__gt=timezone.now()) \
            .order_by("deadline", "pk")[:LIMIT]

    def item_title(self, item):
        return xml_text(item.title)

    def item_description(self, item):
        closes = timezone.localtime(item.deadline).strftime("%-d %B %Y, %H:%M %Z")
        text = f"{item.summary}\n\nFunder: {item.funder}. Closes {closes}."
        return linebreaks(xml_text(text), autoescape=True)

    def item_link(self, item):
        return item.get_absolute_url()

    def item_guid(self, item):
        return f"tag:engagement-hub,2026:funding/{item.pk}"

    item_guid_is_permalink = False

    def item_pubdate(self, item):
        return item.published_at

    def item_author_name(self, item):
        return xml_text(item.funder)
