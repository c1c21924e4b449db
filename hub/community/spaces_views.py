"""Pages of the discussion spaces. Each parses, asks the policy (through a selector that
answers 404 for what the person may not see), calls one service and renders or redirects."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from hub import policy
from hub.community import markdown, spaces
from hub.community import spaces_selectors as selectors
from hub.community.models import ModerationAction, Notification, Post, Space, SpaceMembership
from hub.community.spaces_forms import (
    FlagForm,
    InviteForm,
    JoinForm,
    LockForm,
    MemberChangeForm,
    ModerateForm,
    PostForm,
    RevealForm,
    SpaceForm,
    ThreadForm,
)
from hub.core.forms import errors_to_form

THREADS_PER_PAGE = 25
POSTS_PER_PAGE = 50
Action = ModerationAction.Action


def _members_only(request) -> None:
    if not policy.is_member(request.user):
        raise PermissionDenied


def _error(request, error: ValidationError) -> None:
    messages.error(request, " ".join(error.messages))


# --- Spaces -----------------------------------------------------------------------------------

@login_required
def space_list(request):
    _members_only(request)
    user = request.user
    query = request.GET.get("q", "").strip()[:200]
    mine = selectors.my_space_ids(user)
    space_rows = list(selectors.space_list(user=user))
    moderated = set(policy.moderated_spaces(user, Space.objects.all()).values_list("pk",
                                                                                   flat=True))
    return render(request, "community/spaces/space_list.html", {
        "spaces": space_rows, "joined": mine["joined"], "invited": mine["invited"],
        "moderated": moderated, "query": query,
        "results": selectors.thread_search(user=user, query=query) if query else None,
        "unread": selectors.unread_count(user),
        "can_create": policy.can_create_space(user),
    })


@login_required
def space_new(request):
    if not policy.can_create_space(request.user):
        raise PermissionDenied
    form = SpaceForm(request.POST if request.method == "POST" else None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            space = spaces.space_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, "The space is ready. You are its moderator.")
            return redirect(space)
    return render(request, "community/spaces/space_form.html", {"form": form, "space": None},
                  status=400 if form.errors else 200)


@login_required
def space_edit(request, slug):
    space = selectors.space_managed_get(user=request.user, slug=slug)
    form = SpaceForm(request.POST if request.method == "POST" else None,
                     instance=Space.objects.get(pk=space.pk), user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            spaces.space_update(actor=request.user, space=space, **form.cleaned_data)
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, "Saved.")
            return redirect("community:space_detail", space.slug)
    return render(request, "community/spaces/space_form.html", {"form": form, "space": space},
                  status=400 if form.errors else 200)


def _space_context(user, space) -> dict:
    membership = policy.space_membership(user, space)
    return {
        "space": space,
        "membership": membership,
        "rules_html": markdown.render(space.ground_rules),
        "can_join": policy.can_join_space(user, space),
        "needs_rules": membership is not None and not membership.has_accepted_rules(space),
        "can_post": policy.can_post_in_space(user, space),
        "can_moderate": policy.can_moderate_space(user, space),
        "can_manage": policy.can_manage_space(user, space),
        "invited": policy.is_invited_to_space(user, space),
    }


@login_required
def space_detail(request, slug):
    space = selectors.space_get(user=request.user, slug=slug)
    context = _space_context(request.user, space)
    threads = selectors.thread_list(user=request.user, space=space)
    context["page"] = Paginator(threads, THREADS_PER_PAGE).get_page(request.GET.get("page"))
    if context["can_moderate"]:
        queue = selectors.moderation_queue(user=request.user, space=space)
        context["queue_count"] = sum(len(items) for items in queue.values())
    return render(request, "community/spaces/space_detail.html", context)


@login_required
def space_join(request, slug):
    space = selectors.space_get(user=request.user, slug=slug)
    context = _space_context(request.user, space)
    if not (context["can_join"] or context["needs_rules"]):
        return redirect(space)
    form = JoinForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            spaces.space_accept_rules(actor=request.user, space=space,
                                      accept=form.cleaned_data["accept"])
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, "Welcome. You can post in this space now.")
            return redirect(space)
    return render(request, "community/spaces/space_join.html", {**context, "form": form},
                  status=400 if form.errors else 200)


@login_required
@require_POST
def space_leave(request, slug):
    space = selectors.space_get(user=request.user, slug=slug)
    try:
        spaces.space_leave(actor=request.user, space=space)
    except ValidationError as error:
        _error(request, error)
        return redirect(space)
    messages.success(request, "You have left the space.")
    if not policy.can_view_space(request.user, space):
        return redirect("community:space_list")
    return redirect(space)


@login_required
def space_members(request, slug):
    space = selectors.space_managed_get(user=request.user, slug=slug)
    form = InviteForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            count = spaces.space_invite(actor=request.user, space=space,
                                        users=form.cleaned_data["emails"])
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, f"{count} {'person' if count == 1 else 'people'} "
                                      "invited.")
            return redirect("community:space_members", space.slug)
    return render(request, "community/spaces/members.html", {
        "space": space, "form": form,
        **selectors.members_for_managers(user=request.user, space=space),
    }, status=400 if form.errors else 200)


@login_required
@require_POST
def space_member_change(request, slug, pk):
    space = selectors.space_managed_get(user=request.user, slug=slug)
    membership = get_object_or_404(SpaceMembership, pk=pk, space=space)
    form = MemberChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose what to do.")
        return redirect("community:space_members", space.slug)
    try:
        spaces.space_member_change(actor=request.user, space=space, membership=membership,
                                   action=form.cleaned_data["action"])
    except ValidationError as error:
        _error(request, error)
    else:
        messages.success(request, "Done.")
    return redirect("community:space_members", space.slug)


@login_required
def space_queue(request, slug):
    space = selectors.space_moderated_get(user=request.user, slug=slug)
    queue = selectors.moderation_queue(user=request.user, space=space)
    return render(request, "community/spaces/queue.html", {
        "space": space, **queue, "can_reveal": policy.can_reveal_identity(request.user, space),
    })


@login_required
def space_log(request, slug):
    space = selectors.space_get(user=request.user, slug=slug)
    entries = selectors.moderation_log(user=request.user, space=space)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    return render(request, "community/spaces/log.html", {"space": space, "page": page})


# --- Threads and posts ------------------------------------------------------------------------

def _quote_from(request, space):
    """The post to quote (``?quote=`` or a hidden field), if the person may quote it here."""
    raw = request.POST.get("quote") or request.GET.get("quote")
    if not raw or not str(raw).isdigit():
        return None
    post = selectors.post_get(user=request.user, pk=int(raw))
    if not policy.can_quote_post(request.user, post, space):
        raise Http404("No such post.")
    return post


@login_required
def thread_new(request, slug):
    space = selectors.space_get(user=request.user, slug=slug)
    if not policy.can_post_in_space(request.user, space):
        messages.info(request, "Join the space and accept its ground rules to post.")
        return redirect("community:space_join", space.slug)
    quote = _quote_from(request, space)
    form = ThreadForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            thread = spaces.thread_create(actor=request.user, space=space, quote=quote,
                                          **form.cleaned_data)
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            if thread.state == thread.State.AWAITING:
                messages.success(request, "Thank you. As a newcomer, your first posts wait for "
                                          "a moderator before others see them.")
            return redirect(thread)
    return render(request, "community/spaces/thread_form.html", {
        "space": space, "form": form, "quote": quote,
        "quote_by": selectors.author_label(quote) if quote else "",
    }, status=400 if form.errors else 200)


def _thread_page(request, space, thread, *, reply_form=None, status=200):
    user = request.user
    posts = selectors.thread_posts(user=user, thread=thread)
    page = Paginator(posts, POSTS_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = selectors.label_posts(page.object_list, user=user)
    if reply_form is None:
        initial = {}
        quote = request.GET.get("quote", "")
        if quote.isdigit():
            post = selectors.post_get(user=user, pk=int(quote))
            if post.thread_id == thread.pk and policy.can_quote_post(user, post, space):
                initial["body"] = markdown.plain_quote(post.body_markdown,
                                                       selectors.author_label(post))
        reply_form = PostForm(initial=initial)
    return render(request, "community/spaces/thread_detail.html", {
        **_space_context(user, space), "thread": thread, "page": page,
        "reply_form": reply_form,
        "can_reply": policy.can_reply_in_thread(user, thread),
        "can_export": policy.can_export_thread(user, thread),
        "can_reveal": policy.can_reveal_identity(user, space),
    }, status=status)


@login_required
def thread_detail(request, slug, pk):
    space = selectors.space_get(user=request.user, slug=slug)
    thread = selectors.thread_get(user=request.user, space=space, pk=pk)
    return _thread_page(request, space, thread)


@login_required
@require_POST
def post_reply(request, slug, pk):
    space = selectors.space_get(user=request.user, slug=slug)
    thread = selectors.thread_get(user=request.user, space=space, pk=pk)
    form = PostForm(request.POST)
    if not form.is_valid():
        return _thread_page(request, space, thread, reply_form=form, status=400)
    try:
        post = spaces.post_create(actor=request.user, thread=thread, **form.cleaned_data)
    except ValidationError as error:
        errors_to_form(form, error)
        return _thread_page(request, space, thread, reply_form=form, status=400)
    if post.state == Post.State.AWAITING:
        messages.success(request, "Thank you. As a newcomer, your first posts wait for a "
                                  "moderator before others see them.")
    return redirect(f"{thread.get_absolute_url()}?page=last#post-{post.pk}")


@login_required
def thread_export(request, slug, pk):
    """The thread's visible posts as a Markdown file. Never under the Chatham House rule."""
    space = selectors.space_get(user=request.user, slug=slug)
    thread = selectors.thread_get(user=request.user, space=space, pk=pk)
    if not policy.can_export_thread(request.user, thread):
        raise Http404("No such thread.")
    posts = [post for post in selectors.label_posts(
        selectors.thread_posts(user=request.user, thread=thread), user=request.user)
        if post.state == Post.State.VISIBLE]
    lines = [f"# {thread.title}", "", f"From the discussion space “{space.name}”, "
             f"{timezone.localtime():%d %B %Y}.", ""]
    for post in posts:
        lines += [f"## {post.by}, {timezone.localtime(post.created):%d %B %Y %H:%M}", "",
                  post.body_markdown, ""]
    response = HttpResponse("\n".join(lines), content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="thread-{thread.pk}.md"'
    return response


@login_required
@require_POST
def thread_lock(request, slug, pk):
    space = selectors.space_moderated_get(user=request.user, slug=slug)
    thread = selectors.thread_get(user=request.user, space=space, pk=pk)
    form = LockForm(request.POST)
    form.is_valid()
    try:
        spaces.thread_lock(actor=request.user, thread=thread,
                           locked=request.POST.get("locked") == "1",
                           reason=form.cleaned_data.get("reason", ""))
    except ValidationError as error:
        _error(request, error)
    else:
        messages.success(request, "The thread is locked." if request.POST.get("locked") == "1"
                         else "The thread is open for replies again.")
    return redirect(thread)


@login_required
def post_flag(request, pk):
    post = selectors.post_get(user=request.user, pk=pk)
    if not policy.can_read_post(request.user, post):
        raise Http404("No such post.")
    form = FlagForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            spaces.post_flag(actor=request.user, post=post, **form.cleaned_data)
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, "Thank you. The moderators will look at the post.")
            return redirect(post.thread)
    return render(request, "community/spaces/post_flag.html", {
        "post": post, "space": post.thread.space, "form": form,
        "by": selectors.author_label(post),
    }, status=400 if form.errors else 200)


@login_required
@require_POST
def post_moderate(request, pk):
    post = selectors.post_get(user=request.user, pk=pk)
    space = post.thread.space
    if not policy.can_moderate_space(request.user, space):
        raise Http404("No such post.")
    form = ModerateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose what to do with the post.")
    else:
        try:
            spaces.post_moderate(actor=request.user, post=post, **form.cleaned_data)
        except ValidationError as error:
            _error(request, error)
        else:
            label = dict(Action.choices)[form.cleaned_data["action"]]
            messages.success(request, f"Done: you {label}.")
    back = request.POST.get("next", "")
    if back == "queue":
        return redirect("community:space_queue", space.slug)
    return redirect(post.thread)


@login_required
def post_quote(request, pk):
    """Where the person may quote a post: the spaces they can post in (only its own space
    under the Chatham House rule)."""
    post = selectors.post_get(user=request.user, pk=pk)
    if post.state != Post.State.VISIBLE or not policy.can_read_post(request.user, post):
        raise Http404("No such post.")
    targets = [space for space in selectors.space_list(user=request.user)
               if policy.can_quote_post(request.user, post, space)]
    return render(request, "community/spaces/post_quote.html", {
        "post": post, "space": post.thread.space, "targets": targets,
    })


@login_required
def post_reveal(request, pk):
    post = selectors.post_get(user=request.user, pk=pk)
    space = post.thread.space
    if not policy.can_reveal_identity(request.user, space):
        raise Http404("No such post.")
    form = RevealForm(request.POST if request.method == "POST" else None)
    reveal = None
    if request.method == "POST" and form.is_valid():
        try:
            reveal = spaces.identity_reveal(actor=request.user, post=post,
                                            reason=form.cleaned_data["reason"])
        except ValidationError as error:
            errors_to_form(form, error)
    person = reveal.membership.user if reveal else None
    return render(request, "community/spaces/post_reveal.html", {
        "post": post, "space": space, "form": form, "reveal": reveal, "person": person,
        "profile": getattr(person, "profile", None),
        "pseudonym": post.author.pseudonym if post.author else "",
    }, status=400 if form.errors else 200)


# --- Notifications ----------------------------------------------------------------------------

MODERATED_TEXT = {
    Action.AUTO_HIDE: "was hidden after members flagged it, until a moderator decides",
    Action.HIDE: "was hidden by a moderator",
    Action.REMOVE: "was removed by a moderator",
    Action.REJECT: "was not approved by a moderator",
    Action.RESTORE: "was restored by a moderator",
}


def describe(notification: Notification) -> tuple[str, str]:
    """The sentence and the address of one notification. Authors follow the space's rules:
    nobody under the Chatham House rule, the pseudonym in a pseudonymous space."""
    Kind = Notification.Kind
    space, thread, post = notification.space, notification.thread, notification.post
    where = f"“{thread.title}” in {space.name}" if thread else space.name
    by = selectors.author_label(post, in_notification=True) if post else ""
    url = post.get_absolute_url() if post else (thread.get_absolute_url() if thread
                                                else space.get_absolute_url())
    if notification.kind == Kind.REPLY:
        text = f"{by} replied in {where}." if by else f"New reply in {where}."
    elif notification.kind == Kind.MENTION:
        text = f"{by} mentioned you in {where}." if by else f"You were mentioned in {where}."
    elif notification.kind == Kind.INVITED:
        text, url = f"You are invited to join the space {space.name}.", space.get_absolute_url()
    elif notification.kind == Kind.APPROVED:
        text = f"Your post in {where} was approved: everyone in the space can see it now."
    elif notification.kind == Kind.MODERATED:
        text = (f"Your post in {where} "
                f"{MODERATED_TEXT.get(notification.action, 'was moderated')}.")
        decision = ModerationAction.objects.filter(
            post=post, action=notification.action).order_by("-created", "-id").first()
        if decision and decision.reason and notification.action != Action.AUTO_HIDE:
            text += f" The moderator's reason: “{decision.reason}”"
    elif notification.kind == Kind.QUEUE:
        url = reverse("community:space_queue", args=[space.slug])
        text = (f"A post in {where} was hidden after flags and waits for a moderator."
                if notification.action == Action.AUTO_HIDE
                else f"A post in {where} waits for approval.")
    else:
        text = (f"Hub staff revealed who is behind your pseudonym in {space.name}. The reason "
                "is in the space's moderation log.")
        url = reverse("community:space_log", args=[space.slug])
    return text, url


@login_required
def notifications(request):
    _members_only(request)
    if request.method == "POST":
        spaces.notifications_mark_read(actor=request.user)
        messages.success(request, "All marked as read.")
        return redirect("community:notifications")
    items = Paginator(selectors.notification_list(user=request.user), 50) \
        .get_page(request.GET.get("page"))
    rows = [(n, *describe(n)) for n in items.object_list]
    return render(request, "community/spaces/notifications.html", {
        "page": items, "rows": rows, "unread": any(n.read_at is None for n, *_ in rows)})
