"""Template tags for concerns: an organisation's record of answering them, for its page."""

from django import template

from hub.community import consult_selectors

register = template.Library()


@register.inclusion_tag("community/concerns/_record.html", takes_context=True)
def concern_record(context, organisation, listed: int = 5):
    """Open concerns (count, public ones listed) and how quickly the organisation answers.
    Private concerns count in the figures and are never listed."""
    return {"record": consult_selectors.concern_record(organisation, listed=listed),
            "request": context.get("request"), "heading_level": 2}
