"""The demo library: realistic content on every tier, searchable at once, loaded only once."""

import io

import pytest
from django.core.management import call_command

from hub import policy
from hub.core.models import AuditEvent
from hub.library import demo, search
from hub.library.models import (
    AccessRequest,
    AccessRule,
    Decision,
    Grant,
    Resource,
    ResourceFile,
    Theme,
    Tier,
)
from hub.library.search import Query
from hub.members import demo as members_demo
from hub.members.models import User

pytestmark = pytest.mark.django_db


def _load():
    call_command("demo_load", stdout=io.StringIO())


def _person(key: str) -> User:
    return User.objects.get(email=members_demo.email_for(key))


@pytest.fixture
def loaded():
    _load()


def _counts() -> dict:
    models = (Resource, ResourceFile, AccessRule, AccessRequest, Decision, Grant)
    counts = {model.__name__: model.objects.count() for model in models}
    counts["library events"] = AuditEvent.objects.filter(action__startswith="library.").count()
    return counts


def test_demo_publishes_enough_resources_of_every_kind_and_tier(loaded):
    """At least twenty resources are published, covering every type, theme and tier."""
    published = Resource.objects.filter(status=Resource.Status.PUBLISHED)
    assert published.count() >= 20
    assert set(published.values_list("type", flat=True)) == set(Resource.Type.values)
    used = set(Theme.objects.filter(resources__in=published).values_list("slug", flat=True))
    assert used == set(Theme.objects.values_list("slug", flat=True))
    assert set(published.values_list("language", flat=True)) >= {"en", "nl"}
    assert len(set(published.values_list("country", flat=True))) >= 5
    # Each tier describes some published resource and guards some published files.
    assert set(published.values_list("metadata_tier", flat=True)) == set(Tier.values)
    assert set(published.values_list("file_tier", flat=True)) == set(Tier.values)
    assert published.filter(metadata_tier=Tier.PUBLIC, file_tier=Tier.RESTRICTED).exists()
    assert published.filter(metadata_tier=Tier.PUBLIC, file_tier=Tier.PARTNERS).exists()


def test_demo_has_one_submitted_and_one_returned_draft(loaded):
    """The forum's curation queue holds a member's submission; another came back with a reason."""
    submitted = Resource.objects.get(status=Resource.Status.SUBMITTED)
    assert submitted.contributor == _person("forum.member")
    assert submitted in policy.curatable_resources(_person("forum.editor"),
                                                   Resource.objects.all())
    returned = Resource.objects.get(status=Resource.Status.DRAFT)
    assert returned.return_reason == demo.SEND_BACK_REASON


def test_demo_search_works_at_once_and_shows_a_visitor_only_public_items(loaded):
    """Searching "trust" finds results signed out and as a forum member; a visitor's lists,
    search and policy hold only public, published metadata, and no restricted file text."""
    visitor = search.search(None, Query(text="trust"))
    member = search.search(_person("forum.member"), Query(text="trust"))
    assert visitor.total > 0
    assert member.total > visitor.total
    everything = search.search(None, Query(per_page=100))
    assert everything.total == Resource.objects.filter(
        status=Resource.Status.PUBLISHED, metadata_tier=Tier.PUBLIC).count()
    assert {hit.resource.metadata_tier for hit in everything.hits} == {Tier.PUBLIC}
    visible = policy.visible_resources(None, Resource.objects.all())
    assert not visible.exclude(metadata_tier=Tier.PUBLIC).exists()
    assert not visible.exclude(status=Resource.Status.PUBLISHED).exists()
    # Words only in a restricted file are found by its owners, not by a visitor.
    query = '"tension-monitoring meeting"'
    assert search.search(None, Query(text=query)).total == 0
    assert search.search(_person("police.officer"), Query(text=query)).total == 1


def test_demo_files_are_stored_and_read(loaded):
    """The generated PDF and Word document have their text read; the podcast's WAV is audio
    with its WebVTT captions linked as its transcript."""
    for kind, phrase in (("pdf", "forty-two open meetings"), ("docx", "Listening before acting")):
        item = ResourceFile.objects.get(kind=kind)
        assert item.extraction == ResourceFile.Extraction.DONE
        assert phrase in item.text
    audio = ResourceFile.objects.get(kind="audio")
    assert audio.mime == "audio/wav" and not audio.needs_transcript
    assert audio.transcripts.get().kind == "captions"


def test_demo_access_requests_and_grants(loaded):
    """The researcher's request on the police case review waits (one of two approvals given),
    beside an example of every other outcome of access governance."""
    pending = AccessRequest.objects.get(status=AccessRequest.Status.PENDING)
    assert pending.requester == _person("researcher")
    rule = pending.resource.access_rule
    assert rule.mode == AccessRule.Mode.CONSULT and rule.approvals_needed == 2
    assert set(rule.consulted.values_list("slug", flat=True)) == {
        "northfield-police", "eastgate-community-forum", "riverside-youth-association"}
    assert pending.decisions.count() == 1
    assert policy.can_decide_request(_person("police.admin"), pending)
    assert policy.can_decide_request(_person("youth.admin"), pending)
    # An approved request with an expiring grant, a refusal with a reason, an organisation's
    # grant and a revoked grant, each in the access log.
    approved = AccessRequest.objects.get(status=AccessRequest.Status.APPROVED)
    assert approved.requester == _person("forum.member")
    assert approved.grant.in_force() and approved.grant.expires_at is not None
    assert policy.can_read_files(_person("forum.member"), approved.resource)
    refused = AccessRequest.objects.get(status=AccessRequest.Status.REFUSED)
    assert refused.decisions.get().reason
    assert Grant.objects.in_force().filter(organisation__isnull=False).exists()
    assert Grant.objects.filter(revoked_at__isnull=False).count() == 1
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"library.grant", "library.refuse", "library.revoke"} <= actions


def test_demo_load_twice_changes_nothing(loaded):
    """Running the demo again leaves every library count as it was."""
    before = _counts()
    _load()
    assert _counts() == before
    assert before["Resource"] == len(demo.RESOURCES)
