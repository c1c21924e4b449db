"""Every change to discussion spaces goes through a function here, and each checks the
policy again.

Privacy rules the functions keep:

- In a pseudonymous space the audit trail records members' own actions (posting, flagging)
  without the actor, so not even the trail links a person to a pseudonym; only an identity
  reveal does, and it records who revealed, when and why. Moderators' actions always name the
  moderator in the trail; the space's own log shows only their role.
- No audit record of a space carries its organisation: an organisation's admins read those
  records, and a space's activity is the space's business.
- Notifications store no author. Mail about a space names neither the author nor what was
  written: it says where to look.
"""

import re
import secrets

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from hub import policy
from hub.community import markdown
from hub.community.models import (
    PSEUDONYM_ADJECTIVES,
    PSEUDONYM_NOUNS,
    Flag,
    IdentityReveal,
    ModerationAction,
    Notification,
    Post,
    Space,
    SpaceInvitation,
    SpaceMembership,
    Thread,
)
from hub.core.services import audit_record, email_queue, unique_slug

# A member's posts wait for a moderator until this many of their posts, anywhere in the hub,
# have been approved (or went up straight away).
TRUSTED_AFTER = 2
RESERVED_SLUGS = {"new", "notifications", "posts", "moderation"}
MAX_BODY = 20000
Action = ModerationAction.Action
Kind = Notification.Kind


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _actor(user, space: Space):
    """Who the audit trail names for a member's own action in the space."""
    return None if space.pseudonymous else user


def _log(actor, action: str, target=None, **context):
    return audit_record(actor=actor, action=f"community.{action}", target=target, **context)


def _membership(user, space: Space) -> SpaceMembership | None:
    policy.forget_space_memberships(user)
    return policy.space_membership(user, space)


# --- Spaces -----------------------------------------------------------------------------------


def pseudonym_new(space: Space) -> str:
    """A pseudonym nobody else in the space has, drawn at random: nothing about the person
    goes into it, so it cannot be worked back to them."""
    taken = set(space.memberships.values_list("pseudonym", flat=True))
    for _ in range(200):
        name = (f"{secrets.choice(PSEUDONYM_ADJECTIVES)} {secrets.choice(PSEUDONYM_NOUNS)} "
                f"{10 + secrets.randbelow(90)}")
        if name not in taken:
            return name
    raise RuntimeError("No free pseudonym in this space.")  # 144,000 to choose from


def _check_organisation(actor, organisation) -> None:
    allowed = policy.space_organisation_ids(actor)
    if allowed is None:
        return
    if organisation is None or organisation.pk not in allowed:
        raise ValidationError({"organisation": "Choose an organisation you are an admin of."})


@transaction.atomic
def space_create(*, actor, organisation=None, **fields) -> Space:
    """A new space; whoever makes it is its first moderator."""
    _require(policy.can_create_space(actor))
    _check_organisation(actor, organisation)
    space = Space(created_by=actor, organisation=organisation,
                  slug=unique_slug(Space, fields.get("name", ""), reserved=RESERVED_SLUGS),
                  **fields)
    space.full_clean()
    space.save()
    SpaceMembership.objects.create(space=space, user=actor, role=SpaceMembership.Role.MODERATOR,
                                   pseudonym=pseudonym_new(space),
                                   accepted_rules_at=timezone.now())
    policy.forget_space_memberships(actor)
    _log(actor, "space_created", space, visibility=space.visibility,
         pseudonymous=space.pseudonymous, chatham_house=space.chatham_house)
    return space


@transaction.atomic
def space_update(*, actor, space: Space, **fields) -> Space:
    """Change the space. What members were promised when they wrote (pseudonyms, the Chatham
    House rule, a closed audience) cannot be taken back once there are posts. New ground
    rules must be accepted again before the next post."""
    _require(policy.can_manage_space(actor, space))
    space = Space.objects.select_for_update().get(pk=space.pk)
    if "organisation" in fields and fields["organisation"] != space.organisation:
        _check_organisation(actor, fields["organisation"])
    has_posts = Post.objects.filter(thread__space=space).exists()
    errors = {}
    if has_posts:
        if fields.get("pseudonymous", space.pseudonymous) != space.pseudonymous:
            errors["pseudonymous"] = ("Members have posted under this setting: it cannot "
                                      "change now.")
        if space.chatham_house and not fields.get("chatham_house", True):
            errors["chatham_house"] = ("Members have posted under the Chatham House rule: it "
                                       "cannot be lifted now.")
        if (space.visibility == Space.Visibility.INVITATION
                and fields.get("visibility", space.visibility) == Space.Visibility.OPEN):
            errors["visibility"] = ("Members wrote for a closed audience: the space cannot be "
                                    "opened to everyone now.")
    if errors:
        raise ValidationError(errors)
    rules_changed = fields.get("ground_rules", space.ground_rules) != space.ground_rules
    changed = sorted(name for name, value in fields.items() if getattr(space, name) != value)
    for name, value in fields.items():
        setattr(space, name, value)
    if rules_changed:
        space.rules_changed_at = timezone.now()
    space.full_clean()
    space.save()
    if rules_changed:
        space.memberships.filter(user=actor).update(accepted_rules_at=space.rules_changed_at)
        policy.forget_space_memberships(actor)
    _log(actor, "space_updated", space, fields=changed)
    return space


@transaction.atomic
def space_accept_rules(*, actor, space: Space, accept: bool) -> SpaceMembership:
    """Join the space (or come back to it), or accept ground rules that changed."""
    membership = _membership(actor, space)
    _require(policy.can_join_space(actor, space)
             or (membership is not None and not membership.has_accepted_rules(space)))
    if not accept:
        raise ValidationError({"accept": "Tick the box to accept the ground rules."})
    now = timezone.now()
    if membership is None:
        membership = SpaceMembership.objects.select_for_update().filter(
            space=space, user=actor).first()
        if membership is None:
            membership = SpaceMembership(space=space, user=actor,
                                         pseudonym=pseudonym_new(space))
        membership.left_at = None
        membership.role = SpaceMembership.Role.MEMBER
        membership.joined_at = now
        SpaceInvitation.objects.filter(space=space, user=actor).delete()
        _log(actor, "space_joined", space)
    membership.accepted_rules_at = now
    membership.save()
    policy.forget_space_memberships(actor)
    return membership


@transaction.atomic
def space_leave(*, actor, space: Space) -> None:
    membership = _membership(actor, space)
    if membership is None:
        raise ValidationError("You are not a member of this space.")
    others = space.memberships.filter(role=SpaceMembership.Role.MODERATOR, left_at=None) \
        .exclude(pk=membership.pk)
    if membership.is_moderator and not others.exists():
        raise ValidationError("You are this space's only moderator: make someone else a "
                              "moderator before you leave.")
    membership.left_at = timezone.now()
    membership.role = SpaceMembership.Role.MEMBER
    membership.save(update_fields=["left_at", "role"])
    policy.forget_space_memberships(actor)
    _log(actor, "space_left", space)


def _mail(user, template: str, subject: str, **context) -> None:
    if not user.email or not user.is_active:
        return
    body = render_to_string(f"community/email/{template}.txt",
                            {"site_url": settings.SITE_URL, **context})
    email_queue(subject=settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + subject, body=body,
                to=[user.email], from_email=settings.DEFAULT_FROM_EMAIL)


@transaction.atomic
def space_invite(*, actor, space: Space, users) -> int:
    """Invite members of the hub; those already in the space or invited are skipped.
    Returns how many were invited."""
    _require(policy.can_manage_space(actor, space))
    invited = 0
    for user in users:
        if not policy.is_member(user):
            raise ValidationError({"emails": "Only members of the hub can be invited."})
        if space.memberships.filter(user=user, left_at=None).exists():
            continue
        invitation, created = SpaceInvitation.objects.get_or_create(
            space=space, user=user, defaults={"invited_by": actor})
        if not created:
            continue
        invited += 1
        _notify(user, Kind.INVITED, space)
        _mail(user, "space_invited", f"You are invited to a discussion space: {space}",
              space=space, url=settings.SITE_URL + space.get_absolute_url())
        _log(actor, "space_invited", invitation, space_id=space.pk)
    return invited


@transaction.atomic
def space_member_change(*, actor, space: Space, membership: SpaceMembership,
                        action: str) -> SpaceMembership:
    """Make a member a moderator or a member again, or remove them from the space."""
    _require(policy.can_manage_space(actor, space) and membership.space_id == space.pk)
    membership = SpaceMembership.objects.select_for_update().get(pk=membership.pk)
    if membership.user_id == actor.pk:
        raise ValidationError("You cannot change your own place in the space.")
    if membership.left_at is not None:
        raise ValidationError("This person is no longer in the space.")
    if action == "moderator":
        membership.role = SpaceMembership.Role.MODERATOR
    elif action == "member":
        membership.role = SpaceMembership.Role.MEMBER
    elif action == "remove":
        membership.role = SpaceMembership.Role.MEMBER
        membership.left_at = timezone.now()
        _record(space, actor, Action.REMOVE_MEMBER,
                pseudonym=membership.pseudonym if space.pseudonymous else "")
    else:
        raise ValidationError("Choose what to do.")
    membership.save(update_fields=["role", "left_at"])
    policy.forget_space_memberships(membership.user)
    _log(actor, "space_member_changed", space, change=action)
    return membership


# --- Notifications ----------------------------------------------------------------------------

def _notify(user, kind: str, space: Space, *, thread=None, post=None, action: str = ""):
    return Notification.objects.create(user=user, kind=kind, space=space, thread=thread,
                                       post=post, action=action)


def handle(membership: SpaceMembership, space: Space) -> str:
    """What others write after "@" to mention this member: the pseudonym in a pseudonymous
    space (never the name), the display name otherwise."""
    if space.pseudonymous:
        return membership.pseudonym
    profile = getattr(membership.user, "profile", None)
    return profile.display_name if profile else ""


def mentioned(text: str, space: Space) -> list[SpaceMembership]:
    """Current members of the space that ``text`` mentions."""
    found = []
    members = space.memberships.filter(left_at=None).select_related("user__profile")
    for membership in members:
        name = handle(membership, space)
        if name and re.search(rf"(?<![\w@])@{re.escape(name)}(?!\w)", text, re.IGNORECASE):
            found.append(membership)
    return found


def _announce(post: Post) -> None:
    """Tell people about a post that has just become visible: those it mentions, and those
    who took part in the thread."""
    thread, space = post.thread, post.thread.space
    author_user = post.author.user_id if post.author else None
    told = set()
    for membership in mentioned(post.body_markdown, space):
        if membership.user_id in (author_user, *told):
            continue
        told.add(membership.user_id)
        _notify(membership.user, Kind.MENTION, space, thread=thread, post=post)
        _mail(membership.user, "space_mention", f"You were mentioned in {space}",
              space=space, thread=thread, url=settings.SITE_URL + post.get_absolute_url())
    taking_part = SpaceMembership.objects.filter(
        Q(posts__thread=thread, posts__state=Post.State.VISIBLE) | Q(threads=thread),
        left_at=None).select_related("user").distinct()
    for membership in taking_part:
        if membership.user_id in (author_user, *told):
            continue
        told.add(membership.user_id)
        _notify(membership.user, Kind.REPLY, space, thread=thread, post=post)


def _tell_moderators(space: Space, post: Post, action: str) -> None:
    """A post waits in the queue: tell the space's own moderators (not the author)."""
    moderators = space.memberships.filter(role=SpaceMembership.Role.MODERATOR, left_at=None) \
        .select_related("user")
    for membership in moderators:
        if post.author_id != membership.pk:
            _notify(membership.user, Kind.QUEUE, space, thread=post.thread, post=post,
                    action=action)


@transaction.atomic
def notifications_mark_read(*, actor) -> int:
    _require(policy.is_member(actor))
    return Notification.objects.filter(user=actor, read_at=None).update(read_at=timezone.now())


# --- Threads and posts ------------------------------------------------------------------------

def is_trusted(user, space: Space) -> bool:
    """Whether the person's posts go up without waiting for a moderator."""
    if policy.can_moderate_space(user, space):
        return True
    approved = Post.objects.filter(author__user=user, approved_at__isnull=False).count()
    return approved >= TRUSTED_AFTER


def _clean_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": "Write something first."})
    if len(body) > MAX_BODY:
        raise ValidationError({"body": f"Please keep a post under {MAX_BODY:,} characters."})
    return body


def _quote_text(actor, quote: Post | None, space: Space) -> str:
    if quote is None:
        return ""
    if not policy.can_quote_post(actor, quote, space):
        raise ValidationError("This post cannot be quoted here: posts under the Chatham House "
                              "rule stay in their own space.")
    from hub.community.spaces_selectors import author_label

    source = quote.thread.space
    attribution = author_label(quote) if source.pk == space.pk else f"in {source.name}"
    return markdown.plain_quote(quote.body_markdown, attribution)


def _add_post(*, actor, membership: SpaceMembership, thread: Thread, body: str) -> Post:
    space = thread.space
    now = timezone.now()
    visible = is_trusted(actor, space)
    post = Post.objects.create(
        thread=thread, author=membership, body_markdown=body, body_html=markdown.render(body),
        state=Post.State.VISIBLE if visible else Post.State.AWAITING,
        approved_at=now if visible else None, created=now)
    if visible:
        Thread.objects.filter(pk=thread.pk).update(last_post_at=now)
        _announce(post)
    else:
        _tell_moderators(space, post, "awaiting")
    _log(_actor(actor, space), "post_created", post, space_id=space.pk, state=post.state)
    return post


@transaction.atomic
def thread_create(*, actor, space: Space, title: str, body: str,
                  quote: Post | None = None) -> Thread:
    """Start a thread. A newcomer's thread waits, with its first post, for a moderator."""
    _require(policy.can_post_in_space(actor, space))
    title = (title or "").strip()
    errors = {}
    if not title:
        errors["title"] = "Give the thread a title."
    elif len(title) > 200:
        errors["title"] = "Please keep the title under 200 characters."
    try:
        body = _clean_body(_quote_text(actor, quote, space) + (body or ""))
    except ValidationError as error:
        errors.update(error.message_dict if hasattr(error, "error_dict")
                      else {"body": error.messages})
    if errors:
        raise ValidationError(errors)
    membership = _membership(actor, space)
    trusted = is_trusted(actor, space)
    thread = Thread.objects.create(
        space=space, title=title, created_by=membership,
        state=Thread.State.VISIBLE if trusted else Thread.State.AWAITING)
    _add_post(actor=actor, membership=membership, thread=thread, body=body)
    return thread


@transaction.atomic
def post_create(*, actor, thread: Thread, body: str) -> Post:
    """Reply in a thread."""
    thread = Thread.objects.select_for_update(of=("self",)).select_related("space").get(
        pk=thread.pk)
    _require(policy.can_view_thread(actor, thread))
    if thread.locked:
        raise ValidationError("This thread is locked: no more replies.")
    _require(policy.can_reply_in_thread(actor, thread))
    body = _clean_body(body)
    membership = _membership(actor, thread.space)
    return _add_post(actor=actor, membership=membership, thread=thread, body=body)


# --- Flags ------------------------------------------------------------------------------------

@transaction.atomic
def post_flag(*, actor, post: Post, reason: str, note: str = "") -> Flag:
    """Flag a post for the moderators. Enough flags (the space's threshold) hide it until a
    moderator decides."""
    post = Post.objects.select_for_update(of=("self",)).select_related("thread__space").get(
        pk=post.pk)
    space = post.thread.space
    _require(policy.can_view_thread(actor, post.thread))
    membership = _membership(actor, space)
    if membership is None:
        raise ValidationError("Join the space to flag its posts.")
    if post.author_id == membership.pk:
        raise ValidationError("You cannot flag your own post.")
    if Flag.objects.filter(post=post, flagger=membership).exists():
        raise ValidationError("You have already flagged this post. The moderators will look "
                              "at it.")
    if post.state != Post.State.VISIBLE:
        raise ValidationError("This post is already with the moderators.")
    _require(policy.can_flag_post(actor, post))
    if reason not in Flag.Reason.values:
        raise ValidationError({"reason": "Choose why you are flagging it."})
    note = (note or "").strip()
    if len(note) > 500:
        raise ValidationError({"note": "Please keep the note under 500 characters."})
    flag = Flag.objects.create(post=post, flagger=membership, reason=reason, note=note)
    _log(_actor(actor, space), "post_flagged", post, space_id=space.pk, reason=reason)
    open_flags = post.flags.filter(resolved_at=None).count()
    if open_flags >= space.flag_threshold:
        post.state = Post.State.HIDDEN
        post.save(update_fields=["state"])
        _record(space, None, Action.AUTO_HIDE, post=post,
                reason=f"{open_flags} members flagged it.")
        if post.author:
            _notify(post.author.user, Kind.MODERATED, space, thread=post.thread, post=post,
                    action=Action.AUTO_HIDE)
        _tell_moderators(space, post, Action.AUTO_HIDE)
    return flag


# --- Moderation -------------------------------------------------------------------------------

def _role(user, space: Space) -> str:
    if user is None:
        return ModerationAction.Role.AUTOMATIC
    membership = policy.space_membership(user, space)
    if membership is not None and membership.is_moderator:
        return ModerationAction.Role.SPACE_MODERATOR
    if policy.acts_as_moderator(user):
        return ModerationAction.Role.HUB_MODERATOR
    return ModerationAction.Role.STAFF


def _record(space: Space, moderator, action: str, *, post=None, thread=None, reason="",
            pseudonym="") -> ModerationAction:
    entry = ModerationAction.objects.create(
        space=space, moderator=moderator, role=_role(moderator, space), action=action,
        post=post, thread=thread or (post.thread if post else None), reason=reason,
        pseudonym=pseudonym)
    _log(moderator, f"moderation_{action}", entry, space_id=space.pk,
         post_id=post.pk if post else None)
    return entry


# action → (states it may start from, state it leads to, whether a reason is required)
TRANSITIONS = {
    Action.APPROVE: ({Post.State.AWAITING}, Post.State.VISIBLE, False),
    Action.REJECT: ({Post.State.AWAITING}, Post.State.REMOVED, True),
    Action.HIDE: ({Post.State.VISIBLE}, Post.State.HIDDEN, True),
    Action.RESTORE: ({Post.State.HIDDEN, Post.State.REMOVED, Post.State.VISIBLE},
                     Post.State.VISIBLE, False),
    Action.REMOVE: ({Post.State.VISIBLE, Post.State.HIDDEN}, Post.State.REMOVED, True),
}


@transaction.atomic
def post_moderate(*, actor, post: Post, action: str, reason: str = "") -> Post:
    """A moderator's decision on a post. Restoring a visible post keeps it and clears its
    flags; every decision settles the flags made before it."""
    # Only the post's row is locked: its author may be gone (erased), an outer join.
    post = Post.objects.select_for_update(of=("self",)).select_related(
        "thread__space", "author__user").get(pk=post.pk)
    thread, space = post.thread, post.thread.space
    _require(policy.can_moderate_space(actor, space))
    if action not in TRANSITIONS:
        raise ValidationError({"action": "Choose what to do with the post."})
    sources, target, needs_reason = TRANSITIONS[action]
    reason = (reason or "").strip()
    if post.state not in sources or (action == Action.RESTORE and post.state == Post.State.VISIBLE
                                     and not post.flags.filter(resolved_at=None).exists()):
        raise ValidationError("Someone has already dealt with this post.")
    if needs_reason and not reason:
        raise ValidationError({"reason": "Give a reason: the author and the space's log "
                                         "show it."})
    if len(reason) > 2000:
        raise ValidationError({"reason": "Please keep the reason under 2,000 characters."})
    first_showing = target == Post.State.VISIBLE and post.approved_at is None
    post.state = target
    if first_showing:
        post.approved_at = timezone.now()
    post.save(update_fields=["state", "approved_at"])
    post.flags.filter(resolved_at=None).update(resolved_at=timezone.now())
    opening = not thread.posts.filter(created__lt=post.created).exclude(pk=post.pk).exists()
    if opening and thread.state != Thread.State.VISIBLE and target == Post.State.VISIBLE:
        thread.state = Thread.State.VISIBLE
        thread.save(update_fields=["state"])
    elif opening and action == Action.REJECT:
        thread.state = Thread.State.REMOVED
        thread.save(update_fields=["state"])
    if target == Post.State.VISIBLE:
        Thread.objects.filter(pk=thread.pk, last_post_at__lt=post.created).update(
            last_post_at=post.created)
    _record(space, actor, action, post=post, reason=reason)
    if post.author and post.author.left_at is None:
        kind = Kind.APPROVED if action == Action.APPROVE else Kind.MODERATED
        _notify(post.author.user, kind, space, thread=thread, post=post, action=action)
    if first_showing:
        _announce(post)
    return post


@transaction.atomic
def thread_lock(*, actor, thread: Thread, locked: bool, reason: str = "") -> Thread:
    thread = Thread.objects.select_for_update(of=("self",)).select_related("space").get(
        pk=thread.pk)
    _require(policy.can_moderate_space(actor, thread.space))
    if thread.locked == locked:
        raise ValidationError("The thread is already locked." if locked
                              else "The thread is already open.")
    thread.locked = locked
    thread.save(update_fields=["locked"])
    _record(thread.space, actor, Action.LOCK if locked else Action.UNLOCK, thread=thread,
            reason=(reason or "").strip()[:2000])
    return thread


@transaction.atomic
def identity_reveal(*, actor, post: Post, reason: str) -> IdentityReveal:
    """Hub staff learn who wrote a pseudonymous post. The reason is required and recorded in
    the audit trail and the reveal itself; the space's log says a pseudonym was revealed (not
    whose identity), and the person is told."""
    post = Post.objects.select_related("thread__space", "author__user").get(pk=post.pk)
    space = post.thread.space
    _require(policy.can_reveal_identity(actor, space) and policy.can_view_thread(actor,
                                                                                  post.thread))
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise ValidationError({"reason": "Say why you need to know, in at least ten "
                                         "characters: it is recorded."})
    if len(reason) > 2000:
        raise ValidationError({"reason": "Please keep the reason under 2,000 characters."})
    if post.author is None:
        raise ValidationError("The author's account has been erased: there is nobody to "
                              "reveal.")
    reveal = IdentityReveal.objects.create(space=space, membership=post.author, post=post,
                                           revealed_by=actor, reason=reason)
    _log(actor, "identity_revealed", reveal, space_id=space.pk, post_id=post.pk)
    _record(space, actor, Action.REVEAL, post=post, reason=reason,
            pseudonym=post.author.pseudonym)
    _notify(post.author.user, Kind.REVEALED, space, thread=post.thread, post=post)
    return reveal
