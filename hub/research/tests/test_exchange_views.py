"""The exchange pages: who may export and import, and what a bad file gets."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from hub.core.models import AuditEvent
from hub.members.models import User
from hub.members.tests.factories import UserFactory, enrol_mfa
from hub.research import exchange
from hub.research.models import Code, Coding, Source, Study, StudyMember
from hub.research.tests.test_exchange import _handmade

pytestmark = pytest.mark.django_db


@pytest.fixture
def study():
    study = Study.objects.create(title="Trust", slug="trust")
    source = Source.objects.create(study=study, title="One", text="[P01]: fine, thanks.")
    code = Code.objects.create(study=study, name="Trust")
    study.people = {}
    for role in ("lead", "coder", "viewer"):
        study.people[role] = UserFactory()
        StudyMember.objects.create(study=study, user=study.people[role], role=role)
    Coding.objects.create(source=source, code=code, start=7, end=11,
                          coder=study.people["coder"])
    return study


def _as(client, user):
    client.force_login(user)
    return client


def test_only_the_lead_exports_the_project(client, study):
    url = reverse("research:project_export", args=[study.slug])
    response = _as(client, study.people["lead"]).get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="trust.qdpx"'
    assert response["Cache-Control"] == "private, no-store"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    exchange.project_schema().validate(io.BytesIO(archive.read("project.qde")))
    assert AuditEvent.objects.filter(action="research.study.export").count() == 1
    staff = UserFactory(is_staff=True)
    enrol_mfa(staff)
    for person in (study.people["coder"], study.people["viewer"], UserFactory(), staff):
        assert _as(client, person).get(url).status_code == 404


def test_the_team_exports_the_codebook_and_others_cannot(client, study):
    url = reverse("research:codebook_export", args=[study.slug])
    for role in ("lead", "coder", "viewer"):
        response = _as(client, study.people[role]).get(url)
        assert response.status_code == 200
        exchange.codebook_schema().validate(io.BytesIO(response.content))
    assert _as(client, UserFactory()).get(url).status_code == 404
    assert _as(client, UserFactory()).get(
        reverse("research:exchange", args=[study.slug])).status_code == 404


def test_an_empty_codebook_says_so(client, study):
    Code.objects.all().delete()
    response = _as(client, study.people["lead"]).get(
        reverse("research:codebook_export", args=[study.slug]), follow=True)
    assert b"The codebook is empty" in response.content


def test_codebook_import_by_the_lead_with_a_bad_file_keeps_the_codebook(client, study):
    url = reverse("research:codebook_import", args=[study.slug])
    response = _as(client, study.people["lead"]).post(
        url, {"file": SimpleUploadedFile("book.qdc", b"<CodeBook>")})
    assert response.status_code == 400
    assert b"not well-formed XML" in response.content
    assert list(Code.objects.values_list("name", flat=True)) == ["Trust"]
    assert _as(client, study.people["coder"]).post(
        url, {"file": SimpleUploadedFile("book.qdc", b"x")}).status_code == 404


def test_project_import_makes_a_new_study_or_says_what_is_wrong(client):
    member = UserFactory()
    url = reverse("research:project_import")
    client = _as(client, member)
    assert client.get(url).status_code == 200
    bad = client.post(url, {"file": SimpleUploadedFile("p.qdpx", b"not a zip")})
    assert bad.status_code == 400
    assert b"not a ZIP archive" in bad.content and b"Nothing was imported" in bad.content
    assert not Study.objects.exists()
    bad_line = client.post(url, {"file": SimpleUploadedFile("p.qdpx", _handmade()),
                                 "coders": "Bea bea@example.org"})
    assert bad_line.status_code == 400 and b"Line 1 should read" in bad_line.content
    done = client.post(url, {"file": SimpleUploadedFile("p.qdpx", _handmade()),
                             "names": "place: Riverside\nSiobhan"}, follow=True)
    study = Study.objects.get()
    assert done.redirect_chain[-1][0] == study.get_absolute_url()
    assert StudyMember.objects.get(study=study).user == member
    assert b"Imported 1 source, 3 codes, 3 codings" in done.content


def test_applicants_and_visitors_cannot_import(client):
    url = reverse("research:project_import")
    assert client.get(url).status_code == 302
    applicant = UserFactory(standing=User.Standing.APPLICANT)
    assert _as(client, applicant).get(url).status_code == 404
