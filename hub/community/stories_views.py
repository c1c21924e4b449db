"""Pages of success stories and funding opportunities. Each parses, asks the policy (through a
selector that answers 404 for what the person may not see), calls one service and renders or
redirects."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from hub import policy
from hub.community import stories, stories_selectors
from hub.community.stories_forms import FollowForm, FundingForm, StoryForm
from hub.core.forms import errors_to_form
from hub.members.models import Organisation

PAGE_SIZE = 20


def _saved(item) -> str:
    if item.status == stories.Status.PUBLISHED:
        return "Published."
    return "Draft saved. Only its writers see it."


def _form_page(request, form, item, template, *, save, saved_message, extra=None):
    """Validate, call the service, and on a problem show the page again with the message
    beside the field and everything typed kept (status 400)."""
    if request.method == "POST" and form.is_valid():
        try:
            saved = save(**form.cleaned_data)
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, saved_message(saved))
            return redirect(saved)
    return render(request, template, {"form": form, "item": item, **(extra or {})},
                  status=400 if form.errors else 200)


def _withdraw_page(request, item, kind, withdraw):
    if request.method == "POST":
        try:
            withdraw()
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Withdrawn. It no longer appears in lists or feeds, "
                                      "and only its writers can open it.")
        return redirect(item)
    return render(request, "community/stories/withdraw.html", {"item": item, "kind": kind})


# --- Stories ----------------------------------------------------------------------------------

def story_list(request):
    user = request.user
    query = request.GET.get("q", "").replace("\x00", "").strip()[:200]
    organisations = stories_selectors.story_filter_organisations()
    organisation = None
    wanted = request.GET.get("organisation", "")
    if wanted.isdigit():
        organisation = Organisation.objects.filter(pk=int(wanted)).first()
    return render(request, "community/stories/list.html", {
        "page": stories_selectors.story_page(user=user, organisation=organisation, query=query,
                                             number=request.GET.get("page", "1")[:8],
                                             per_page=PAGE_SIZE),
        "query": query, "organisation": organisation, "organisations": organisations,
        "can_write": policy.can_write_stories(user),
    })


def story_detail(request, slug):
    story = stories_selectors.story_get(user=request.user, slug=slug)
    return render(request, "community/stories/detail.html", {
        "story": story, **stories_selectors.story_links(user=request.user, story=story),
        "manages": policy.can_manage_story(request.user, story)})


@login_required
def story_new(request):
    if not policy.can_write_stories(request.user):
        raise PermissionDenied
    form = StoryForm(request.POST or None, user=request.user)
    return _form_page(request, form, None, "community/stories/form.html", saved_message=_saved,
                      save=lambda **data: stories.story_create(actor=request.user, **data))


@login_required
def story_edit(request, slug):
    story = stories_selectors.story_managed_get(user=request.user, slug=slug)
    # The form validates onto its own copy, so the service compares with what is stored.
    form = StoryForm(request.POST or None, user=request.user,
                     instance=stories_selectors.story_managed_get(user=request.user, slug=slug))
    return _form_page(request, form, story, "community/stories/form.html",
                      saved_message=lambda _: "Saved.",
                      save=lambda **data: stories.story_update(actor=request.user, story=story,
                                                               **data))


@login_required
def story_withdraw(request, slug):
    story = stories_selectors.story_managed_get(user=request.user, slug=slug)
    return _withdraw_page(request, story, "story",
                          lambda: stories.story_withdraw(actor=request.user, story=story))


@login_required
def story_mine(request):
    """Stories of the organisations whose stories this person tells, any status."""
    if not (policy.can_write_stories(request.user) or policy.acts_as_staff(request.user)):
        raise PermissionDenied
    return render(request, "community/stories/mine.html", {
        "stories": stories_selectors.stories_managed(user=request.user)[:200],
        "can_write": policy.can_write_stories(request.user)})


# --- Funding ----------------------------------------------------------------------------------

def funding_list(request):
    user = request.user
    closed = request.GET.get("show") == "closed"
    now = timezone.now()
    return render(request, "community/funding/list.html", {
        "opportunities": stories_selectors.funding_lists(user=user, closed=closed, now=now),
        "counts": stories_selectors.funding_counts(user=user, now=now),
        "closed": closed, "now": now, "time_zone": settings.TIME_ZONE,
        "can_write": policy.can_write_funding(user),
        "can_follow": policy.is_member(user),
        "unpublished": stories_selectors.funding_unpublished(user=user)[:50],
        "reminder_days": stories.reminder_days(),
    })


def funding_detail(request, slug):
    user = request.user
    opportunity = stories_selectors.funding_get(user=user, slug=slug)
    now = timezone.now()
    return render(request, "community/funding/detail.html", {
        "item": opportunity, "now": now, "is_open": opportunity.deadline > now,
        "time_zone": settings.TIME_ZONE,
        "followed": bool(stories_selectors.funding_followed_ids(user=user,
                                                               ids=[opportunity.pk])),
        "can_follow": policy.can_follow_funding(user, opportunity, now),
        "reminder_days": stories.reminder_days(),
        "manages": policy.can_manage_funding(user, opportunity)})


@login_required
def funding_new(request):
    if not policy.can_write_funding(request.user):
        raise PermissionDenied
    form = FundingForm(request.POST or None)
    return _form_page(request, form, None, "community/funding/form.html", saved_message=_saved,
                      save=lambda **data: stories.funding_create(actor=request.user, **data),
                      extra={"time_zone": settings.TIME_ZONE})


@login_required
def funding_edit(request, slug):
    opportunity = stories_selectors.funding_managed_get(user=request.user, slug=slug)
    form = FundingForm(request.POST or None, instance=stories_selectors.funding_managed_get(
        user=request.user, slug=slug))
    return _form_page(request, form, opportunity, "community/funding/form.html",
                      saved_message=lambda _: "Saved.",
                      save=lambda **data: stories.funding_update(
                          actor=request.user, opportunity=opportunity, **data),
                      extra={"time_zone": settings.TIME_ZONE})


@login_required
def funding_withdraw(request, slug):
    opportunity = stories_selectors.funding_managed_get(user=request.user, slug=slug)
    return _withdraw_page(request, opportunity, "funding",
                          lambda: stories.funding_withdraw(actor=request.user,
                                                           opportunity=opportunity))


@login_required
@require_POST
def funding_follow(request, slug):
    opportunity = stories_selectors.funding_get(user=request.user, slug=slug)
    if not policy.is_member(request.user):
        raise PermissionDenied
    form = FollowForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose to follow or to stop following.")
        return redirect(opportunity)
    try:
        if form.cleaned_data["action"] == "follow":
            stories.funding_follow(actor=request.user, opportunity=opportunity)
            messages.success(request, f"Following. We will email you "
                                      f"{stories.reminder_days()} days before the deadline.")
        else:
            stories.funding_unfollow(actor=request.user, opportunity=opportunity)
            messages.success(request, "You no longer follow this opportunity.")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    target = request.POST.get("next", "")
    if target in ("list", "following"):
        return redirect("community:funding_list" if target == "list"
                        else "community:funding_following")
    return redirect(opportunity)


@login_required
def funding_following(request):
    if not policy.is_member(request.user):
        raise PermissionDenied
    return render(request, "community/funding/following.html", {
        "opportunities": stories_selectors.funding_following(user=request.user),
        "now": timezone.now(), "time_zone": settings.TIME_ZONE,
        "reminder_days": stories.reminder_days()})
