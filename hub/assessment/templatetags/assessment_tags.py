from django import template

from hub.assessment.selectors import PERSPECTIVES

register = template.Library()


@register.filter
def get_item(mapping, key):
    return mapping.get(key)


@register.filter
def perspective_label(key):
    return PERSPECTIVES.get(key, key)


@register.filter
def dimension_name(key, instrument):
    return next((d["name"] for d in instrument.dimensions if d["key"] == key), key)
