"""The access policy as a full matrix: every actor against every object, for every action.

The expected answers are written out by hand below, not derived from the policy, so a change
to a rule has to change this table too. A second set of tests checks that each predicate and
its queryset twin agree for every actor and object, and a third asks the pages themselves.
"""

import re

import pytest
from django.urls import reverse

from conftest import ACTORS
from hub import policy
from hub.core.models import AuditEvent
from hub.members.models import Application, Invitation, Membership, Organisation, Profile

pytestmark = pytest.mark.django_db

ALL = set(ACTORS)
MEMBERS_OF_HUB = {"member", "partner_member", "editor_a", "approver_a", "admin_a",
                  "admin_a_no_mfa", "admin_b", "moderator", "staff_no_mfa"}

# Which actors may see each profile. "applicant" and "deactivated" are those people's own
# profiles, set to public: neither is listed for others until the person is a member.
PROFILE_VIEW = {
    "public": ALL,
    "members": MEMBERS_OF_HUB | {"staff"},
    "private": {"staff"},
    "applicant": {"applicant", "staff"},
    "deactivated": {"staff"},
}

APPLICATION_VIEW = {
    "to_a": {"admin_a", "staff"},
    "to_b": {"admin_b", "staff"},
    "to_none": {"staff"},
    "own": {"applicant", "admin_a", "staff"},
}

APPLICATION_DECIDE = {
    "to_a": {"admin_a", "staff"},
    "to_b": {"admin_b", "staff"},
    "to_none": {"staff"},
    "own": {"admin_a", "staff"},
}

ORGANISATION_MANAGE = {
    "a": {"admin_a", "staff"},
    "b": {"admin_b", "staff"},
    "c": {"staff"},
}

AUDIT_VIEW = {
    "a": {"admin_a", "staff"},
    "b": {"admin_b", "staff"},
    "none": {"staff"},
}

# Changing a membership of organisation A: the actor's own membership, and someone else's.
MEMBERSHIP_CHANGE = {
    "own": {"staff"},  # staff may change an admin's own membership, never their own
    "other": {"admin_a", "staff"},
}

POWERS_WAITING_FOR_MFA = {"admin_a_no_mfa", "staff_no_mfa"}
ADMIN_SITE = {"staff"}


def _allowed(world, predicate, objects: dict) -> dict[str, set[str]]:
    return {
        key: {name for name in ACTORS if predicate(world.actors[name], obj)}
        for key, obj in objects.items()
    }


def _orgs(world):
    return {"a": world.org_a, "b": world.org_b, "c": world.org_c}


def test_policy_profile_view_matrix(world):
    """Each actor sees exactly the profiles the table says."""
    assert _allowed(world, policy.can_view_profile, world.profiles) == PROFILE_VIEW


def test_policy_application_view_matrix(world):
    """Applications are seen by their author, staff and the named organisation's admins."""
    assert _allowed(world, policy.can_view_application, world.applications) == APPLICATION_VIEW


def test_policy_application_decide_matrix(world):
    """Nobody decides their own application; admins without two-step sign-in decide nothing."""
    assert (_allowed(world, policy.can_decide_application, world.applications)
            == APPLICATION_DECIDE)


def test_policy_organisation_manage_matrix(world):
    """Only an enrolled admin of the organisation, or enrolled staff, manage it."""
    assert _allowed(world, policy.can_manage_organisation, _orgs(world)) == ORGANISATION_MANAGE


def test_policy_audit_view_matrix(world):
    """An organisation's admins read its audit trail; staff read all of it."""
    assert _allowed(world, policy.can_view_audit_event, world.events) == AUDIT_VIEW


def test_policy_membership_change_matrix(world):
    """Admins change others' memberships in their organisation, never their own."""
    own = world.actors["admin_a"].memberships.get()
    other = world.actors["partner_member"].memberships.get()
    allowed = _allowed(world, policy.can_change_membership, {"own": own, "other": other})
    assert allowed == MEMBERSHIP_CHANGE


def test_policy_everyone_sees_organisations(world):
    """Organisations are public bodies: every actor sees every one."""
    assert _allowed(world, policy.can_view_organisation, _orgs(world)) == {
        "a": ALL, "b": ALL, "c": ALL}


def test_policy_powers_wait_for_mfa(world):
    """Exactly the people who hold a power but have not enrolled are asked to enrol."""
    waiting = {name for name in ACTORS if policy.needs_mfa_enrolment(world.actors[name])}
    assert waiting == POWERS_WAITING_FOR_MFA
    assert {name for name in ACTORS if policy.can_use_admin(world.actors[name])} == ADMIN_SITE


# --- Predicates and their queryset twins agree ----------------------------------------------

TWINS = [
    (policy.can_view_profile, policy.visible_profiles, Profile),
    (policy.can_view_organisation, policy.visible_organisations, Organisation),
    (policy.can_manage_organisation, policy.managed_organisations, Organisation),
    (policy.can_view_membership, policy.visible_memberships, Membership),
    (policy.can_view_application, policy.visible_applications, Application),
    (policy.can_decide_application, policy.decidable_applications, Application),
    (policy.can_view_audit_event, policy.visible_audit_events, AuditEvent),
    (policy.can_view_invitation, policy.visible_invitations, Invitation),
]


@pytest.mark.parametrize("predicate,twin,model", TWINS,
                         ids=[t[0].__name__ for t in TWINS])
def test_policy_list_filter_agrees_with_predicate(world, predicate, twin, model):
    """For every actor, the list filter returns exactly the objects the predicate allows."""
    everything = list(model.objects.all())
    assert everything, "the world must hold objects of this kind"
    for name in ACTORS:
        user = world.actors[name]
        expected = {obj.pk for obj in everything if predicate(user, obj)}
        listed = set(twin(user, model.objects.all()).values_list("pk", flat=True))
        assert listed == expected, f"{name}: list and single-object rules disagree"


# --- The pages answer as the policy does ----------------------------------------------------

def _page(response, path: str) -> str:
    body = response.content.decode().replace(path, "")
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)


def _client_for(client, world, name):
    user = world.actors[name]
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.parametrize("actor", ACTORS)
def test_profile_page_answers_as_policy(client, world, actor):
    """A profile the actor may not see answers 404, the same as a profile that does not exist."""
    client = _client_for(client, world, actor)
    missing_path = reverse("members:profile_detail", args=[999_999])
    missing = client.get(missing_path)
    assert missing.status_code == 404
    for key, profile in world.profiles.items():
        path = profile.get_absolute_url()
        response = client.get(path)
        expected = 200 if actor in PROFILE_VIEW[key] else 404
        assert response.status_code == expected, (actor, key)
        if expected == 404:
            # Same page, word for word, but for the address and the form's CSRF token.
            assert _page(response, path) == _page(missing, missing_path)


@pytest.mark.parametrize("actor", ACTORS)
def test_organisation_page_lists_only_visible_members(client, world, actor):
    """The organisation's member list is filtered by each member's profile visibility."""
    client = _client_for(client, world, actor)
    body = client.get(world.org_c.get_absolute_url()).content.decode()
    for key in ("public", "members", "private"):
        name = world.profiles[key].display_name
        assert (name in body) == (actor in PROFILE_VIEW[key]), (actor, key)


@pytest.mark.parametrize("actor", ACTORS)
def test_organisation_list_counts_only_visible_members(client, world, actor):
    """Counts on the list page follow the same rule as the names."""
    client = _client_for(client, world, actor)
    response = client.get(reverse("members:organisation_list"))
    gamma = next(o for o in response.context["page"] if o.pk == world.org_c.pk)
    expected = sum(actor in PROFILE_VIEW[k] for k in ("public", "members", "private"))
    assert gamma.shown_members == expected


@pytest.mark.parametrize("actor", ACTORS)
def test_application_queue_answers_as_policy(client, world, actor):
    """The queue shows each actor exactly the applications they may decide."""
    client = _client_for(client, world, actor)
    response = client.get(reverse("members:application_queue"))
    if actor in ("visitor", "deactivated"):
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        return
    if actor in POWERS_WAITING_FOR_MFA:
        assert response.status_code == 302 and "/2fa/" in response["Location"]
        return
    decidable = {k for k, allowed in APPLICATION_DECIDE.items() if actor in allowed}
    if not decidable:
        assert response.status_code == 404
        return
    assert response.status_code == 200
    shown = {a.pk for a in response.context["applications"]}
    assert shown == {world.applications[k].pk for k in decidable}


@pytest.mark.parametrize("actor", ACTORS)
def test_decide_application_answers_as_policy(client, world, actor):
    """Approving an application works only for those allowed; others get 404 and no change."""
    client = _client_for(client, world, actor)
    application = world.applications["to_a"]
    response = client.post(reverse("members:application_decide", args=[application.pk]),
                           {"decision": "approve"})
    application.refresh_from_db()
    if actor in APPLICATION_DECIDE["to_a"]:
        assert application.status == Application.Status.APPROVED
    else:
        assert application.status == Application.Status.PENDING
        assert response.status_code in (302, 404)
        if response.status_code == 302:
            assert "/accounts/login/" in response["Location"] or "/2fa/" in response["Location"]


@pytest.mark.parametrize("actor", ACTORS)
def test_manage_page_answers_as_policy(client, world, actor):
    """Each organisation's management page opens only for those who may manage it."""
    client = _client_for(client, world, actor)
    for key, org in _orgs(world).items():
        response = client.get(reverse("members:organisation_manage", args=[org.slug]))
        if actor in ("visitor", "deactivated"):
            assert response.status_code == 302
        elif actor in POWERS_WAITING_FOR_MFA:
            assert response.status_code == 302 and "/2fa/" in response["Location"]
        else:
            assert response.status_code == (200 if actor in ORGANISATION_MANAGE[key] else 404)


@pytest.mark.parametrize("actor", ACTORS)
def test_admin_site_answers_as_policy(client, world, actor):
    """Only enrolled staff reach the admin; unenrolled staff are sent to enrol; others 404."""
    client = _client_for(client, world, actor)
    response = client.get(reverse("admin:index"), follow=False)
    if actor == "staff":
        assert response.status_code == 200
        return
    assert response.status_code == 302
    follow = client.get(response["Location"])
    if actor in ("visitor", "deactivated"):
        assert "/accounts/login/" in response["Location"] or "/accounts/login/" in follow.get(
            "Location", "")
    elif actor == "staff_no_mfa":
        assert follow.status_code == 302 and "/2fa/" in follow["Location"]
    else:
        assert follow.status_code == 404
