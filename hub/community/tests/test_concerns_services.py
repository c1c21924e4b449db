"""Concern services: raising (and the organisation's mail), the first answer and its figures,
follow-ups, closing, removal by a moderator, bad input, and the organisation's record."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from hub.community import consult, consult_selectors
from hub.community.models import Concern
from hub.core.models import OutgoingEmail
from hub.members.models import Membership
from hub.members.tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    UserFactory,
    enrol_mfa,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    return OrganisationFactory(name="Northgate Police", slug="northgate")


@pytest.fixture
def editor(org):
    return MembershipFactory(organisation=org, role=Membership.Role.EDITOR).user


def raise_one(author, org, **fields):
    data = dict(title="Stops at the gate", body_markdown="Why?", visibility="public") | fields
    return consult.concern_raise(actor=author, organisation=org, **data)


def test_raising_tells_the_editors_without_naming_the_author(org, editor):
    plain = MembershipFactory(organisation=org).user
    author = UserFactory(profile__display_name="Nadia Q")
    raise_one(author, org, show_name=True)
    mails = list(OutgoingEmail.objects.all())
    assert [m.to for m in mails] == [[editor.email]] and plain.email not in str(mails)
    assert "Nadia" not in mails[0].body and "Stops at the gate" in mails[0].body


def test_first_answer_sets_answered_and_mails_the_author(org, editor):
    author = UserFactory()
    concern = raise_one(author, org)
    OutgoingEmail.objects.all().delete()
    consult.concern_reply(actor=editor, concern=concern, body_markdown="Our answer")
    concern.refresh_from_db()
    first = concern.answered_at
    assert concern.status == "answered" and first is not None
    assert [m.to for m in OutgoingEmail.objects.all()] == [[author.email]]
    consult.concern_reply(actor=author, concern=concern, body_markdown="Thanks, but why?")
    consult.concern_reply(actor=editor, concern=concern, body_markdown="Because")
    concern.refresh_from_db()
    assert concern.answered_at == first
    assert [r.on_behalf_id for r in concern.replies.all()] == [org.pk, None, org.pk]


@pytest.mark.parametrize("fields, field", [
    ({"title": ""}, "title"), ({"title": "x" * 201}, "title"),
    ({"body_markdown": "bad\x00"}, "body_markdown"), ({"body_markdown": "x" * 8001},
                                                      "body_markdown"),
    ({"visibility": "secret"}, "visibility"),
])
def test_bad_concern_input_is_refused(org, fields, field):
    with pytest.raises(ValidationError) as error:
        raise_one(UserFactory(), org, **fields)
    assert field in error.value.message_dict
    assert not Concern.objects.exists()


def test_another_organisations_editor_cannot_answer(org):
    concern = raise_one(UserFactory(), org)
    outsider = MembershipFactory(role=Membership.Role.EDITOR).user
    with pytest.raises(PermissionDenied):
        consult.concern_reply(actor=outsider, concern=concern, body_markdown="Not ours")
    assert not concern.replies.exists()


def test_either_side_closes_and_then_nothing_more_is_added(org, editor):
    author = UserFactory()
    concern = raise_one(author, org)
    consult.concern_close(actor=author, concern=concern)
    with pytest.raises(ValidationError):
        consult.concern_reply(actor=editor, concern=concern, body_markdown="Late")
    second = raise_one(author, org)
    consult.concern_close(actor=editor, concern=second)
    assert Concern.objects.filter(status="closed").count() == 2


def test_moderator_removes_a_public_concern_with_a_reason(org):
    moderator = UserFactory(is_moderator=True)
    enrol_mfa(moderator)
    concern = raise_one(UserFactory(), org)
    with pytest.raises(ValidationError):
        consult.concern_remove(actor=moderator, concern=concern, reason="  ")
    consult.concern_remove(actor=moderator, concern=concern, reason="Names a private person")
    concern.refresh_from_db()
    assert concern.removed_at and concern.removed_reason == "Names a private person"
    private = raise_one(UserFactory(), org, visibility="private")
    with pytest.raises(PermissionDenied):
        consult.concern_remove(actor=moderator, concern=private, reason="No")


def test_record_counts_private_concerns_in_figures_but_never_lists_them(org, editor):
    """Median time to a first answer and share within 14 days over twelve months; open public
    concerns listed; private ones counted only; removed and older ones left out."""
    now = timezone.now()
    author = UserFactory()
    made = {}
    for key, days_ago, answer_after, visibility in [
            ("fast", 30, 2, "public"), ("slow", 60, 20, "private"), ("waiting", 20, None,
                                                                     "public"),
            ("new", 1, None, "private"), ("old", 400, 1, "public")]:
        concern = raise_one(author, org, title=key, visibility=visibility)
        created = now - timedelta(days=days_ago)
        answered = created + timedelta(days=answer_after) if answer_after else None
        Concern.objects.filter(pk=concern.pk).update(
            created=created, answered_at=answered, status="answered" if answered else "open")
        made[key] = concern
    record = consult_selectors.concern_record(org, now=now)
    assert record.raised == 4 and record.answered == 2
    assert record.median_days == pytest.approx(11)
    # fast (2 days) within; slow (20) not; waiting (20 days, no answer) not; new not yet due.
    assert record.within_base == 3 and record.within_share == pytest.approx(1 / 3)
    assert record.open_count == 5 and record.waiting_count == 2
    assert {c.title for c in record.open_public} == {"fast", "waiting", "old"}



def test_concern_and_reply_markdown_never_keep_anything_executable(org, editor):
    """Every payload of the shared cross-site-scripting corpus is stored harmless in a concern
    and in the organisation's answer (NUL-carrying ones are refused, tested above)."""
    from hub.community.tests.xss_corpus import executable_parts, payloads

    author = UserFactory()
    concern = raise_one(author, org)
    for payload in [p for p in payloads() if "\x00" not in p]:
        made = raise_one(author, org, body_markdown=payload)
        assert not executable_parts(made.body_html), payload
        reply = consult.concern_reply(actor=editor, concern=concern, body_markdown=payload)
        assert not executable_parts(reply.body_html), payload
