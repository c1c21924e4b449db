"""Pages of news and briefings. Each parses, asks the policy (through a selector that answers
404 for what the person may not see), calls one service and renders or redirects."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render

from hub import policy
from hub.community import news, news_selectors
from hub.community.news_forms import BriefingForm, NewsForm
from hub.core.forms import errors_to_form

PAGE_SIZE = 20


def news_list(request):
    user = request.user
    kind = request.GET.get("kind", "")
    kind = kind if kind in news_selectors.KINDS else ""
    return render(request, "community/news/news_list.html", {
        "page": news_selectors.publication_page(user=user, kind=kind,
                                                number=request.GET.get("page", "1")[:8],
                                                per_page=PAGE_SIZE),
        "kind": kind,
        "can_write_news": policy.can_write_news(user),
        "can_write_briefings": policy.can_write_briefings(user),
        "unpublished_news": news_selectors.news_unpublished(user=user)[:50],
    })


def news_detail(request, slug):
    item = news_selectors.news_get(user=request.user, slug=slug)
    return render(request, "community/news/detail.html", {
        "item": item, "kind": "news",
        "manages": policy.can_manage_news(request.user, item)})


def briefing_detail(request, slug):
    briefing = news_selectors.briefing_get(user=request.user, slug=slug)
    return render(request, "community/news/detail.html", {
        "item": briefing, "kind": "briefings",
        "named": briefing.audience_organisations.order_by("name"),
        "manages": policy.can_manage_briefing(request.user, briefing)})


def _form_page(request, form, item, kind, *, create, update, saved_message):
    """Validate the form, call the service, and on a problem show the page again with the
    message beside the field and everything typed kept (status 400)."""
    if request.method == "POST" and form.is_valid():
        try:
            saved = create(**form.cleaned_data) if item is None else update(**form.cleaned_data)
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, saved_message(saved))
            return redirect(saved)
    return render(request, "community/news/form.html", {"form": form, "item": item,
                                                         "kind": kind},
                  status=400 if form.errors else 200)


def _saved(item) -> str:
    return "Published." if item.is_published else "Draft saved. Only its writers see it."


@login_required
def news_new(request):
    if not policy.can_write_news(request.user):
        raise PermissionDenied
    form = NewsForm(request.POST or None)
    return _form_page(request, form, None, "news", saved_message=_saved, update=None,
                      create=lambda **data: news.news_create(actor=request.user, **data))


@login_required
def news_edit(request, slug):
    item = news_selectors.news_managed_get(user=request.user, slug=slug)
    # The form gets its own copy: validating writes the typed values onto its instance, and
    # the service must compare them with what is stored.
    form = NewsForm(request.POST or None, instance=news_selectors.news_managed_get(
        user=request.user, slug=slug))
    return _form_page(request, form, item, "news", saved_message=lambda _: "Saved.",
                      create=None,
                      update=lambda **data: news.news_update(actor=request.user, item=item,
                                                             **data))


@login_required
def briefing_new(request):
    if not policy.can_write_briefings(request.user):
        raise PermissionDenied
    form = BriefingForm(request.POST or None, user=request.user)
    return _form_page(request, form, None, "briefings", saved_message=_saved, update=None,
                      create=lambda **data: news.briefing_create(actor=request.user, **data))


@login_required
def briefing_edit(request, slug):
    briefing = news_selectors.briefing_managed_get(user=request.user, slug=slug)
    form = BriefingForm(request.POST or None, user=request.user,
                        instance=news_selectors.briefing_managed_get(user=request.user,
                                                                     slug=slug))
    return _form_page(request, form, briefing, "briefings", saved_message=lambda _: "Saved.",
                      create=None,
                      update=lambda **data: news.briefing_update(
                          actor=request.user, briefing=briefing, **data))


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
    return render(request, "community/news/withdraw.html", {"item": item, "kind": kind})


@login_required
def news_withdraw(request, slug):
    item = news_selectors.news_managed_get(user=request.user, slug=slug)
    return _withdraw_page(request, item, "news",
                          lambda: news.news_withdraw(actor=request.user, item=item))


@login_required
def briefing_withdraw(request, slug):
    briefing = news_selectors.briefing_managed_get(user=request.user, slug=slug)
    return _withdraw_page(request, briefing, "briefings",
                          lambda: news.briefing_withdraw(actor=request.user, briefing=briefing))


@login_required
def briefing_mine(request):
    """The briefings of the organisations whose briefings this person writes, drafts and
    withdrawn ones included."""
    if not (policy.can_write_briefings(request.user) or policy.acts_as_staff(request.user)):
        raise PermissionDenied
    return render(request, "community/news/briefing_mine.html", {
        "briefings": news_selectors.briefings_managed(user=request.user)[:200],
        "can_write_briefings": policy.can_write_briefings(request.user)})
