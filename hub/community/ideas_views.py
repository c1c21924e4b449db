"""Pages of the ideas board. Each parses, asks the policy (through a selector that answers 404
for what the person may not see), calls one service and renders or redirects.

The board is for members: a visitor is asked to sign in, and an account that is not an
approved member gets the same answer as for a missing page.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from hub import policy
from hub.community import ideas
from hub.community import ideas_selectors as selectors
from hub.community.ideas_forms import CommentForm, IdeaForm, RemoveCommentForm, StatusForm
from hub.community.models import Idea
from hub.core.forms import errors_to_form

PAGE_SIZE = 20


def _members_only(request) -> None:
    if not policy.is_member(request.user):
        raise PermissionDenied  # answered as a missing page


def _say(request, error: ValidationError) -> None:
    messages.error(request, " ".join(error.messages))


@login_required
def idea_list(request):
    _members_only(request)
    user = request.user
    status = request.GET.get("status", "")
    status = status if status in Idea.Status.values else ""
    sort = request.GET.get("sort", "newest")
    sort = sort if sort in selectors.SORTS else "newest"
    query = request.GET.get("q", "").replace("\x00", "").strip()[:200]
    return render(request, "community/ideas/idea_list.html", {
        "page": selectors.idea_page(user=user, status=status, sort=sort, query=query,
                                    number=request.GET.get("page", "1")[:8],
                                    per_page=PAGE_SIZE),
        "status": status, "sort": sort, "query": query,
        "statuses": Idea.Status.choices, "sorts": selectors.SORT_LABELS.items(),
        "can_submit": policy.can_submit_idea(user),
    })


def _detail(request, idea, *, comment_form=None, status=200):
    user = request.user
    comments = list(selectors.idea_comments(user=user, idea=idea))
    for comment in comments:
        comment.deletable = policy.can_delete_idea_comment(user, comment)
        comment.removable = policy.can_remove_idea_comment(user, comment)
    return render(request, "community/ideas/idea_detail.html", {
        "idea": idea,
        "sectors": selectors.idea_sectors(idea),
        "supported": selectors.idea_supported_by(user=user, idea=idea),
        "can_support": policy.can_support_idea(user, idea),
        "can_edit": policy.can_edit_idea(user, idea),
        "can_decide": policy.can_decide_idea(user, idea),
        "can_comment": policy.can_comment_on_idea(user, idea),
        "outcomes": selectors.idea_outcomes(user=user, idea=idea),
        "comments": comments,
        "comment_form": comment_form or CommentForm(),
    }, status=status)


@login_required
def idea_detail(request, pk):
    _members_only(request)
    return _detail(request, selectors.idea_get(user=request.user, pk=pk))


def _form_page(request, form, idea, save):
    """Validate, call the service, and on a problem show the form again with the message
    beside the field and everything typed kept (status 400)."""
    if request.method == "POST" and form.is_valid():
        try:
            saved = save(**form.cleaned_data)
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, "Saved. Members can now read and support it."
                             if idea is None else "Your changes are saved.")
            return redirect(saved)
    return render(request, "community/ideas/idea_form.html", {"form": form, "idea": idea},
                  status=400 if form.errors else 200)


@login_required
def idea_new(request):
    _members_only(request)
    form = IdeaForm(request.POST if request.method == "POST" else None)
    return _form_page(request, form, None,
                      lambda **data: ideas.idea_create(actor=request.user, **data))


@login_required
def idea_edit(request, pk):
    _members_only(request)
    idea = selectors.idea_editable_get(user=request.user, pk=pk)
    # The form validates onto its own copy, so the page keeps the stored title in its heading.
    form = IdeaForm(request.POST if request.method == "POST" else None,
                    instance=selectors.idea_editable_get(user=request.user, pk=pk))
    return _form_page(request, form, idea,
                      lambda **data: ideas.idea_update(actor=request.user, idea=idea, **data))


@login_required
@require_POST
def idea_support(request, pk):
    _members_only(request)
    idea = selectors.idea_get(user=request.user, pk=pk)
    try:
        ideas.idea_support(actor=request.user, idea=idea)
    except ValidationError as error:
        _say(request, error)
    else:
        messages.success(request, "Thank you: your support is counted with your sector's.")
    return redirect(idea.get_absolute_url() + "#support")


@login_required
@require_POST
def idea_support_withdraw(request, pk):
    _members_only(request)
    idea = selectors.idea_get(user=request.user, pk=pk)
    try:
        ideas.idea_support_withdraw(actor=request.user, idea=idea)
    except ValidationError as error:
        _say(request, error)
    else:
        messages.success(request, "Your support is withdrawn.")
    return redirect(idea.get_absolute_url() + "#support")


@login_required
@require_POST
def idea_comment(request, pk):
    _members_only(request)
    idea = selectors.idea_get(user=request.user, pk=pk)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            comment = ideas.idea_comment_create(actor=request.user, idea=idea,
                                                **form.cleaned_data)
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, "Your comment is posted.")
            return redirect(f"{idea.get_absolute_url()}#comment-{comment.pk}")
    return _detail(request, idea, comment_form=form, status=400)


@login_required
@require_POST
def idea_comment_delete(request, pk):
    _members_only(request)
    comment = selectors.idea_comment_get(user=request.user, pk=pk)
    if not policy.can_delete_idea_comment(request.user, comment):
        raise PermissionDenied
    ideas.idea_comment_delete(actor=request.user, comment=comment)
    messages.success(request, "Your comment is deleted.")
    return redirect(comment.idea.get_absolute_url() + "#comments")


@login_required
def idea_comment_remove(request, pk):
    _members_only(request)
    comment = selectors.idea_comment_get(user=request.user, pk=pk)
    if not policy.can_remove_idea_comment(request.user, comment):
        raise PermissionDenied
    form = RemoveCommentForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            ideas.idea_comment_remove(actor=request.user, comment=comment, **form.cleaned_data)
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, "The comment is removed; the reason shows in its place.")
            return redirect(f"{comment.idea.get_absolute_url()}#comment-{comment.pk}")
    return render(request, "community/ideas/comment_remove.html",
                  {"form": form, "comment": comment, "idea": comment.idea},
                  status=400 if form.errors else 200)


@login_required
def idea_status(request, pk):
    _members_only(request)
    idea = selectors.idea_get(user=request.user, pk=pk)
    if not policy.can_decide_idea(request.user, idea):
        raise PermissionDenied
    form = StatusForm.for_idea(idea, user=request.user,
                               data=request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ideas.idea_status_set(actor=request.user, idea=idea, status=data["status"],
                                  reason=data["status_reason"], outcome_event=data["outcome_event"],
                                  outcome_resource=data["outcome_resource"],
                                  outcome_note=data["outcome_note"])
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, "Decision saved. The idea's author is told by mail "
                                      "when the status changes.")
            return redirect(idea)
    return render(request, "community/ideas/idea_status.html", {"form": form, "idea": idea},
                  status=400 if form.errors else 200)
