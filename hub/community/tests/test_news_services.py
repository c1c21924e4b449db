"""News and briefing services: who may write what, bad input refused with a message that
names the field, publication dates, updates, withdrawal, the audit trail and the mail to
named organisations."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from hub.community import news
from hub.community.models import Briefing, NewsItem
from hub.community.tests.xss_corpus import executable_parts, payloads
from hub.core.models import AuditEvent, OutgoingEmail
from hub.members.models import Membership
from hub.members.tests.factories import MembershipFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def briefing_fields(organisation, **overrides):
    return {"organisation": organisation, "title": "Facts about Station Road",
            "summary": "What happened.", "body_markdown": "The **facts**.",
            "audience": Briefing.Audience.PUBLIC, "status": "published"} | overrides


def news_fields(**overrides):
    return {"title": "The hub is open", "summary": "Welcome.",
            "body_markdown": "Hello *all*.", "status": "published"} | overrides


# --- Who may write ---------------------------------------------------------------------------

@pytest.mark.parametrize("actor", ["visitor", "applicant", "member", "partner_member",
                                   "editor_a", "admin_a", "admin_b", "moderator",
                                   "staff_no_mfa", "deactivated"])
def test_news_is_written_by_staff_only(world, actor):
    """Everyone but staff with two-step sign-in is refused, and nothing is stored."""
    with pytest.raises(PermissionDenied):
        news.news_create(actor=world.actors[actor], **news_fields())
    assert not NewsItem.objects.exists()


def test_staff_publish_news_with_a_date_and_an_audit_record(world):
    """Publishing sets published_at once; the audit trail records it without the text."""
    item = news.news_create(actor=world.actors["staff"], **news_fields())
    assert item.published_at is not None and item.author == world.actors["staff"]
    assert item.body_html == "<p>Hello <em>all</em>.</p>\n"
    event = AuditEvent.objects.get(action="community.news_created")
    assert event.target_id == str(item.pk) and "Hello" not in str(event.context)


@pytest.mark.parametrize("actor,allowed", [
    ("editor_a", True), ("admin_a", True), ("admin_a_no_mfa", True), ("admin_b", True),
    ("staff", True), ("partner_member", False), ("approver_a", False), ("member", False),
    ("moderator", False), ("visitor", False),
])
def test_briefings_come_from_editors_of_partner_organisations(world, actor, allowed):
    """Editors and admins write for their own partner organisation; others are refused."""
    org = world.org_b if actor == "admin_b" else world.org_a
    if allowed:
        briefing = news.briefing_create(actor=world.actors[actor], **briefing_fields(org))
        assert briefing.organisation == org
    else:
        with pytest.raises(PermissionDenied):
            news.briefing_create(actor=world.actors[actor], **briefing_fields(org))


def test_editor_cannot_write_for_another_organisation(world):
    """The error names the organisation field, so the form shows it beside it."""
    with pytest.raises(ValidationError) as caught:
        news.briefing_create(actor=world.actors["editor_a"], **briefing_fields(world.org_b))
    assert "organisation" in caught.value.message_dict
    assert not Briefing.objects.exists()


def test_a_non_partner_organisation_gives_no_briefings(db):
    """Editors of an organisation that is not a partner of the hub cannot write briefings."""
    org = OrganisationFactory(is_partner=False)
    editor = MembershipFactory(organisation=org, role=Membership.Role.EDITOR).user
    with pytest.raises(PermissionDenied):
        news.briefing_create(actor=editor, **briefing_fields(org))


def test_named_organisations_audience_needs_an_organisation(world):
    with pytest.raises(ValidationError) as caught:
        news.briefing_create(actor=world.actors["admin_b"], **briefing_fields(
            world.org_b, audience=Briefing.Audience.ORGANISATIONS, audience_organisations=[]))
    assert "audience_organisations" in caught.value.message_dict


@pytest.mark.parametrize("field,value", [("title", ""), ("summary", ""), ("body_markdown", ""),
                                         ("title", "x" * 201), ("status", "withdrawn")])
def test_bad_input_is_refused_by_field(world, field, value):
    with pytest.raises(ValidationError) as caught:
        news.briefing_create(actor=world.actors["admin_b"],
                             **briefing_fields(world.org_b, **{field: value}))
    assert field in caught.value.message_dict


def test_reserved_words_are_not_used_as_addresses(world):
    """A title such as "New" cannot take the address of the page for writing one."""
    item = news.news_create(actor=world.actors["staff"], **news_fields(title="New"))
    again = news.news_create(actor=world.actors["staff"], **news_fields(title="New"))
    assert item.slug not in news.RESERVED_SLUGS and again.slug != item.slug


# --- Updates and withdrawal ------------------------------------------------------------------

def test_editing_a_published_briefing_marks_it_updated(world):
    """A draft's edits leave no "updated" mark; a published briefing's do, with the note."""
    admin = world.actors["admin_b"]
    briefing = news.briefing_create(actor=admin, **briefing_fields(world.org_b, status="draft"))
    briefing = news.briefing_update(actor=admin, briefing=briefing, title="Station Road facts")
    assert briefing.updated_at is None and briefing.published_at is None
    briefing = news.briefing_publish(actor=admin, briefing=briefing)
    first = briefing.published_at
    assert first is not None and briefing.updated_at is None
    briefing = news.briefing_update(actor=admin, briefing=briefing,
                                    body_markdown="The man arrested was released on bail.",
                                    update_note="Released on bail.")
    assert briefing.updated_at is not None and briefing.published_at == first
    assert briefing.update_note == "Released on bail." and "bail" in briefing.body_html
    with pytest.raises(ValidationError):
        news.briefing_update(actor=admin, briefing=briefing, status="draft")


def test_only_the_issuing_organisation_and_staff_manage_a_briefing(world):
    briefing = news.briefing_create(actor=world.actors["admin_b"],
                                    **briefing_fields(world.org_b))
    for actor in ("editor_a", "member", "staff_no_mfa"):
        with pytest.raises(PermissionDenied):
            news.briefing_update(actor=world.actors[actor], briefing=briefing, title="Mine")
        with pytest.raises(PermissionDenied):
            news.briefing_withdraw(actor=world.actors[actor], briefing=briefing)
    news.briefing_update(actor=world.actors["staff"], briefing=briefing, title="Corrected")


def test_withdrawal_is_final_and_recorded(world):
    staff = world.actors["staff"]
    item = news.news_create(actor=staff, **news_fields())
    item = news.news_withdraw(actor=staff, item=item)
    assert item.status == NewsItem.Status.WITHDRAWN and item.withdrawn_at is not None
    with pytest.raises(ValidationError):
        news.news_withdraw(actor=staff, item=item)
    with pytest.raises(ValidationError):
        news.news_update(actor=staff, item=item, title="Back again")
    assert AuditEvent.objects.filter(action="community.news_withdrawn",
                                     target_id=str(item.pk)).exists()


# --- Mail to named organisations -------------------------------------------------------------

def test_named_organisations_members_are_told_with_title_and_link_only(world):
    """Publishing tells each member of the named organisations once (not the author, not
    other organisations), with the title and the link and none of the text."""
    admin = world.actors["admin_b"]
    outsider = UserFactory()
    briefing = news.briefing_create(actor=admin, **briefing_fields(
        world.org_b, audience=Briefing.Audience.ORGANISATIONS,
        audience_organisations=[world.org_a], status="draft",
        body_markdown="Confidential detail zebra."))
    assert not OutgoingEmail.objects.exists()
    news.briefing_publish(actor=admin, briefing=briefing)
    told = {address for email in OutgoingEmail.objects.all() for address in email.to}
    members_of_a = set(Membership.objects.filter(organisation=world.org_a)
                       .values_list("user__email", flat=True))
    assert told == members_of_a and outsider.email not in told
    for email in OutgoingEmail.objects.all():
        assert "zebra" not in email.body and briefing.get_absolute_url() in email.body
    news.briefing_update(actor=admin, briefing=briefing, title="Facts, updated")
    assert OutgoingEmail.objects.count() == len(members_of_a)  # told once, not on each edit


# --- Markdown ---------------------------------------------------------------------------------

def test_bodies_are_sanitised(world):
    """Every payload of the cross-site-scripting corpus, written as a briefing's body, is
    stored as HTML with nothing executable."""
    admin = world.actors["admin_b"]
    corpus = payloads()[:120]
    for number, payload in enumerate(corpus):
        fields = briefing_fields(world.org_b, title=f"Payload {number}", body_markdown=payload)
        if "\x00" in payload:  # no database keeps NUL in text: refused with a reason
            with pytest.raises(ValidationError, match="Null characters"):
                news.briefing_create(actor=admin, **fields)
            continue
        briefing = news.briefing_create(actor=admin, **fields)
        assert not executable_parts(briefing.body_html), payload
