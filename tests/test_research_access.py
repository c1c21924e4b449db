"""The research workspace's access rules as a matrix: every actor × a listed and an unlisted
study × every study page and action, lists included.

The team (lead, coder, viewer) reads everything of its study; only the lead runs it (team,
settings, log, participants, names, imports). Members see a listed study's overview and
nothing of its content; an unlisted study answers like a missing page to everyone outside
its team, hub staff and moderators included. A deactivated former coder is a visitor.
"""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client
from django.urls import reverse

from conftest import ACTORS
from hub import policy
from hub.members.tests.factories import UserFactory
from hub.research import services
from hub.research.models import Participant, Source, Study, StudyMember

pytestmark = pytest.mark.django_db

MEMBERS = {"member", "partner_member", "editor_a", "approver_a", "admin_a", "admin_a_no_mfa",
           "admin_b", "moderator", "staff", "staff_no_mfa", "lead", "coder", "viewer"}
TEAM = {"lead", "coder", "viewer"}
LEADS = {"lead"}
SIGNED_OUT = {"visitor", "deactivated"}
ALL = [*ACTORS, "lead", "coder", "viewer"]
SECRET_CODE = "P4711"
SECRET_TITLE = "Interview zq-hidden"


@pytest.fixture
def setup(world):
    a = world.actors
    for role in ("lead", "coder", "viewer"):
        a[role] = UserFactory(profile__display_name=f"Study {role.title()}")
    studies = {}
    for key, listed in (("listed", True), ("unlisted", False)):
        study = services.study_create(actor=a["lead"], title=f"Study {key} zq", listed=listed,
                                      description=f"About the {key} study.")
        for role in ("coder", "viewer"):
            services.team_add(actor=a["lead"], study=study, email=a[role].email, role=role)
        # a former coder whose account was deactivated afterwards
        StudyMember.objects.create(study=study, user=a["deactivated"], role="coder")
        participant = services.participant_create(actor=a["lead"], study=study,
                                                  code=SECRET_CODE, group="police")
        source = services.source_confirm(
            actor=a["lead"], study=study, title=SECRET_TITLE, kind="interview", origin="paste",
            text=f"Interviewer: hello\n{SECRET_CODE}: trust takes time", rejected=set(),
            marks=[], speakers={})
        studies[key] = (study, participant, source)
    return world, studies


def client_for(world, actor):
    client = Client()
    if world.actors.get(actor) is not None:
        client.force_login(world.actors[actor])
    return client


def user_of(world, actor):
    return world.actors.get(actor) or AnonymousUser()


def pages(study, participant, source):
    """name -> (address, who gets a 200)."""
    s = study.slug
    return {
        "study": (reverse("research:study_detail", args=[s]),
                  TEAM | (MEMBERS if study.listed else set())),
        "participants": (reverse("research:participant_list", args=[s]), TEAM),
        "sources": (reverse("research:source_list", args=[s]), TEAM),
        "source": (reverse("research:source_detail", args=[s, source.pk]), TEAM),
        "import": (reverse("research:source_import", args=[s]), LEADS),
        "participant_new": (reverse("research:participant_new", args=[s]), LEADS),
        "participant_edit": (reverse("research:participant_edit", args=[s, participant.pk]),
                             LEADS),
        "participant_delete": (reverse("research:participant_delete",
                                       args=[s, participant.pk]), LEADS),
        "names": (reverse("research:registry", args=[s]), LEADS),
        "source_edit": (reverse("research:source_edit", args=[s, source.pk]), LEADS),
        "source_delete": (reverse("research:source_delete", args=[s, source.pk]), LEADS),
        "team": (reverse("research:team", args=[s]), LEADS),
        "log": (reverse("research:study_log", args=[s]), LEADS),
        "settings": (reverse("research:study_edit", args=[s]), LEADS),
    }


def expected_status(actor, allowed):
    if actor in allowed:
        return 200
    return 302 if actor in SIGNED_OUT else 404


def test_predicates_and_querysets_agree_with_the_matrix(setup):
    """can_view/can_read/can_manage/can_curate and the queryset twins give the written-out
    answer for every actor and study."""
    world, studies = setup
    wrong = []
    for actor in ALL:
        user = user_of(world, actor)
        seen = set(policy.visible_studies(user, Study.objects.all()).values_list("pk", flat=True))
        read = set(policy.readable_studies(user, Study.objects.all()).values_list("pk",
                                                                                   flat=True))
        for key, (study, _, _) in studies.items():
            sees = actor in TEAM or (actor in MEMBERS and study.listed)
            answers = (policy.can_view_study(user, study), study.pk in seen,
                       policy.can_read_study(user, study), study.pk in read,
                       policy.can_manage_study(user, study), policy.can_curate_study(user, study),
                       policy.can_code_study(user, study))
            expected = (sees, sees, actor in TEAM, actor in TEAM, actor in LEADS,
                        actor in LEADS, actor in {"lead", "coder"})
            if answers != expected:
                wrong.append(f"{actor} × {key}: {answers} != {expected}")
    assert not wrong, "\n".join(wrong)


def test_every_page_answers_404_to_those_outside(setup):
    """Each page is 200 for those it is for, a sign-in redirect for visitors (and the
    deactivated) and 404 for every other signed-in person, as if the study did not exist."""
    world, studies = setup
    wrong = []
    for actor in ALL:
        client = client_for(world, actor)
        for key, objects in studies.items():
            for name, (url, allowed) in pages(*objects).items():
                status = client.get(url).status_code
                if status != expected_status(actor, allowed):
                    wrong.append(f"{actor} × {key} × {name}: {status}")
    assert not wrong, "\n".join(wrong)


def test_study_page_of_a_listed_study_shows_outsiders_no_content(setup):
    """Members outside the team, hub staff with two-step sign-in among them, see a listed
    study's title and description but no participant, source or team."""
    world, studies = setup
    study, _, _ = studies["listed"]
    for actor in ("member", "staff", "moderator"):
        html = client_for(world, actor).get(study.get_absolute_url()).content.decode()
        assert "About the listed study." in html
        for secret in (SECRET_CODE, SECRET_TITLE, "Study Coder", "/sources/", "/participants/"):
            assert secret not in html, (actor, secret)


def test_actions_by_outsiders_change_nothing(setup):
    """Posting any lead's action as anyone else answers 404 (or sign-in) and changes nothing."""
    world, studies = setup
    for key, (study, participant, source) in studies.items():
        s = study.slug
        member = StudyMember.objects.get(study=study, user=world.actors["viewer"])
        actions = [
            (reverse("research:team", args=[s]), {"email": world.actors["member"].email,
                                                   "role": "lead"}),
            (reverse("research:team_change", args=[s, member.pk]), {"role": "lead"}),
            (reverse("research:team_remove", args=[s, member.pk]), {}),
            (reverse("research:study_archive", args=[s]), {"archive": "1"}),
            (reverse("research:study_edit", args=[s]), {"title": "Taken over"}),
            (reverse("research:participant_new", args=[s]), {"code": "P9", "group": "police"}),
            (reverse("research:participant_delete", args=[s, participant.pk]), {}),
            (reverse("research:registry", args=[s]), {"kind": "person", "names": "Someone"}),
            (reverse("research:source_import", args=[s]), {"title": "T", "kind": "interview",
                                                           "pasted": "Interviewer: hi"}),
            (reverse("research:source_review", args=[s]), {"title": "T", "kind": "interview",
                                                           "original": "Interviewer: hi",
                                                           "action": "confirm"}),
            (reverse("research:source_delete", args=[s, source.pk]), {}),
        ]
        for actor in ALL:
            if actor in LEADS:
                continue
            client = client_for(world, actor)
            for url, data in actions:
                status = client.post(url, data).status_code
                assert status == (302 if actor in SIGNED_OUT else 404), (actor, key, url, status)
        study.refresh_from_db()
        assert study.status == "active" and study.title == f"Study {key} zq"
        assert StudyMember.objects.filter(study=study).count() == 4
        assert Participant.objects.filter(study=study).count() == 1
        assert Source.objects.filter(study=study).count() == 1
        assert not study.registry or '"names": {}' in study.registry


def test_study_list_shows_own_and_listed_studies_only(setup):
    """"My studies" holds the studies whose team one is in; the other list holds listed
    studies, for members only. Staff see no unlisted study."""
    world, studies = setup
    url = reverse("research:study_list")
    for actor in ALL:
        response = client_for(world, actor).get(url)
        if actor in SIGNED_OUT:
            assert response.status_code == 302
            continue
        mine = {s.title for s in response.context["mine"]}
        listed = {s.title for s in response.context["listed"]}
        expected_mine = {"Study listed zq", "Study unlisted zq"} if actor in TEAM else set()
        expected_listed = {"Study listed zq"} if actor in MEMBERS - TEAM else set()
        assert (mine, listed) == (expected_mine, expected_listed), actor
        if actor not in TEAM:
            assert b"Study unlisted zq" not in response.content


def test_openings_and_team_changes_reach_the_lead_log_only(setup):
    """Each reading of a source is logged; the lead's log lists openings and team changes."""
    world, studies = setup
    study, _, source = studies["unlisted"]
    client_for(world, "viewer").get(source.get_absolute_url())
    client_for(world, "coder").get(source.get_absolute_url())
    client_for(world, "member").get(source.get_absolute_url())  # 404: not logged as opening
    log = client_for(world, "lead").get(reverse("research:study_log", args=[study.slug]))
    events = list(log.context["page"].object_list)
    openings = [e for e in events if e.action == "research.source.open"]
    assert {e.actor for e in openings} == {world.actors["viewer"], world.actors["coder"]}
    assert {e.action for e in events} >= {"research.team.add", "research.source.open"}
    other, _, _ = studies["listed"]
    assert all(e.context["study"] == study.pk for e in events)
    assert not [e for e in events if e.context.get("study") == other.pk]
