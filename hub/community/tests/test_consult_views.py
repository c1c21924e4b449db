"""Consultation and concern pages through the client: forms that keep what was typed and say
what to change, responding and changing a response, "you said, we did", the CSV export, and
list pages whose number of queries does not grow with their rows."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from hub.community import consult
from hub.community.consult_forms import QuestionSpec
from hub.community.models import Concern, Consultation, ConsultationResponse
from hub.members.models import Membership
from hub.members.tests.factories import MembershipFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

LATER = (timezone.now() + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def org():
    return OrganisationFactory(name="Northgate Police", slug="northgate", is_partner=True)


@pytest.fixture
def editor(org):
    return MembershipFactory(organisation=org, role=Membership.Role.EDITOR).user


def make(editor, org, **fields):
    data = dict(organisation=org, title="Stop and search monitoring", summary="Views?",
                body_markdown="Proposal", audience="public",
                closes_at=timezone.now() + timedelta(days=10),
                questions=[QuestionSpec("Would you trust it?", True),
                           QuestionSpec("Anything else?")], open_now=True) | fields
    return consult.consultation_create(actor=editor, **data)


def form_data(org, **fields):
    return {"organisation": org.pk, "title": "Monitoring stops", "summary": "Typed summary",
            "body_markdown": "Typed body", "audience": "members", "closes_at": LATER,
            "questions": "* Would you trust it?\nAnything else?",
            "status_choice": "open"} | fields


def test_editor_opens_a_consultation_through_the_form(client, editor, org):
    client.force_login(editor)
    response = client.post(reverse("community:consultation_new"), form_data(org))
    c = Consultation.objects.get()
    assert response.status_code == 302 and response.url == c.get_absolute_url()
    assert c.status == "open" and [q.required for q in c.questions.all()] == [True, False]


@pytest.mark.parametrize("fields, message", [
    ({"closes_at": "2020-01-01T10:00"}, "closing date in the future"),
    ({"questions": "  \n "}, "Ask at least one question"),
    ({"questions": "\n".join(f"Q{n}" for n in range(21))}, "at most 20 questions"),
    ({"title": "Bad\x00"}, "Null characters"),
])
def test_consultation_form_keeps_input_and_says_what_to_change(client, editor, org, fields,
                                                               message):
    client.force_login(editor)
    response = client.post(reverse("community:consultation_new"), form_data(org, **fields))
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page and "Typed summary" in page and "Typed body" in page
    assert not Consultation.objects.exists()


def test_member_responds_changes_response_and_sees_it_kept_on_error(client, editor, org):
    c = make(editor, org)
    q1, q2 = c.questions.all()
    member = UserFactory()
    client.force_login(member)
    url = reverse("community:consultation_respond", args=[c.slug])
    response = client.post(url, {f"q{q2.pk}": "Optional typed"})
    assert response.status_code == 400 and "Optional typed" in response.content.decode()
    assert not ConsultationResponse.objects.exists()
    assert client.post(url, {f"q{q1.pk}": "Yes", "show_name": "on"}).status_code == 302
    page = client.get(url).content.decode()
    assert "Yes" in page and "checked" in page
    client.post(url, {f"q{q1.pk}": "Changed my mind"})
    assert ConsultationResponse.objects.get().answers.get().text == "Changed my mind"


def test_respond_after_closing_says_so_and_keeps_the_text(client, editor, org):
    c = make(editor, org)
    q1 = c.questions.first()
    Consultation.objects.filter(pk=c.pk).update(closes_at=timezone.now() - timedelta(hours=1))
    client.force_login(UserFactory())
    response = client.post(reverse("community:consultation_respond", args=[c.slug]),
                           {f"q{q1.pk}": "Too late typed"})
    page = response.content.decode()
    assert response.status_code == 400 and "not taking responses" in page
    assert "Too late typed" in page and not ConsultationResponse.objects.exists()


def test_outcome_page_publishes_you_said_we_did(client, editor, org):
    c = make(editor, org)
    consult.response_save(actor=UserFactory(), consultation=c,
                          answers={c.questions.first().pk: "Let the panel choose"})
    Consultation.objects.filter(pk=c.pk).update(closes_at=timezone.now() - timedelta(hours=1))
    client.force_login(editor)
    url = reverse("community:consultation_outcome", args=[c.slug])
    assert client.get(url).status_code == 200
    base = {"changes-TOTAL_FORMS": "3", "changes-INITIAL_FORMS": "0",
            "changes-MIN_NUM_FORMS": "0", "changes-MAX_NUM_FORMS": "30"}
    half = client.post(url, base | {"outcome_summary": "Kept summary",
                                    "changes-0-you_said": "Said only"})
    assert half.status_code == 400 and "Kept summary" in half.content.decode()
    done = client.post(url, base | {"outcome_summary": "We changed it",
                                    "changes-0-you_said": "Let the panel choose",
                                    "changes-0-we_did": "The panel chooses the clips"})
    assert done.status_code == 302
    page = client.get(c.get_absolute_url()).content.decode()
    assert "You said, we did" in page and "The panel chooses the clips" in page


def test_csv_export_has_one_row_per_response_and_defuses_formulas(client, editor, org):
    c = make(editor, org)
    q1 = c.questions.first()
    named = UserFactory(profile__display_name="Shown Person")
    hidden = UserFactory(profile__display_name="Hidden Person")
    consult.response_save(actor=named, consultation=c, answers={q1.pk: "Fine"}, show_name=True)
    consult.response_save(actor=hidden, consultation=c, answers={q1.pk: "=HYPERLINK(1)"})
    client.force_login(editor)
    response = client.get(reverse("community:consultation_export", args=[c.slug]))
    body = response.content.decode()
    assert response["Content-Type"].startswith("text/csv")
    assert len(body.strip().splitlines()) == 3
    assert "Shown Person" in body and "Hidden Person" not in body and hidden.email not in body
    assert "'=HYPERLINK(1)" in body


def test_concern_form_keeps_input_on_error_and_sends_when_right(client, org):
    member = UserFactory()
    client.force_login(member)
    url = reverse("community:concern_new")
    bad = client.post(url, {"organisation": org.pk, "title": "", "body_markdown": "Kept body",
                            "visibility": "private"})
    assert bad.status_code == 400 and "Kept body" in bad.content.decode()
    good = client.post(url, {"organisation": org.pk, "title": "Lights", "body_markdown": "Out",
                             "visibility": "private"})
    concern = Concern.objects.get()
    assert good.url == concern.get_absolute_url() and concern.visibility == "private"


def _count(client, url) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("viewer", ["visitor", "member", "editor"])
def test_list_pages_make_as_many_queries_for_many_rows_as_for_few(client, editor, org, viewer):
    """Consultation list, concern list (filtered and not) and the organisation's page."""
    made = [0]

    def add(count):
        for _ in range(count):
            made[0] += 1
            c = make(editor, org, title=f"Counted {made[0]}",
                     audience="members" if made[0] % 2 else "public")
            for _ in range(2):
                consult.response_save(actor=UserFactory(), consultation=c,
                                      answers={c.questions.first().pk: "Counted"})
            concern = consult.concern_raise(actor=UserFactory(), organisation=org,
                                            title=f"Counted {made[0]}", body_markdown="x",
                                            visibility="private" if made[0] % 2 else "public")
            consult.concern_reply(actor=editor, concern=concern, body_markdown="Answer")
    if viewer == "member":
        client.force_login(UserFactory())
    elif viewer == "editor":
        client.force_login(editor)
    urls = [reverse("community:consultation_list"), reverse("community:concern_list"),
            reverse("community:concern_list") + "?organisation=northgate",
            reverse("members:organisation_detail", args=["northgate"])]
    add(2)
    few = {url: _count(client, url) for url in urls}
    add(4)
    many = {url: _count(client, url) for url in urls}
    assert many == few


@pytest.mark.parametrize("text, message", [("bad\x00reply", "Null characters"),
                                           ("x" * 8001, "at most 8000 characters")])
def test_bad_reply_says_what_to_change_and_keeps_the_text(client, editor, org, text, message):
    concern = consult.concern_raise(actor=UserFactory(), organisation=org, title="Lights",
                                    body_markdown="Out", visibility="public")
    client.force_login(editor)
    response = client.post(reverse("community:concern_reply", args=[concern.pk]),
                           {"body_markdown": text})
    page = response.content.decode()
    assert response.status_code == 400 and message in page
    assert not concern.replies.exists()
    if "\x00" not in text:
        assert text in page


def test_organisation_page_shows_its_record_without_listing_private_concerns(client, editor,
                                                                            org):
    author = UserFactory()
    for visibility in ("public", "private"):
        concern = consult.concern_raise(actor=author, organisation=org,
                                        title=f"A {visibility} worry", body_markdown="x",
                                        visibility=visibility)
    consult.concern_reply(actor=editor, concern=concern, body_markdown="Answered")
    page = client.get(reverse("members:organisation_detail", args=["northgate"])).content \
        .decode()
    assert "Concerns raised with Northgate Police" in page
    assert "2 (1 waiting for an answer)" in page
    assert "A public worry" in page and "A private worry" not in page


def test_open_consultation_cannot_move_its_closing_date_into_the_past(client, editor, org):
    c = make(editor, org)
    client.force_login(editor)
    response = client.post(reverse("community:consultation_edit", args=[c.slug]),
                           form_data(org, closes_at="2020-01-01T10:00", title="Kept title"))
    page = response.content.decode()
    assert response.status_code == 400 and "closing date in the future" in page
    assert "Kept title" in page
    c.refresh_from_db()
    assert c.title == "Stop and search monitoring" and c.closes_at > timezone.now()
