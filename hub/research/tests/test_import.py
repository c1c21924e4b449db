"""Importing transcripts: reading files and pastes, the review step, and the promise that no
original name is stored anywhere (database tables, sessions, files)."""

import io
import json
import re

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from hub.members.tests.factories import UserFactory
from hub.research import importing, services
from hub.research.models import Participant, Source, SpeakerTurn, Study

pytestmark = pytest.mark.django_db

NAMES = ["Amina Yusuf", "Farida Rahimi", "Kelvin Osei", "Darnley Heath", "Zawadi Kamau",
         "Brackenfold", "Millbeck Tenants Alliance", "Oluwaseun", "Thandiwe"]
TRANSCRIPT = """Interview about trust, recorded at the Millbeck Tenants Alliance office.

Interviewer: Thanks for coming. Could you say what you do?

Amina: I run the girls' group on the Brackenfold estate with Farida Rahimi. Kelvin Osei from
the council sometimes joins us. You can reach me on amina.yusuf@example.org or 07700 900123.

Interviewer: And the police?

Amina: PC Darnley Heath came every week for a year. Then he moved, and Zawadi Kamau took over.
Thandiwe and Oluwaseun, two of the girls, said they trusted Darnley more. Amina Yusuf is my
full name, if you need it for the form. We meet at 14 Larch Grove, BD8 7QT.

Farida: I agree with Amina. The Millbeck Tenants Alliance helped a lot.
"""


def make_study(lead=None, **fields):
    lead = lead or UserFactory(profile__display_name="Lead Researcher")
    study = services.study_create(actor=lead, title=fields.pop("title", "Trust study"), **fields)
    return study, lead


def register_all(study, lead):
    p1 = services.participant_create(actor=lead, study=study, code="P1",
                                     group=Participant.Group.COMMUNITY_ORG)
    p2 = services.participant_create(actor=lead, study=study, code="P2",
                                     group=Participant.Group.COMMUNITY_MEMBER)
    services.registry_add(actor=lead, study=study, kind="person",
                          names=["Amina Yusuf", "Amina"], participant=p1)
    services.registry_add(actor=lead, study=study, kind="person",
                          names=["Farida Rahimi", "Farida"], participant=p2)
    services.registry_add(actor=lead, study=study, kind="person",
                          names=["Darnley Heath", "Darnley"])
    services.registry_add(actor=lead, study=study, kind="place", names=["Brackenfold"])
    services.registry_add(actor=lead, study=study, kind="organisation",
                          names=["Millbeck Tenants Alliance", "MTA"])
    return p1, p2


def docx_bytes(text: str) -> bytes:
    import docx

    document = docx.Document()
    for line in text.split("\n"):
        document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def import_url(study):
    return reverse("research:source_import", args=[study.slug])


def review_url(study):
    return reverse("research:source_review", args=[study.slug])


def review_post(response, **changes) -> dict:
    """The fields the review page would post back, as a browser would send them."""
    html = response.content.decode()
    data = {"title": re.search(r'name="title" id="id_title" value="([^"]*)"', html).group(1),
            "kind": "interview", "action": "confirm"}
    for name in ("original", "origin", "registry_version"):
        value = re.search(rf'name="{name}" value="([^"]*)"', html, re.S).group(1)
        data[name] = _unescape(value).replace("\n", "\r\n")  # browsers send CRLF
    data["keep"] = re.findall(r'name="keep" value="([^"]+)"[^>]*checked', html)
    data["speaker_label"] = [_unescape(v) for v in
                             re.findall(r'name="speaker_label" value="([^"]*)"', html)]
    data["speaker_participant"] = []
    for select in re.findall(r'<select name="speaker_participant".*?</select>', html, re.S):
        chosen = re.search(r'<option value="(\d+)" selected', select)
        data["speaker_participant"].append(chosen.group(1) if chosen else "")
    data["mark_text"] = [_unescape(m.group(1) or "") for m in re.finditer(
        r'<input type="text" name="mark_text" id="[^"]+"(?: value="([^"]*)")?', html)]
    data["mark_kind"] = []
    for select in re.findall(r'<select name="mark_kind".*?</select>', html, re.S):
        chosen = re.search(r'<option value="(\w+)" selected', select)
        data["mark_kind"].append(chosen.group(1) if chosen else "person")
    data.update(changes)
    return data


def _unescape(value: str) -> str:
    import html

    return html.unescape(value)


def everything_stored() -> str:
    """Every value of every table, sessions decoded, as one lower-case string."""
    out = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            for row in cursor.fetchall():
                out.append(" ".join(str(v) for v in row))
    for session in Session.objects.all():
        out.append(json.dumps(SessionStore().decode(session.session_data)))
    return "\n".join(out).lower()


def files_stored() -> str:
    out = []
    for root in {settings.DATA_DIR, settings.MEDIA_ROOT}:
        for path in root.rglob("*") if root.exists() else []:
            if path.is_file() and path.suffix not in (".sqlite3", ".sqlite3-wal"):
                try:
                    out.append(path.read_bytes().decode("utf-8", "ignore"))
                except OSError:
                    pass
    return "\n".join(out).lower()


def test_import_paste_stores_no_original_name_anywhere(client, settings, tmp_path):
    """After a transcript full of names is pasted, reviewed and confirmed, no original name is
    in any table, session or file; the stored text has codes and labels instead."""
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "uploads")
    study, lead = make_study()
    register_all(study, lead)
    client.force_login(lead)
    page = client.post(import_url(study), {"title": "Interview 1", "kind": "interview",
                                           "pasted": TRANSCRIPT})
    assert page.status_code == 200 and b"Review the pseudonymisation" in page.content
    assert "no-store" in page["Cache-Control"]
    done = client.post(review_url(study), review_post(page))
    source = Source.objects.get(study=study)
    assert done.status_code == 302 and done["Location"] == source.get_absolute_url()
    for name in NAMES:
        assert name.lower() not in source.text.lower(), name
    assert "[P1]" in source.text and "[P2]" in source.text and "[Person" in source.text
    assert "[Email 1]" in source.text and "[Postcode 1]" in source.text
    client.get(source.get_absolute_url())
    stored, on_disk = everything_stored(), files_stored()
    found = [n for n in NAMES + ["amina.yusuf", "07700 900123", "larch grove"]
             if n.lower() in stored or n.lower() in on_disk]
    assert found == []
    assert not (tmp_path / "uploads").exists() or not any((tmp_path / "uploads").iterdir())


def test_import_docx_turns_attributed_and_nothing_kept(client, settings, tmp_path):
    """A Word file is read in the sandbox, its speaker turns found on the pseudonymised text
    and given to the participants whose codes they carry; no upload is written anywhere."""
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "uploads")
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 10  # Django would spill anything bigger to disk
    study, lead = make_study()
    p1, p2 = register_all(study, lead)
    client.force_login(lead)
    upload = SimpleUploadedFile("amina-interview.docx", docx_bytes(TRANSCRIPT))
    page = client.post(import_url(study), {"title": "Interview 2", "kind": "interview",
                                           "file": upload})
    assert page.status_code == 200, page.content[:3000]
    client.post(review_url(study), review_post(page))
    source = Source.objects.get(study=study)
    assert source.origin == "docx"
    turns = list(SpeakerTurn.objects.filter(source=source))
    assert [t.speaker for t in turns] == ["Interviewer", "[P1]", "Interviewer", "[P1]", "[P2]"]
    assert [t.participant for t in turns] == [None, p1, None, p1, p2]
    assert source.text[turns[1].start:turns[1].end].startswith("[P1]: I run")
    assert not (tmp_path / "uploads").exists() or not any((tmp_path / "uploads").iterdir())
    stored = everything_stored() + files_stored()
    assert [n for n in NAMES if n.lower() in stored] == []


def test_review_rejections_marks_and_speaker_mapping(client):
    """A rejected proposal stays as written, a marked word is replaced everywhere and
    registered for later transcripts, and a speaker can be mapped by hand."""
    study, lead = make_study()
    p1 = services.participant_create(actor=lead, study=study, code="YP-3",
                                     group=Participant.Group.YOUNG_PERSON)
    client.force_login(lead)
    text = ("Facilitator: Who runs the youth club?\n"
            "Jo: Mr Quillfeather does, with the Cobblestone crew. cobblestone rules.\n")
    page = client.post(import_url(study), {"title": "Focus group 1", "kind": "focus_group",
                                           "pasted": text})
    html = page.content.decode()
    assert "Quillfeather" in html
    quill = text.index("Quillfeather")
    assert f'name="keep" value="{quill}-{quill + len("Quillfeather")}"' in html
    data = review_post(page, keep=[f"{quill}-{quill + len('Quillfeather')}"], action="update",
                       mark_text=["cobblestone"], mark_kind=["organisation"])
    updated = client.post(review_url(study), data)
    assert updated.status_code == 200
    labels = re.findall(r'name="speaker_label" value="([^"]*)"', updated.content.decode())
    data = review_post(updated, speaker_participant=[
        str(p1.pk) if label != "Facilitator" else "" for label in labels])
    client.post(review_url(study), data)
    source = Source.objects.get(study=study)
    assert "Quillfeather" in source.text
    assert "cobblestone" not in source.text.lower()
    assert "[Organisation 1] crew. [Organisation 1] rules" in source.text
    assert SpeakerTurn.objects.get(source=source, participant=p1).speaker != "Facilitator"
    registry, _ = services.registry_load(Study.objects.get(pk=study.pk))
    assert registry.lookup("Cobblestone") == ("organisation", "[Organisation 1]")


def test_later_transcript_gets_the_same_pseudonyms(client):
    """Labels given in one import are given again in the next, for names and contact details."""
    study, lead = make_study()
    register_all(study, lead)
    client.force_login(lead)
    for title in ("Interview 1", "Interview 2"):
        page = client.post(import_url(study), {"title": title, "kind": "interview",
                                               "pasted": TRANSCRIPT})
        client.post(review_url(study), review_post(page))
    first, second = Source.objects.filter(study=study).order_by("pk")
    assert first.text == second.text


def test_confirm_after_registry_changed_asks_again(client):
    """If the registry changed during the review, confirming shows the review again."""
    study, lead = make_study()
    client.force_login(lead)
    page = client.post(import_url(study), {"title": "Interview 1", "kind": "interview",
                                           "pasted": "Interviewer: Hello Wenceslas."})
    services.registry_add(actor=lead, study=study, kind="person", names=["Wenceslas"])
    again = client.post(review_url(study), review_post(page))
    assert again.status_code == 400 and b"changed the study" in again.content
    assert not Source.objects.exists()
    client.post(review_url(study), review_post(again))
    assert Source.objects.get().text == "Interviewer: Hello [Person 1]."


# --- Bad input -------------------------------------------------------------------------------

BAD_FILES = [
    ("image.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "not a transcript|image"),
    ("transcript.docx", b"PK\x03\x04broken zip data here", "damaged|could not|zip"),
    ("transcript.pdf", b"%PDF-1.4\nthis is not really a pdf\n%%EOF", "damaged|could not"),
    ("latin1.txt", "Interviewer: caf\xe9 na\xefve".encode("latin-1"), "not utf-8"),
    ("nul.txt", b"Interviewer: hello\x00there", "not text"),
    ("empty.txt", b"", "empty"),
    ("notes.odt.docx", b"just text pretending", "says it is a word document"),
]


@pytest.mark.parametrize("name,data,message", BAD_FILES)
def test_import_refuses_bad_files_clearly(client, name, data, message):
    """Each bad file gets a clear message on the import page, with the title kept, and
    nothing stored."""
    study, lead = make_study()
    client.force_login(lead)
    page = client.post(import_url(study), {"title": "Interview 9", "kind": "interview",
                                           "file": SimpleUploadedFile(name, data)})
    assert page.status_code == 400
    html = page.content.decode().lower()
    assert re.search(message, html), html[html.find("errorlist"):][:600]
    assert 'value="interview 9"' in html
    assert not Source.objects.exists()


def test_import_refuses_oversize_file(client, monkeypatch):
    """A file over the limit is refused with its size, never read or written."""
    monkeypatch.setattr(importing, "MAX_FILE_BYTES", 1000)
    study, lead = make_study()
    client.force_login(lead)
    page = client.post(import_url(study), {"title": "Interview 9", "kind": "interview",
                                           "file": SimpleUploadedFile("big.txt", b"a " * 2000)})
    assert page.status_code == 400 and b"larger than" in page.content
    assert not Source.objects.exists()


@pytest.mark.parametrize("pasted,message", [
    ("   \n  ", b"no text to import"),
    ("Interviewer: hello\x00", b"Null characters are not allowed"),
    ("", b"Paste the transcript or choose a file"),
])
def test_import_refuses_empty_and_nul_pastes(client, pasted, message):
    """Empty text and text with NUL characters are refused with a clear message."""
    study, lead = make_study()
    client.force_login(lead)
    page = client.post(import_url(study), {"title": "Interview 9", "kind": "interview",
                                           "pasted": pasted})
    assert page.status_code == 400 and message in page.content
    assert not Source.objects.exists()


def test_import_refuses_title_with_a_registered_name(client):
    """A title naming a registered person is refused; the pasted text is kept on the page."""
    study, lead = make_study()
    register_all(study, lead)
    client.force_login(lead)
    page = client.post(import_url(study), {"title": "Interview with Amina", "kind": "interview",
                                           "pasted": "Interviewer: hello there"})
    assert page.status_code == 400 and b"neutral title" in page.content
    assert b"hello there" in page.content


def test_review_with_tampered_or_empty_text_stores_nothing(client):
    """A review posted without its text sends the researcher back to start, storing nothing."""
    study, lead = make_study()
    client.force_login(lead)
    response = client.post(review_url(study), {"original": "", "title": "X", "action": "confirm",
                                               "kind": "interview"})
    assert response.status_code == 302 and response["Location"] == import_url(study)
    assert not Source.objects.exists()


def test_archived_study_takes_no_import(client):
    """An archived study answers its import pages as missing."""
    study, lead = make_study()
    services.study_archive(actor=lead, study=study)
    client.force_login(lead)
    assert client.get(import_url(study)).status_code == 404
    assert client.post(review_url(study), {"original": "x"}).status_code == 404


def test_speaker_turns_and_chunks():
    """Turns run from one label to the next; chunks cut at line ends and cover the text."""
    text = "Intro line\nInterviewer: one\ntwo\n[P07]: three\n\n[Participant 2]: four"
    turns = importing.speaker_turns(text)
    assert [(t.speaker, text[t.start:t.end]) for t in turns] == [
        ("Interviewer", "Interviewer: one\ntwo"), ("[P07]", "[P07]: three"),
        ("[Participant 2]", "[Participant 2]: four")]
    long = "\n".join(f"P{n}: words words words" for n in range(3000))
    pieces = list(importing.chunks(long, 5000))
    assert "".join(p for _, p in pieces) == long
    assert all(p.endswith("\n") for _, p in pieces[:-1])


def test_import_refuses_text_over_the_length_limit(client, monkeypatch):
    """A transcript longer than the limit is refused with its length and the limit."""
    monkeypatch.setattr(importing, "MAX_CHARS", 100)
    study, lead = make_study()
    client.force_login(lead)
    page = client.post(import_url(study), {"title": "Interview 9", "kind": "interview",
                                           "pasted": "Interviewer: " + "word " * 50})
    assert page.status_code == 400 and b"the limit is 100" in page.content
    assert not Source.objects.exists()
