"""Discussion spaces' services: joining and ground rules, pseudonyms, newcomers' first posts,
flags (and their failure paths), moderation, identity reveals, notifications and mail."""

import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from hub import policy
from hub.community import spaces
from hub.community.models import (
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
from hub.community.spaces_views import describe
from hub.core.models import AuditEvent, OutgoingEmail
from hub.members.models import Membership
from hub.members.tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    UserFactory,
    enrol_mfa,
)

pytestmark = pytest.mark.django_db


# --- Helpers shared with the other space tests ------------------------------------------------

def staff_user(**profile):
    user = UserFactory(is_staff=True, **{f"profile__{k}": v for k, v in profile.items()})
    enrol_mfa(user)
    return user


def make_space(*, by=None, **fields) -> Space:
    """A space made through the service; its creator (hub staff unless given) moderates it."""
    values = {"name": "Safety forum", "description": "Everyday safety.",
              "ground_rules": "Be kind.", "visibility": Space.Visibility.OPEN,
              "chatham_house": False, "pseudonymous": False, "flag_threshold": 3}
    values.update(fields)
    return spaces.space_create(actor=by or staff_user(), **values)


def moderator_of(space: Space):
    return SpaceMembership.objects.get(space=space, role=SpaceMembership.Role.MODERATOR).user


def join(space: Space, user=None, *, trusted: bool = True, **user_fields):
    """A member of the hub who joined the space and accepted its rules (invited first when
    the space needs it). ``trusted`` members' posts go up at once."""
    user = user or UserFactory(**user_fields)
    if not space.is_open:
        spaces.space_invite(actor=moderator_of(space), space=space, users=[user])
    spaces.space_accept_rules(actor=user, space=space, accept=True)
    if trusted:
        make_trusted(user)
    return user


def make_trusted(user) -> None:
    """Give the person approved posts in a space of their own, so theirs go up at once."""
    if Post.objects.filter(author__user=user, approved_at__isnull=False).count() >= \
            spaces.TRUSTED_AFTER:
        return
    elsewhere = Space.objects.create(name="Elsewhere", slug=f"elsewhere-{user.pk}",
                                     ground_rules="-")
    membership = SpaceMembership.objects.create(space=elsewhere, user=user,
                                                pseudonym=f"Trusted {user.pk}")
    thread = Thread.objects.create(space=elsewhere, title="Earlier", created_by=membership)
    for _ in range(spaces.TRUSTED_AFTER):
        Post.objects.create(thread=thread, author=membership, body_markdown="Earlier post",
                            body_html="<p>Earlier post</p>", approved_at=timezone.now())
    policy.forget_space_memberships(user)


def post_in(space: Space, user, body="Hello everyone.", title="A thread") -> Post:
    thread = spaces.thread_create(actor=user, space=space, title=title, body=body)
    return thread.posts.get()


# --- Spaces, joining, rules -------------------------------------------------------------------

def test_space_create_makes_the_creator_its_moderator():
    """The creator is the first moderator, has accepted the rules, and the trail records it."""
    creator = staff_user()
    space = make_space(by=creator, name="New")
    membership = SpaceMembership.objects.get(space=space, user=creator)
    assert membership.is_moderator and membership.has_accepted_rules()
    assert AuditEvent.objects.filter(action="community.space_created", actor=creator).exists()


def test_only_staff_moderators_and_organisation_admins_create_spaces():
    """A plain member cannot; an organisation admin must choose their own organisation."""
    with pytest.raises(PermissionDenied):
        make_space(by=UserFactory())
    admin = MembershipFactory(role=Membership.Role.ADMIN).user
    enrol_mfa(admin)
    with pytest.raises(ValidationError) as error:
        make_space(by=admin, organisation=OrganisationFactory())
    assert "organisation" in error.value.message_dict
    own = Membership.objects.get(user=admin).organisation
    assert make_space(by=admin, organisation=own).organisation == own


def test_posting_needs_joining_and_accepting_the_rules():
    """A member must join and tick the rules; refusing to tick is a clear error."""
    space = make_space()
    person = UserFactory()
    with pytest.raises(PermissionDenied):
        spaces.thread_create(actor=person, space=space, title="Hi", body="Hello")
    with pytest.raises(ValidationError) as error:
        spaces.space_accept_rules(actor=person, space=space, accept=False)
    assert "accept" in error.value.message_dict
    spaces.space_accept_rules(actor=person, space=space, accept=True)
    assert policy.can_post_in_space(person, space)


def test_changed_rules_must_be_accepted_again():
    space = make_space()
    person = join(space)
    spaces.space_update(actor=moderator_of(space), space=space, ground_rules="New rules.")
    space.refresh_from_db()
    policy.forget_space_memberships(person)
    assert not policy.can_post_in_space(person, space)
    assert policy.can_post_in_space(moderator_of(space), space)
    spaces.space_accept_rules(actor=person, space=space, accept=True)
    assert policy.can_post_in_space(person, space)


def test_invitation_only_space_needs_an_invitation_to_join():
    space = make_space(visibility=Space.Visibility.INVITATION)
    outsider = UserFactory()
    assert not policy.can_view_space(outsider, space)
    with pytest.raises(PermissionDenied):
        spaces.space_accept_rules(actor=outsider, space=space, accept=True)
    spaces.space_invite(actor=moderator_of(space), space=space, users=[outsider])
    policy.forget_space_memberships(outsider)
    assert policy.can_view_space(outsider, space) and policy.can_join_space(outsider, space)
    spaces.space_accept_rules(actor=outsider, space=space, accept=True)
    assert not SpaceInvitation.objects.filter(user=outsider).exists()
    assert Notification.objects.filter(user=outsider, kind="invited").exists()


def test_promises_cannot_be_withdrawn_once_members_have_posted():
    """Pseudonyms, the Chatham House rule and a closed audience stay once there are posts."""
    space = make_space(pseudonymous=True, chatham_house=True,
                       visibility=Space.Visibility.INVITATION)
    post_in(space, moderator_of(space))
    with pytest.raises(ValidationError) as error:
        spaces.space_update(actor=moderator_of(space), space=space, pseudonymous=False,
                            chatham_house=False, visibility=Space.Visibility.OPEN)
    assert set(error.value.message_dict) == {"pseudonymous", "chatham_house", "visibility"}


def test_last_moderator_cannot_leave():
    space = make_space()
    with pytest.raises(ValidationError):
        spaces.space_leave(actor=moderator_of(space), space=space)


# --- Pseudonyms -------------------------------------------------------------------------------

def test_pseudonym_is_stable_in_a_space_and_different_elsewhere():
    """Leaving and coming back keeps the pseudonym; another space gives another one; nothing
    of the person is in it."""
    first, second = make_space(pseudonymous=True), make_space(name="Other", pseudonymous=True)
    person = UserFactory(profile__display_name="Nadia Okoro", email="nadia@example.org")
    join(first, person)
    join(second, person)
    one = SpaceMembership.objects.get(space=first, user=person).pseudonym
    two = SpaceMembership.objects.get(space=second, user=person).pseudonym
    assert one != two
    spaces.space_leave(actor=person, space=first)
    spaces.space_accept_rules(actor=person, space=first, accept=True)
    assert SpaceMembership.objects.get(space=first, user=person).pseudonym == one
    for pseudonym in (one, two):
        assert re.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+ \d\d", pseudonym)
        assert "nadia" not in pseudonym.lower() and str(person.pk) not in pseudonym.split()


def test_pseudonyms_are_unique_within_a_space():
    space = make_space(pseudonymous=True)
    for _ in range(40):
        join(space, trusted=False)
    names = list(space.memberships.values_list("pseudonym", flat=True))
    assert len(names) == len(set(names)) == 41


# --- Newcomers' first posts -------------------------------------------------------------------

def test_newcomers_first_posts_wait_for_approval_then_go_straight_up():
    """A newcomer's thread waits, invisible to others; once two posts are approved, the next
    goes up at once."""
    space = make_space()
    moderator = moderator_of(space)
    newcomer, other = join(space, trusted=False), join(space)
    post = post_in(space, newcomer)
    thread = post.thread
    assert post.state == Post.State.AWAITING and thread.state == Thread.State.AWAITING
    assert not policy.can_view_thread(other, thread)
    assert policy.can_view_thread(newcomer, thread) and policy.can_read_post(newcomer, post)
    assert policy.can_read_post(moderator, post)
    assert Notification.objects.filter(user=moderator, kind="queue").exists()
    spaces.post_moderate(actor=moderator, post=post, action="approve")
    thread.refresh_from_db()
    assert thread.state == Thread.State.VISIBLE and policy.can_view_thread(other, thread)
    assert Notification.objects.filter(user=newcomer, kind="approved").exists()
    second = spaces.post_create(actor=newcomer, thread=thread, body="Second")
    assert second.state == Post.State.AWAITING
    spaces.post_moderate(actor=moderator, post=second, action="approve")
    third = spaces.post_create(actor=newcomer, thread=thread, body="Third")
    assert third.state == Post.State.VISIBLE


def test_rejecting_a_newcomers_first_post_removes_the_thread_with_a_reason():
    space = make_space()
    newcomer = join(space, trusted=False)
    post = post_in(space, newcomer)
    with pytest.raises(ValidationError) as error:
        spaces.post_moderate(actor=moderator_of(space), post=post, action="reject")
    assert "reason" in error.value.message_dict
    spaces.post_moderate(actor=moderator_of(space), post=post, action="reject",
                         reason="Advertising.")
    post.thread.refresh_from_db()
    assert post.thread.state == Thread.State.REMOVED


# --- Flags ------------------------------------------------------------------------------------

def test_three_flags_hide_a_post_until_a_moderator_decides():
    space = make_space()
    author = join(space)
    post = post_in(space, author)
    flaggers = [join(space) for _ in range(3)]
    for n, flagger in enumerate(flaggers, 1):
        spaces.post_flag(actor=flagger, post=post, reason=Flag.Reason.OFFENSIVE)
        post.refresh_from_db()
        assert post.state == (Post.State.HIDDEN if n == 3 else Post.State.VISIBLE)
    assert not policy.can_read_post(UserFactory(), post)
    assert policy.can_read_post(author, post)
    auto = ModerationAction.objects.get(action="auto_hide")
    assert auto.moderator is None and auto.role == "auto"
    assert Notification.objects.filter(user=author, kind="moderated",
                                       action="auto_hide").exists()
    assert Notification.objects.filter(user=moderator_of(space), kind="queue").exists()


def test_the_threshold_is_the_spaces_own():
    space = make_space(flag_threshold=1)
    post = post_in(space, join(space))
    spaces.post_flag(actor=join(space), post=post, reason=Flag.Reason.SPAM)
    post.refresh_from_db()
    assert post.state == Post.State.HIDDEN


def test_the_author_cannot_flag_their_own_post():
    space = make_space()
    author = join(space)
    post = post_in(space, author)
    with pytest.raises(ValidationError, match="your own post"):
        spaces.post_flag(actor=author, post=post, reason=Flag.Reason.SPAM)
    assert not Flag.objects.exists()


def test_a_second_flag_by_the_same_person_is_refused_and_not_counted():
    space = make_space(flag_threshold=2)
    post = post_in(space, join(space))
    flagger = join(space)
    spaces.post_flag(actor=flagger, post=post, reason=Flag.Reason.SPAM)
    with pytest.raises(ValidationError, match="already flagged"):
        spaces.post_flag(actor=flagger, post=post, reason=Flag.Reason.OFFENSIVE)
    post.refresh_from_db()
    assert post.state == Post.State.VISIBLE and post.flags.count() == 1


def test_flags_need_a_member_of_the_space_a_visible_post_and_a_reason():
    space = make_space(flag_threshold=1)
    post = post_in(space, join(space))
    with pytest.raises(ValidationError, match="Join the space"):
        spaces.post_flag(actor=UserFactory(), post=post, reason=Flag.Reason.SPAM)
    with pytest.raises(ValidationError):
        spaces.post_flag(actor=join(space), post=post, reason="because")
    spaces.post_flag(actor=join(space), post=post, reason=Flag.Reason.SPAM)
    with pytest.raises(ValidationError, match="already with the moderators"):
        spaces.post_flag(actor=join(space), post=post, reason=Flag.Reason.SPAM)
    hidden_space = make_space(visibility=Space.Visibility.INVITATION)
    hidden_post = post_in(hidden_space, moderator_of(hidden_space))
    with pytest.raises(PermissionDenied):
        spaces.post_flag(actor=UserFactory(), post=hidden_post, reason=Flag.Reason.SPAM)


def test_restoring_clears_the_flags_and_later_flags_count_afresh():
    space = make_space(flag_threshold=2)
    post = post_in(space, join(space))
    first = [join(space), join(space)]
    for flagger in first:
        spaces.post_flag(actor=flagger, post=post, reason=Flag.Reason.OFF_TOPIC)
    spaces.post_moderate(actor=moderator_of(space), post=post, action="restore")
    post.refresh_from_db()
    assert post.state == Post.State.VISIBLE
    assert not post.flags.filter(resolved_at=None).exists()
    spaces.post_flag(actor=join(space), post=post, reason=Flag.Reason.OFF_TOPIC)
    post.refresh_from_db()
    assert post.state == Post.State.VISIBLE
    with pytest.raises(ValidationError, match="already flagged"):
        spaces.post_flag(actor=first[0], post=post, reason=Flag.Reason.OFF_TOPIC)


# --- Moderation -------------------------------------------------------------------------------

def test_only_moderators_moderate_and_every_decision_is_logged_by_role():
    space = make_space()
    post = post_in(space, join(space))
    with pytest.raises(PermissionDenied):
        spaces.post_moderate(actor=join(space), post=post, action="hide", reason="x")
    hub_moderator = UserFactory(is_moderator=True)
    enrol_mfa(hub_moderator)
    spaces.post_moderate(actor=hub_moderator, post=post, action="hide", reason="Rude.")
    entry = ModerationAction.objects.get(action="hide")
    assert entry.role == "hub" and entry.reason == "Rude."
    with pytest.raises(ValidationError, match="already dealt with"):
        spaces.post_moderate(actor=hub_moderator, post=post, action="hide", reason="Again.")
    spaces.post_moderate(actor=moderator_of(space), post=post, action="remove",
                         reason="Personal attack.")
    assert ModerationAction.objects.get(action="remove").role == "space"
    assert AuditEvent.objects.filter(action="community.moderation_remove",
                                     actor=moderator_of(space)).exists()


def test_hub_moderators_do_not_moderate_invitation_only_spaces():
    space = make_space(visibility=Space.Visibility.INVITATION)
    post = post_in(space, moderator_of(space))
    hub_moderator = UserFactory(is_moderator=True)
    enrol_mfa(hub_moderator)
    with pytest.raises(PermissionDenied):
        spaces.post_moderate(actor=hub_moderator, post=post, action="hide", reason="x")


def test_locked_threads_take_no_replies():
    space = make_space()
    post = post_in(space, join(space))
    spaces.thread_lock(actor=moderator_of(space), thread=post.thread, locked=True)
    with pytest.raises(ValidationError, match="locked"):
        spaces.post_create(actor=join(space), thread=post.thread, body="Late reply")


# --- Pseudonyms and reveals -------------------------------------------------------------------

def test_only_staff_reveal_and_only_with_a_recorded_reason():
    space = make_space(pseudonymous=True)
    author = join(space)
    post = post_in(space, author)
    hub_moderator = UserFactory(is_moderator=True)
    enrol_mfa(hub_moderator)
    for someone in (moderator_of(space) if not moderator_of(space).is_staff else join(space),
                    hub_moderator, UserFactory(is_staff=True)):
        with pytest.raises(PermissionDenied):
            spaces.identity_reveal(actor=someone, post=post, reason="Because I want to know.")
    staff = staff_user()
    with pytest.raises(ValidationError) as error:
        spaces.identity_reveal(actor=staff, post=post, reason="why")
    assert "reason" in error.value.message_dict
    reveal = spaces.identity_reveal(actor=staff, post=post, reason="A threat of violence.")
    assert reveal.membership.user == author
    assert IdentityReveal.objects.get().reason == "A threat of violence."
    event = AuditEvent.objects.get(action="community.identity_revealed")
    assert event.actor == staff and event.target_id == str(reveal.pk)
    entry = ModerationAction.objects.get(action="reveal")
    assert entry.pseudonym == post.author.pseudonym and entry.role == "staff"
    assert Notification.objects.filter(user=author, kind="revealed").exists()


def test_reveal_needs_a_pseudonymous_space():
    space = make_space()
    post = post_in(space, join(space))
    with pytest.raises(PermissionDenied):
        spaces.identity_reveal(actor=staff_user(), post=post, reason="A threat of violence.")


def test_the_audit_trail_does_not_link_members_to_pseudonymous_posts():
    """Posting and flagging in a pseudonymous space are recorded without the actor."""
    space = make_space(pseudonymous=True)
    author, flagger = join(space), join(space)
    post = post_in(space, author)
    spaces.post_flag(actor=flagger, post=post, reason=Flag.Reason.SPAM)
    for action in ("community.post_created", "community.post_flagged"):
        assert AuditEvent.objects.filter(action=action).exists()
        assert not AuditEvent.objects.filter(action=action, actor__isnull=False).exists()
    assert not AuditEvent.objects.filter(actor__in=[author, flagger],
                                         target_type="community.post").exists()


# --- Notifications and mail -------------------------------------------------------------------

def test_replies_and_mentions_notify_by_the_spaces_rules():
    """Named spaces name the author; pseudonymous ones give the pseudonym; under the Chatham
    House rule nobody is named."""
    for pseudonymous, chatham in ((False, False), (True, False), (True, True)):
        space = make_space(name=f"S {pseudonymous} {chatham}", pseudonymous=pseudonymous,
                           chatham_house=chatham)
        starter = join(space, profile__display_name="Starter Person")
        replier = join(space, profile__display_name="Replier Person")
        post = post_in(space, starter)
        reply = spaces.post_create(actor=replier, thread=post.thread, body="I agree.")
        note = Notification.objects.get(user=starter, post=reply)
        assert note.kind == "reply"
        text, url = describe(note)
        assert url.endswith(f"#post-{reply.pk}")
        if chatham:
            assert text.startswith("New reply in") and "Replier" not in text
        elif pseudonymous:
            assert text.startswith(reply.author.pseudonym) and "Replier" not in text
        else:
            assert text.startswith("Replier Person")


def test_mentions_use_the_display_name_or_only_the_pseudonym():
    named = make_space(name="Named")
    target = join(named, profile__display_name="Leila Ward")
    writer = join(named)
    post_in(named, writer, body="What do you think, @Leila Ward?")
    assert Notification.objects.filter(user=target, kind="mention").count() == 1
    secret = make_space(name="Secret", pseudonymous=True)
    target_two = join(secret, profile__display_name="Omar Grant")
    writer_two = join(secret)
    post_in(secret, writer_two, body="Hello @Omar Grant")
    assert not Notification.objects.filter(user=target_two).exists()
    pseudonym = SpaceMembership.objects.get(space=secret, user=target_two).pseudonym
    post_in(secret, writer_two, body=f"Hello @{pseudonym}!", title="Second")
    assert Notification.objects.filter(user=target_two, kind="mention").count() == 1


def test_mention_mail_names_neither_author_nor_content():
    space = make_space(pseudonymous=True, chatham_house=True)
    target = join(space)
    writer = join(space, profile__display_name="Writer Hidden")
    pseudonym = SpaceMembership.objects.get(space=space, user=target).pseudonym
    writer_pseudonym = SpaceMembership.objects.get(space=space, user=writer).pseudonym
    post_in(space, writer, body=f"@{pseudonym} the secret plan is here")
    (mail,) = [m for m in OutgoingEmail.objects.all() if m.to == [target.email]
               and "mentioned" in m.subject]
    for leak in ("Writer Hidden", writer.email, writer_pseudonym, "secret plan"):
        assert leak not in mail.body and leak not in mail.subject


def test_waiting_posts_do_not_notify_until_approved():
    space = make_space()
    starter = join(space)
    post = post_in(space, starter)
    newcomer = join(space, trusted=False)
    reply = spaces.post_create(actor=newcomer, thread=post.thread, body="First words")
    assert not Notification.objects.filter(user=starter, post=reply).exists()
    spaces.post_moderate(actor=moderator_of(space), post=reply, action="approve")
    assert Notification.objects.filter(user=starter, post=reply, kind="reply").exists()


# --- Quoting ----------------------------------------------------------------------------------

def test_posts_under_the_chatham_house_rule_cannot_be_quoted_elsewhere():
    closed = make_space(name="Closed", chatham_house=True)
    other = make_space(name="Other")
    person = join(closed)
    join(other, person)
    post = post_in(closed, person, body="Said in confidence")
    with pytest.raises(ValidationError, match="Chatham House"):
        spaces.thread_create(actor=person, space=other, title="Quote", body="See", quote=post)
    same = spaces.thread_create(actor=person, space=closed, title="Quote", body="See",
                                quote=post)
    assert "> Said in confidence" in same.posts.get().body_markdown
    open_post = post_in(other, person, body="Said openly")
    quoted = spaces.thread_create(actor=person, space=closed, title="From outside",
                                  body="See", quote=open_post)
    assert "> Said openly" in quoted.posts.get().body_markdown


def test_an_author_still_sees_their_thread_and_the_reason_after_a_refusal():
    space = make_space()
    newcomer = join(space, trusted=False)
    post = post_in(space, newcomer)
    spaces.post_moderate(actor=moderator_of(space), post=post, action="reject",
                         reason="Please start with the ground rules.")
    post.thread.refresh_from_db()
    assert policy.can_view_thread(newcomer, post.thread)
    assert not policy.can_view_thread(join(space), post.thread)
    from hub.community.spaces_selectors import notification_list

    (note,) = notification_list(user=newcomer).filter(kind="moderated")
    assert "was not approved" in describe(note)[0]
    assert "Please start with the ground rules." in describe(note)[0]
