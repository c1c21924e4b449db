"""Reading sources: turns with participant codes and groups, parts of long transcripts,
editing speakers, deleting, and the record of every opening."""

import time

import pytest
from django.urls import reverse

from hub.core.models import AuditEvent
from hub.members.tests.factories import UserFactory
from hub.research import services, study_views
from hub.research.models import Source, SpeakerTurn

pytestmark = pytest.mark.django_db


@pytest.fixture
def study_with_source(db):
    lead = UserFactory(profile__display_name="Lead Person")
    study = services.study_create(actor=lead, title="Reading study")
    p = services.participant_create(actor=lead, study=study, code="P2", group="young_person")
    text = ("Recorded in a youth club.\n\nInterviewer: How do you see the police?\n\n"
            "P2: Mostly fine.\n\nSometimes not.\nFacilitator: Thanks.")
    source = services.source_confirm(actor=lead, study=study, title="Interview 1",
                                     kind="interview", origin="paste", text=text,
                                     rejected=set(), marks=[], speakers={})
    return lead, study, p, source


def test_reading_shows_turns_codes_and_groups_and_logs_the_opening(client, study_with_source):
    """The reading page shows each turn with its speaker, participant code and group, and
    every opening is recorded for the study."""
    lead, study, p, source = study_with_source
    client.force_login(lead)
    page = client.get(source.get_absolute_url())
    html = page.content.decode()
    assert page.status_code == 200
    assert "Recorded in a youth club." in html
    assert "P2 <span class=\"meta\">· young person</span>" in html
    assert "Sometimes not." in html
    client.get(source.get_absolute_url())
    assert AuditEvent.objects.filter(action="research.source.open", target_id=str(source.pk),
                                     context__study=study.pk).count() == 2
    turns = SpeakerTurn.objects.filter(source=source)
    assert [t.speaker for t in turns] == ["Interviewer", "P2", "Facilitator"]
    assert turns[1].participant == p


def test_source_edit_maps_speakers_and_refuses_named_titles(client, study_with_source):
    """The lead maps a speaker label to a participant, and cannot give a title with a
    registered name."""
    lead, study, p, source = study_with_source
    services.registry_add(actor=lead, study=study, kind="person", names=["Wilhelmina"])
    client.force_login(lead)
    url = reverse("research:source_edit", args=[study.slug, source.pk])
    speakers = client.get(url).context["speakers"]
    fac = [n for n, s in enumerate(speakers) if s["label"] == "Facilitator"][0]
    data = {"title": "Interview 1b", "kind": "focus_group", f"speaker_{fac}": str(p.pk)}
    for n, s in enumerate(speakers):
        if n != fac and s["participant_id"]:
            data[f"speaker_{n}"] = str(s["participant_id"])
    assert client.post(url, data).status_code == 302
    source.refresh_from_db()
    assert (source.title, source.kind) == ("Interview 1b", "focus_group")
    assert SpeakerTurn.objects.get(source=source, speaker="Facilitator").participant == p
    bad = client.post(url, {**data, "title": "Talk with Wilhelmina"})
    assert bad.status_code == 400 and b"neutral title" in bad.content
    source.refresh_from_db()
    assert source.title == "Interview 1b"


def test_source_delete(client, study_with_source):
    """The lead deletes a source after confirming."""
    lead, study, _, source = study_with_source
    client.force_login(lead)
    url = reverse("research:source_delete", args=[study.slug, source.pk])
    assert client.get(url).status_code == 200
    client.post(url)
    assert not Source.objects.exists()


def test_long_transcript_is_read_in_parts_quickly(client, study_with_source, monkeypatch):
    """A 50,000-word transcript is shown in parts of about 30,000 characters; each part
    renders in well under a couple of seconds even on a busy machine."""
    lead, study, _, _ = study_with_source
    turns = [f"{'Interviewer' if n % 2 else 'P2'}: " + " ".join(["trust"] * 48)
             for n in range(1000)]
    text = "\n\n".join(turns)
    source = Source.objects.create(study=study, title="Long", text=text, word_count=50_000)
    from hub.research import importing

    SpeakerTurn.objects.bulk_create(SpeakerTurn(source=source, start=t.start, end=t.end,
                                                speaker=t.speaker)
                                    for t in importing.speaker_turns(text))
    client.force_login(lead)
    started = time.perf_counter()
    page = client.get(source.get_absolute_url() + "?page=2")
    elapsed = time.perf_counter() - started
    assert page.status_code == 200
    parts = page.context["page"].paginator.num_pages
    assert parts == pytest.approx(len(text) / study_views.READ_PAGE_CHARS, abs=2)
    assert len(page.content) < 200_000
    assert elapsed < 5
