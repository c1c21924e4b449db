"""The Atom feed of public news and public briefings.

Built without looking at who asks (feed readers carry no session), so it is the same for a
visitor and for staff: published news, and published briefings whose audience is everyone.
Members' and named organisations' briefings never appear, whoever the reader is."""

from django.contrib.syndication.views import Feed
from django.template.defaultfilters import linebreaks
from django.urls import reverse_lazy
from django.utils.feedgenerator import Atom1Feed

from hub.community import news_selectors
from hub.library.metadata import xml_text


class PublicNewsFeed(Feed):
    feed_type = Atom1Feed
    title = "News and briefings from the Engagement Hub"
    subtitle = "News from the hub and public briefings by its partner organisations."
    link = reverse_lazy("community:news_list")
    feed_url = reverse_lazy("community:news_feed")

    def items(self):
        return news_selectors.feed_entries()

    def item_title(self, entry):
        prefix = "Briefing: " if entry.kind == "briefings" else ""
        return xml_text(prefix + entry.item.title)

    def item_description(self, entry):
        # Readers take the summary as HTML: escape what was typed and keep its paragraphs.
        return linebreaks(xml_text(entry.item.summary), autoescape=True)

    def item_link(self, entry):
        return entry.item.get_absolute_url()

    def item_guid(self, entry):
        return f"tag:engagement-hub,2026:{entry.kind}/{entry.item.pk}"

    item_guid_is_permalink = False

    def item_pubdate(self, entry):
        return entry.item.published_at

    def item_updateddate(self, entry):
        return entry.item.updated_at or entry.item.published_at

    def item_author_name(self, entry):
        # News speaks for the hub, a briefing for its organisation: never for one person.
        if entry.kind == "briefings":
            return xml_text(entry.item.organisation.name)
        return "Engagement Hub"

    def item_categories(self, entry):
        return ["Briefing" if entry.kind == "briefings" else "News"]
