"""Story services: who may tell a story for which organisation, the draft → published →
withdrawn path, the structured parts, NUL characters, and links to initiatives and library
items that respect what the writer may see and keep what others linked."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from hub.assessment.models import Initiative
from hub.community import stories
from hub.community.models import Story
from hub.core.models import AuditEvent
from hub.library.models import Tier
from hub.library.tests.factories import ResourceFactory
from hub.members.models import Membership
from hub.members.tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    UserFactory,
    enrol_mfa,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast():
    org = OrganisationFactory(name="Harbour Youth Trust", slug="harbour", is_partner=True)
    other = OrganisationFactory(name="Hill Police", slug="hill", is_partner=True)
    plain = OrganisationFactory(name="Not a partner", slug="plain", is_partner=False)
    staff = UserFactory(is_staff=True)
    enrol_mfa(staff)
    return {
        "org": org, "other": other, "plain": plain, "staff": staff,
        "editor": MembershipFactory(organisation=org, role=Membership.Role.EDITOR).user,
        "plain_editor": MembershipFactory(organisation=plain,
                                          role=Membership.Role.EDITOR).user,
        "other_editor": MembershipFactory(organisation=other,
                                          role=Membership.Role.EDITOR).user,
        "member": MembershipFactory(organisation=org).user,
    }


def fields(org, **extra):
    return {"title": "Football after Friday prayers", "organisation": org,
            "summary": "A league run by officers and mosque volunteers.",
            "context": "Tension after a street fight.", "what_was_done": "A weekly league.",
            "outcome": "Fewer calls on Friday nights.", "evidence": "Call logs; a survey.",
            "status": "published"} | extra


def test_editor_tells_a_story_for_their_partner_organisation(cast):
    """It is published at once, dated, logged, and its slug comes from the title."""
    story = stories.story_create(actor=cast["editor"], **fields(cast["org"]))
    assert story.status == Story.Status.PUBLISHED and story.published_at is not None
    assert story.slug == "football-after-friday-prayers" and story.author == cast["editor"]
    assert AuditEvent.objects.filter(action="community.story_created").count() == 1


def test_only_writers_may_tell_stories_and_only_for_their_organisations(cast):
    """A member is refused; an editor of a non-partner may not write; an editor of one
    partner may not write for another; staff may write for the hub itself."""
    with pytest.raises(PermissionDenied):
        stories.story_create(actor=cast["member"], **fields(cast["org"]))
    with pytest.raises(PermissionDenied):
        stories.story_create(actor=cast["plain_editor"], **fields(cast["plain"]))
    with pytest.raises(ValidationError) as error:
        stories.story_create(actor=cast["editor"], **fields(cast["other"]))
    assert "organisation" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        stories.story_create(actor=cast["editor"], **fields(None))
    assert "organisation" in error.value.message_dict
    story = stories.story_create(actor=cast["staff"], **fields(None))
    assert story.organisation is None
    assert not Story.objects.exclude(pk=story.pk).exists()


def test_empty_structured_parts_are_refused_with_a_message_for_each(cast):
    with pytest.raises(ValidationError) as error:
        stories.story_create(actor=cast["editor"], **fields(cast["org"], context="",
                                                             outcome="", evidence=""))
    assert {"context", "outcome", "evidence"} <= set(error.value.message_dict)
    assert not Story.objects.exists()


def test_nul_characters_are_refused_before_the_database(cast):
    with pytest.raises(ValidationError) as error:
        stories.story_create(actor=cast["editor"], **fields(cast["org"],
                                                            what_was_done="a\x00b"))
    assert "what_was_done" in error.value.message_dict
    assert not Story.objects.exists()


def test_published_cannot_go_back_to_draft_and_withdrawn_is_final(cast):
    story = stories.story_create(actor=cast["editor"], **fields(cast["org"]))
    first = story.published_at
    with pytest.raises(ValidationError):
        stories.story_update(actor=cast["editor"], story=story, status="draft")
    story = stories.story_update(actor=cast["editor"], story=story, outcome="Even better.")
    assert story.published_at == first and story.outcome == "Even better."
    stories.story_withdraw(actor=cast["editor"], story=story)
    with pytest.raises(ValidationError):
        stories.story_update(actor=cast["editor"], story=story, title="Again")
    with pytest.raises(ValidationError):
        stories.story_withdraw(actor=cast["editor"], story=story)
    with pytest.raises(ValidationError):
        stories.story_create(actor=cast["editor"], **fields(cast["org"], status="withdrawn"))


def test_other_organisations_editor_may_not_change_a_story(cast):
    story = stories.story_create(actor=cast["editor"], **fields(cast["org"]))
    with pytest.raises(PermissionDenied):
        stories.story_update(actor=cast["other_editor"], story=story, title="Mine now")
    with pytest.raises(PermissionDenied):
        stories.story_withdraw(actor=cast["other_editor"], story=story)


def test_draft_then_publish(cast):
    story = stories.story_create(actor=cast["editor"], **fields(cast["org"], status="draft"))
    assert story.published_at is None
    story = stories.story_publish(actor=cast["editor"], story=story)
    assert story.status == Story.Status.PUBLISHED and story.published_at is not None


def _initiative(org, name, audience, by):
    return Initiative.objects.create(name=name, area="Harbour", country="GB",
                                     lead_organisation=org, kind=Initiative.Kind.OTHER,
                                     description="An initiative.", audience=audience,
                                     created_by=by)


def test_links_only_to_what_the_writer_may_see_and_others_links_are_kept(cast):
    """An editor may link public items; a team-only initiative and a restricted report of
    another organisation are refused. Staff link them; when the editor later edits the
    story, the links they cannot see stay as they were."""
    open_initiative = _initiative(cast["org"], "Open league", "public", cast["staff"])
    closed_initiative = _initiative(cast["other"], "Closed panel", "team", cast["staff"])
    open_report = ResourceFactory(title="Open report")
    hidden_report = ResourceFactory(title="Hidden report", organisation=cast["other"],
                                    metadata_tier=Tier.RESTRICTED)
    with pytest.raises(ValidationError) as error:
        stories.story_create(actor=cast["editor"], **fields(
            cast["org"], initiatives=[closed_initiative], resources=[hidden_report]))
    assert set(error.value.message_dict) == {"initiatives", "resources"}
    assert not Story.objects.exists()

    story = stories.story_create(actor=cast["editor"], **fields(
        cast["org"], partners=[cast["other"]], other_partners="The harbour mosque",
        initiatives=[open_initiative], resources=[open_report]))
    stories.story_update(actor=cast["staff"], story=story,
                         initiatives=[open_initiative, closed_initiative],
                         resources=[open_report, hidden_report])
    # The editor sees only the open ones and unticks the open report.
    stories.story_update(actor=cast["editor"], story=story, initiatives=[open_initiative],
                         resources=[])
    story.refresh_from_db()
    assert set(story.initiatives.all()) == {open_initiative, closed_initiative}
    assert set(story.resources.all()) == {hidden_report}
    assert list(story.partners.all()) == [cast["other"]]
