"""What the study frame (``research/study_base.html``) shows the person reading the page, so
every page inside a study offers the same sections, whichever view rendered it."""

from django import template

from hub import policy

register = template.Library()


@register.simple_tag(takes_context=True)
def study_frame(context, study) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    return {
        "reads": policy.can_read_study(user, study),
        "manages": policy.can_manage_study(user, study),
        "curates": policy.can_curate_study(user, study),
        "agreement": policy.can_view_agreement(user, study),
    }
