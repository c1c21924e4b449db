"""The agreement pages: who sees the figures and the differences, blind or not."""

import pytest
from django.urls import reverse
from django.utils import timezone

from hub.members.tests.factories import UserFactory, enrol_mfa
from hub.research.models import Code, Coding, Source, Study, StudyMember

pytestmark = pytest.mark.django_db


@pytest.fixture
def study():
    study = Study.objects.create(title="Trust", slug="trust", blind=True)
    source = Source.objects.create(study=study, title="One", text="abcdefghij")
    code = Code.objects.create(study=study, name="Trust")
    people = {}
    for key, role in (("lead", "lead"), ("ann", "coder"), ("ben", "coder"),
                      ("viewer", "viewer")):
        people[key] = UserFactory(profile__display_name=key.title())
        StudyMember.objects.create(study=study, user=people[key], role=role)
    Coding.objects.create(source=source, code=code, start=0, end=5, coder=people["ann"])
    Coding.objects.create(source=source, code=code, start=0, end=3, coder=people["ben"])
    Coding.objects.create(source=source, code=code, start=9, end=10, coder=people["ben"])
    study.people = people
    study.code = code
    return study


def _get(client, user, name, *args, query=""):
    client.force_login(user)
    return client.get(reverse(f"research:{name}", args=args) + query)


def test_lead_sees_figures_while_blind_but_not_the_differences(client, study):
    people = study.people
    query = f"?coder={people['ann'].pk}&coder={people['ben'].pk}"
    page = _get(client, people["lead"], "agreement", study.slug, query=query)
    assert page.status_code == 200
    assert b"0.40" in page.content  # kappa, worked by hand in test_agreement.py
    assert b"Where they differ" not in page.content
    assert _get(client, people["lead"], "disagreements", study.slug, study.code.pk,
                query=query).status_code == 404


@pytest.mark.parametrize("key", ["ann", "viewer"])
def test_the_team_waits_for_the_reveal(client, study, key):
    person = study.people[key]
    assert _get(client, person, "agreement", study.slug).status_code == 404
    assert _get(client, person, "disagreements", study.slug, study.code.pk).status_code == 404
    Study.objects.filter(pk=study.pk).update(revealed_at=timezone.now())
    assert _get(client, person, "agreement", study.slug).status_code == 200
    page = _get(client, person, "disagreements", study.slug, study.code.pk)
    assert page.status_code == 200
    assert b"Coded by Ann; not by Ben" in page.content
    assert b"Coded by Ben; not by Ann" in page.content


def test_nobody_outside_the_team_gets_in(client, study):
    Study.objects.filter(pk=study.pk).update(blind=False, listed=True)
    staff = UserFactory(is_staff=True, is_moderator=True)
    enrol_mfa(staff)
    for outsider in (UserFactory(), staff):
        assert _get(client, outsider, "agreement", study.slug).status_code == 404
        assert _get(client, outsider, "disagreements", study.slug,
                    study.code.pk).status_code == 404
    client.logout()
    assert client.get(reverse("research:agreement", args=[study.slug])).status_code == 302


def test_fewer_than_two_coders_is_explained(client, study):
    people = study.people
    page = _get(client, people["lead"], "agreement", study.slug,
                query=f"?coder={people['ann'].pk}")
    assert page.status_code == 400
    assert b"Choose at least two coders" in page.content
