"""Reads that the space pages share. Every list goes through the policy first, and every
author is shown by the space's rules (``author_label``)."""

from django.db.models import Count, Exists, OuterRef, Q
from django.http import Http404

from hub import policy
from hub.community.models import (
    Flag,
    ModerationAction,
    Notification,
    Post,
    Space,
    SpaceInvitation,
    SpaceMembership,
    Thread,
)
from hub.members.personal_data import ERASED_LABEL

SEARCH_LIMIT = 50


def author_label(post: Post, *, in_notification: bool = False) -> str:
    """How a post's author is named: nobody in a notification under the Chatham House rule,
    the pseudonym in a pseudonymous space, otherwise the display name (with sector)."""
    space = post.thread.space
    if in_notification and space.chatham_house:
        return ""
    if post.author is None:
        return ERASED_LABEL
    if space.pseudonymous:
        return post.author.pseudonym
    profile = getattr(post.author.user, "profile", None)
    if profile is None or not post.author.user.is_active:
        return ERASED_LABEL
    sector = profile.get_sector_display() if hasattr(profile, "get_sector_display") else ""
    return f"{profile.display_name} ({sector})" if sector else profile.display_name


def space_list(*, user):
    visible_threads = Count("threads", filter=Q(threads__state=Thread.State.VISIBLE))
    return policy.visible_spaces(user, Space.objects.all()).annotate(
        thread_count=visible_threads,
        member_count=Count("memberships", filter=Q(memberships__left_at=None), distinct=True),
    ).order_by("name", "id")


def my_space_ids(user) -> dict[str, set[int]]:
    """The spaces the person belongs to and those they are invited to."""
    if not policy.is_member(user):
        return {"joined": set(), "invited": set()}
    return {
        "joined": set(SpaceMembership.objects.filter(user=user, left_at=None)
                      .values_list("space_id", flat=True)),
        "invited": set(SpaceInvitation.objects.filter(user=user)
                       .values_list("space_id", flat=True)),
    }


def space_get(*, user, slug: str) -> Space:
    """The space, or 404 when it does not exist or the person may not see it."""
    space = policy.visible_spaces(user, Space.objects.filter(slug=slug)).first()
    if space is None:
        raise Http404("No such space.")
    return space


def space_managed_get(*, user, slug: str) -> Space:
    space = space_get(user=user, slug=slug)
    if not policy.can_manage_space(user, space):
        raise Http404("No such space.")
    return space


def space_moderated_get(*, user, slug: str) -> Space:
    space = space_get(user=user, slug=slug)
    if not policy.can_moderate_space(user, space):
        raise Http404("No such space.")
    return space


def thread_list(*, user, space: Space):
    shown = Q(posts__state=Post.State.VISIBLE)
    return (policy.visible_threads(user, space.threads.all())
            .annotate(post_count=Count("posts", filter=shown))
            .order_by("-last_post_at", "-id"))


def thread_get(*, user, space: Space, pk: int) -> Thread:
    thread = policy.visible_threads(user, Thread.objects.filter(space=space, pk=pk)) \
        .select_related("space").first()
    if thread is None:
        raise Http404("No such thread.")
    return thread


def thread_posts(*, user, thread: Thread):
    """The posts shown in a thread, oldest first: those the person may read, and a mark
    where a post was hidden or removed. Each carries ``readable`` and ``by``."""
    readable = policy.readable_posts(user, thread.posts.all()).values("pk")
    qs = thread.posts.filter(Q(pk__in=readable) | Q(state__in=[Post.State.HIDDEN,
                                                                Post.State.REMOVED]))
    return qs.select_related("thread__space", "author__user__profile").annotate(
        open_flags=Count("flags", filter=Q(flags__resolved_at=None))).order_by("created", "id")


def label_posts(posts, *, user) -> list[Post]:
    """Mark each post with what the person may read and how its author is named."""
    posts = list(posts)
    readable = set(policy.readable_posts(user, Post.objects.filter(
        pk__in=[post.pk for post in posts])).values_list("pk", flat=True))
    membership_ids = set(SpaceMembership.objects.filter(user=user).values_list("pk", flat=True))
    for post in posts:
        post.readable = post.pk in readable
        post.by = author_label(post)
        post.mine = post.author_id in membership_ids
    return posts


def post_get(*, user, pk: int) -> Post:
    """A post in a thread the person may see (its text may still be withheld), or 404."""
    threads = policy.visible_threads(user, Thread.objects.all()).values("pk")
    post = Post.objects.filter(pk=pk, thread__in=threads).select_related(
        "thread__space", "author__user__profile").first()
    if post is None or post.state == Post.State.AWAITING and not policy.can_read_post(user,
                                                                                      post):
        raise Http404("No such post.")
    return post


def thread_search(*, user, query: str):
    """Threads in spaces the person sees whose title, or any post they may read, holds every
    word of ``query``."""
    words = [word for word in (query or "").split() if word][:8]
    if not words:
        return Thread.objects.none()
    posts = policy.readable_posts(user, Post.objects.all())
    threads = policy.visible_threads(user, Thread.objects.all())
    for word in words:
        in_posts = posts.filter(body_markdown__icontains=word).values("thread_id")
        threads = threads.filter(Q(title__icontains=word) | Q(pk__in=in_posts))
    return threads.select_related("space").order_by("-last_post_at", "-id")[:SEARCH_LIMIT]


def moderation_queue(*, user, space: Space) -> dict:
    if not policy.can_moderate_space(user, space):
        raise Http404("No such space.")
    posts = (Post.objects.filter(thread__space=space)
             .select_related("thread__space", "author__user__profile")
             .annotate(open_flags=Count("flags", filter=Q(flags__resolved_at=None)))
             .order_by("created", "id"))
    awaiting = label_posts(posts.filter(state=Post.State.AWAITING), user=user)
    hidden = label_posts(posts.filter(state=Post.State.HIDDEN), user=user)
    open_flag = Flag.objects.filter(post=OuterRef("pk"), resolved_at=None)
    flagged = label_posts(posts.filter(state=Post.State.VISIBLE).filter(Exists(open_flag)),
                          user=user)
    flags = {}
    for flag in Flag.objects.filter(post__in=[p.pk for p in hidden + flagged],
                                    resolved_at=None).order_by("created"):
        # Who flagged is never shown: only why, and the note.
        flags.setdefault(flag.post_id, []).append(flag)
    for post in hidden + flagged:
        post.open_flag_list = flags.get(post.pk, [])
    return {"awaiting": awaiting, "hidden": hidden, "flagged": flagged}


def moderation_log(*, user, space: Space):
    if not policy.can_view_moderation_log(user, space):
        raise Http404("No such space.")
    return space.moderation_log.select_related("thread", "post").order_by("-created", "-id")


def members_for_managers(*, user, space: Space) -> dict:
    """The space's members for its moderators. In a pseudonymous space they are listed by
    pseudonym only, and invitations by number only, so this list cannot link anyone."""
    if not policy.can_manage_space(user, space):
        raise Http404("No such space.")
    members = space.memberships.filter(left_at=None).select_related("user__profile")
    if space.pseudonymous:
        members = members.order_by("-role", "pseudonym")
    else:
        members = members.order_by("-role", "user__profile__display_name")
    invitations = space.invitations.select_related("user__profile")
    return {"members": list(members), "invitations": list(invitations),
            "invitation_count": len(invitations)}


def notification_list(*, user):
    """The person's notifications from spaces and posts they may still see."""
    if not policy.is_member(user):
        return Notification.objects.none()
    spaces = policy.visible_spaces(user, Space.objects.all()).values("pk")
    threads = policy.visible_threads(user, Thread.objects.all()).values("pk")
    posts = policy.readable_posts(user, Post.objects.all()).values("pk")
    qs = Notification.objects.filter(user=user, space__in=spaces).filter(
        Q(thread=None) | Q(thread__in=threads)).filter(
        Q(post=None) | Q(post__in=posts) | Q(kind=Notification.Kind.MODERATED))
    return qs.select_related("space", "thread", "post__thread__space",
                             "post__author__user__profile").order_by("-created", "-id")


def unread_count(user) -> int:
    return notification_list(user=user).filter(read_at=None).count()


def log_role_label(entry: ModerationAction) -> str:
    return entry.get_role_display()
