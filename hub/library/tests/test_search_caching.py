"""Shared copies of rendered search results (hub/library/caching.py).

People with the same access share one rendered page of results. These tests check that
whoever is served a shared copy sees exactly what the access rules give them, that people
with different access never share, and that every kind of change that can alter results or
who may see them makes the next search render afresh, including a grant that ends by the
clock alone.
"""

import re
import time
from datetime import timedelta

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hub import policy
from hub.library import caching, search, services, views
from hub.library.models import Grant, Resource, ResourceFile, Theme, Tier
from hub.library.tests.factories import ResourceFactory, add_text_file
from hub.members.models import Membership, User
from hub.members.tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    UserFactory,
    enrol_mfa,
)

pytestmark = pytest.mark.django_db

HIT = re.compile(r'<li class="hit">\s*<h3><a href="/library/(\d+)/">')
TOTAL = re.compile(r'<h2 id="results-heading"[^>]*>(\d+) resource')


@pytest.fixture
def renders(monkeypatch):
    """Counts how many times the results were worked out rather than taken from a copy."""
    calls = []
    real = views._results_html

    def counted(user, query):
        calls.append(user)
        return real(user, query)

    monkeypatch.setattr(views, "_results_html", counted)
    return calls


@pytest.fixture
def library():
    owner = OrganisationFactory(name="Owner", slug="owner", is_partner=True)
    other = OrganisationFactory(name="Other", slug="other")
    tiers = [(Tier.PUBLIC, Tier.PUBLIC), (Tier.PUBLIC, Tier.MEMBERS), (Tier.MEMBERS, Tier.MEMBERS),
             (Tier.MEMBERS, Tier.PARTNERS), (Tier.PARTNERS, Tier.PARTNERS),
             (Tier.PUBLIC, Tier.RESTRICTED), (Tier.RESTRICTED, Tier.RESTRICTED)]
    resources = {}
    for metadata_tier, file_tier in tiers:
        for org in (owner, other):
            resource = ResourceFactory(
                organisation=org, title=f"Lighthouse {metadata_tier} {file_tier} {org.slug}",
                abstract="About the lighthouse.", metadata_tier=metadata_tier,
                file_tier=file_tier)
            add_text_file(resource, f"lighthouse keeper notes {org.slug} {file_tier} secretword")
            resources[(metadata_tier, file_tier, org.slug)] = resource
    return owner, other, resources


def page(user, text="lighthouse", **params):
    client = Client()
    if user is not None:
        client.force_login(user)
    response = client.get(reverse("library:home"), {"q": text, **params})
    assert response.status_code == 200
    body = response.content.decode()
    return [int(pk) for pk in HIT.findall(body)], int(TOTAL.search(body).group(1)), body


def allowed(user, text="lighthouse"):
    """What the search itself (no shared copy) gives this person: ids and total."""
    policy.forget(user) if user else None
    results = search.search(user, search.Query(text=text))
    return [hit.resource.pk for hit in results.hits], results.total


def audience(user):
    if user is not None:
        user = User.objects.get(pk=user.pk)  # as a request loads them: nothing remembered
    return policy.library_audience(user)


# --- Who shares ------------------------------------------------------------------------------

def test_audience_names(library):
    owner, other, resources = library
    applicant = UserFactory(standing=User.Standing.APPLICANT)
    gone = UserFactory(is_active=False)
    plain, plain2 = UserFactory(), UserFactory()
    in_other = [MembershipFactory(organisation=other).user for _ in range(2)]
    in_owner = MembershipFactory(organisation=owner).user
    assert audience(None) == audience(applicant) == audience(gone) == ("visitors", None)
    assert audience(plain) == audience(plain2) == ("members:partner=0:orgs=", None)
    assert audience(in_other[0]) == audience(in_other[1]) == (
        f"members:partner=0:orgs={other.pk}", None)
    assert audience(in_owner) == (f"members:partner=1:orgs={owner.pk}", None)

    staff = UserFactory(is_staff=True)
    enrol_mfa(staff)
    approver = MembershipFactory(organisation=owner, role=Membership.Role.APPROVER).user
    enrol_mfa(approver)
    holder = UserFactory()
    ends = timezone.now() + timedelta(days=3)
    Grant.objects.create(resource=resources[(Tier.RESTRICTED, Tier.RESTRICTED, "owner")],
                         user=holder, expires_at=ends)
    through_org = MembershipFactory(organisation=other).user
    Grant.objects.create(resource=resources[(Tier.RESTRICTED, Tier.RESTRICTED, "owner")],
                         organisation=other)
    outsider = UserFactory()
    ResourceFactory(organisation=owner, contributor=outsider, metadata_tier=Tier.RESTRICTED)
    own = {}
    for person in (staff, approver, holder, through_org, outsider):
        name, until = audience(person)
        assert name.startswith(f"person={person.pk}:"), name
        own[person.pk] = name
    assert audience(holder)[1] == ends
    assert audience(approver)[0] != audience(MembershipFactory(
        organisation=owner, role=Membership.Role.APPROVER).user)[0]  # no MFA: no power yet
    # The organisation's grant reaches all its members: none of them shares any more.
    assert audience(in_other[0])[0].startswith("person=")


def test_people_served_a_shared_copy_see_exactly_what_the_rules_allow(library, renders):
    """For each group of people with the same access, the first renders and the others are
    served that copy; each sees what the search gives them alone, on every query."""
    owner, other, resources = library
    groups = [
        [None, UserFactory(standing=User.Standing.APPLICANT), UserFactory(is_active=False)],
        [UserFactory(), UserFactory()],
        [MembershipFactory(organisation=other).user, MembershipFactory(organisation=other).user],
        [MembershipFactory(organisation=owner).user, MembershipFactory(organisation=owner).user],
    ]
    for text in ("lighthouse", "secretword", ""):
        seen = []
        for group in groups:
            before = len(renders)
            for person in group:
                ids, total, _ = page(person, text)
                assert (ids, total) == allowed(person, text), (person, text)
                seen.append((ids, total))
            assert len(renders) == before + 1, "one render per group"
        # Different access, different results: no group was served another group's copy.
        assert len({(tuple(ids), total) for ids, total in seen[::2]}) == len(groups)


def test_people_with_their_own_view_never_share(library, renders):
    owner, other, resources = library
    restricted = resources[(Tier.RESTRICTED, Tier.RESTRICTED, "other")]
    holder = MembershipFactory(organisation=other).user
    Grant.objects.create(resource=restricted, user=holder)
    peer = MembershipFactory(organisation=other).user
    ids, _, body = page(holder, "secretword")
    assert restricted.pk in ids
    peer_ids, _, _ = page(peer, "secretword")
    assert (peer_ids, len(renders)) == (allowed(peer, "secretword")[0], 2)
    # The grant's own organisation owns the item anyway; an outsider's grant shows the text.
    outsider = UserFactory()
    item = resources[(Tier.RESTRICTED, Tier.RESTRICTED, "owner")]
    Grant.objects.create(resource=item, user=outsider)
    assert item.pk in page(outsider, "secretword")[0]
    assert item.pk not in page(UserFactory(), "secretword")[0]


def _editor_and_draft(owner):
    """An admin of ``owner`` (enrolled in two-step sign-in) and a submitted draft with text."""
    editor = MembershipFactory(organisation=owner, role=Membership.Role.ADMIN).user
    enrol_mfa(editor)
    draft = ResourceFactory(organisation=owner, title="Lighthouse draft",
                            status=Resource.Status.SUBMITTED, published_at=None)
    add_text_file(draft, "the draft's own text")
    return editor, draft


def test_a_copy_rendered_by_one_process_serves_the_others(library, renders):
    """Another web process starts with nothing of its own (its local copies are empty) and is
    served the copy the first process left in the shared table; after a change to the library
    neither copy is used, and the shared table is emptied."""
    owner, other, resources = library
    editor, draft = _editor_and_draft(owner)
    first, second, third = UserFactory(), UserFactory(), UserFactory()
    assert page(first)[:2] == allowed(first)
    assert _shared_rows() == 1
    caches["template_fragments"].clear()  # as if in another process
    assert page(second)[:2] == allowed(second)
    assert len(renders) == 1
    services.resource_publish(resource=draft, actor=editor)
    assert _shared_rows() == 0
    caches["template_fragments"].clear()
    ids, total, _ = page(third)
    assert (ids, total) == allowed(third)
    assert draft.pk in ids
    assert len(renders) == 2


def _shared_rows() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM hub_library_results")
        return cursor.fetchone()[0]


def test_a_shared_copy_keeps_its_deadline_in_every_process():
    """A copy made for someone whose grant ends soon is dropped then, even when another process
    takes it from the shared table after it was made."""
    caching.results_put("library:results:test", "<p>kept</p>", 2)
    caches["template_fragments"].clear()
    assert caching.results_get("library:results:test") == "<p>kept</p>"
    time.sleep(2.1)
    caches["template_fragments"].clear()
    assert caching.results_get("library:results:test") is None
    caching.results_put("library:results:none", "<p>never</p>", 0)
    assert caching.results_get("library:results:none") is None


# --- What makes a new version ----------------------------------------------------------------

def _shared_then(change, check, text="lighthouse"):
    """A plain member searches (and leaves a copy), ``change`` runs, another plain member
    searches: ``check`` gets what the second one saw."""
    first = UserFactory()
    page(first, text)
    change()
    second = UserFactory()
    ids, total, body = page(second, text)
    assert (ids, total) == allowed(second, text)
    assert check(ids, total, body)


def test_publishing_and_unpublishing_make_a_new_version(library):
    owner, other, resources = library
    editor, draft = _editor_and_draft(owner)

    def publish():
        services.resource_publish(resource=draft, actor=editor)

    _shared_then(publish, lambda ids, total, body: draft.pk in ids)

    public = resources[(Tier.PUBLIC, Tier.PUBLIC, "owner")]

    def unpublish():
        Resource.objects.filter(pk=public.pk).update(status=Resource.Status.SUBMITTED)
        search.index_resource(public.pk)

    _shared_then(unpublish, lambda ids, total, body: public.pk not in ids)


def test_edits_and_tier_changes_make_a_new_version(library):
    owner, other, resources = library
    item = resources[(Tier.MEMBERS, Tier.MEMBERS, "other")]
    admin = MembershipFactory(organisation=other, role=Membership.Role.ADMIN).user
    enrol_mfa(admin)
    policy.forget(admin)

    def rename():
        services.resource_update(resource=item, actor=admin, title="Lighthouse renamed here")

    _shared_then(rename, lambda ids, total, body: "Lighthouse renamed here" in body)

    def tighten():
        services.resource_update(resource=item, actor=admin, metadata_tier=Tier.PARTNERS,
                                 file_tier=Tier.PARTNERS)

    _shared_then(tighten, lambda ids, total, body: item.pk not in ids)


def test_file_extraction_and_reindexing_make_a_new_version(library):
    owner, other, resources = library
    item = resources[(Tier.PUBLIC, Tier.PUBLIC, "other")]
    waiting = ResourceFile.objects.create(
        resource=item, original_name="late.txt", kind="text", mime="text/plain", size=10,
        sha256="1" * 64, extraction=ResourceFile.Extraction.PENDING)

    class Outcome:
        status = ResourceFile.Extraction.DONE
        text = "marmalade appears only in this late file"
        message = ""

    def extract():
        services.file_record_extraction(item=waiting, outcome=Outcome())

    _shared_then(extract, lambda ids, total, body: ids == [item.pk], text="marmalade")

    def rebuild():
        ResourceFile.objects.filter(pk=waiting.pk).update(text="")  # no signal
        search.rebuild()

    _shared_then(rebuild, lambda ids, total, body: total == 0, text="marmalade")


def test_grants_given_revoked_and_expiring(library):
    owner, other, resources = library
    item = resources[(Tier.RESTRICTED, Tier.RESTRICTED, "owner")]
    admin = MembershipFactory(organisation=owner, role=Membership.Role.ADMIN).user
    enrol_mfa(admin)
    person = UserFactory()
    assert item.pk not in page(person, "secretword")[0]
    grant = services.grant_create(resource=item, actor=admin, user=person)
    assert item.pk in page(User.objects.get(pk=person.pk), "secretword")[0]
    services.grant_revoke(grant=grant, actor=admin)
    assert item.pk not in page(User.objects.get(pk=person.pk), "secretword")[0]

    # A grant that ends by the clock: no write happens when it does.
    Grant.objects.create(resource=item, user=person,
                         expires_at=timezone.now() + timedelta(seconds=2.5))
    assert item.pk in page(User.objects.get(pk=person.pk), "secretword")[0]
    time.sleep(2.6)
    assert item.pk not in page(User.objects.get(pk=person.pk), "secretword")[0]


def test_lifetime_ends_before_the_first_grant_does():
    now = timezone.now()
    assert caching.lifetime(None) == caching.SECONDS
    assert caching.lifetime(now + timedelta(hours=1)) == caching.SECONDS
    assert caching.lifetime(now + timedelta(seconds=10)) <= 9
    assert caching.lifetime(now - timedelta(seconds=1)) == 0


def test_memberships_and_partner_status_make_a_new_view(library, renders):
    owner, other, resources = library
    partners_only = resources[(Tier.PARTNERS, Tier.PARTNERS, "owner")]
    person = UserFactory()
    assert partners_only.pk not in page(person, "lighthouse")[0]
    partner_org = OrganisationFactory(is_partner=False)
    Membership.objects.create(user=person, organisation=partner_org)
    assert partners_only.pk not in page(User.objects.get(pk=person.pk))[0]
    partner_org.is_partner = True
    partner_org.save()
    ids, total, _ = page(User.objects.get(pk=person.pk))
    assert partners_only.pk in ids
    assert (ids, total) == allowed(User.objects.get(pk=person.pk))
    Membership.objects.filter(user=person).delete()
    assert partners_only.pk not in page(User.objects.get(pk=person.pk))[0]


def test_theme_names_in_filters_follow_changes(library):
    owner, other, resources = library
    theme = Theme.objects.first()
    resources[(Tier.PUBLIC, Tier.PUBLIC, "owner")].themes.add(theme)

    def rename():
        theme.name = "Renamed theme for the test"
        theme.save()

    _shared_then(rename, lambda ids, total, body: "Renamed theme for the test" in body)


def test_bad_filters_still_get_their_message_from_a_kept_meaning(library):
    """The meaning of an address is kept; its message about bad filters is given each time."""
    for _ in range(2):
        client = Client()
        body = client.get(reverse("library:home"), {"q": "lighthouse", "year_from": "1200"},
                          follow=True).content.decode()
        assert "Some of the filters could not be used" in body


def test_erasing_a_person_drops_every_kept_copy(library):
    """A copy kept for someone with their own view of the library holds the words they searched
    for: erasing them leaves none behind in the shared table (and a new library version makes
    any copy in a process's memory unreachable until it expires)."""
    from hub.members import personal_data

    owner, other, resources = library
    outsider = UserFactory()
    Grant.objects.create(resource=resources[(Tier.RESTRICTED, Tier.RESTRICTED, "owner")],
                         user=outsider)
    page(outsider, "secretword")
    assert _shared_rows() >= 1
    personal_data.erase(outsider)
    assert _shared_rows() == 0


def test_copies_from_other_code_are_never_served(library, monkeypatch):
    """The shared table outlives a release: a copy's key names the code that rendered it."""
    from hub.core import fragments

    query = search.Query(text="x")
    first = caching.key("member", query)
    assert caching.key("member", query) == first
    monkeypatch.setattr(fragments, "code_stamp", lambda: "another-release")
    assert caching.key("member", query) != first
