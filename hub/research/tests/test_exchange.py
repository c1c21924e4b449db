"""REFI-QDA exchange: exports that follow the standard, a lossless round trip, a project
written by hand in the standard's form, and imports refused or pseudonymised."""

import io
import zipfile
from datetime import date
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from hub.members.tests.factories import UserFactory
from hub.research import exchange
from hub.research.models import (
    Code,
    Coding,
    Memo,
    Participant,
    Source,
    SpeakerTurn,
    Study,
    StudyMember,
)

pytestmark = pytest.mark.django_db
DATA = Path(__file__).parent / "data"
TEXT = ("[Interviewer]: How do you find the patrols?\n"
        "[P01]: Better since the summer. We know the officers by name now.\n"
        "[P02]: I still don't trust them after what happened at [Place 1].\n")


@pytest.fixture
def study():
    lead, coder = UserFactory(), UserFactory()
    study = Study.objects.create(title="Trust after the summer", slug="trust-summer",
                                 description="How trust changed.", created_by=lead)
    StudyMember.objects.create(study=study, user=lead, role="lead")
    StudyMember.objects.create(study=study, user=coder, role="coder")
    p1 = Participant.objects.create(study=study, code="P01", group="police", location="Leeds",
                                    attributes={"Age band": "30-39", "Years in post": "6"},
                                    consent_date=date(2026, 5, 1), consent_quotation=True)
    p2 = Participant.objects.create(study=study, code="P02", group="young_person",
                                    attributes={"Age band": "16-18"}, consent_archiving=True)
    source = Source.objects.create(study=study, title="Patrols interview", kind="focus_group",
                                   text=TEXT, word_count=30, created_by=lead)
    for label, participant in (("[Interviewer]", None), ("[P01]", p1), ("[P02]", p2)):
        start = TEXT.index(label)
        end = TEXT.index("\n", start)
        SpeakerTurn.objects.create(source=source, start=start, end=end, speaker=label,
                                   participant=participant)
    trust = Code.objects.create(study=study, name="Trust", description="Belief in good faith",
                                colour="#336699")
    lost = Code.objects.create(study=study, parent=trust, name="Lost trust", colour="#cc3333",
                               position=1)
    contact = Code.objects.create(study=study, name="Contact", position=2)
    a = TEXT.index("Better")
    first = Coding.objects.create(source=source, code=trust, start=a, end=a + 22, coder=lead)
    Coding.objects.create(source=source, code=contact, start=a + 24, end=a + 60, coder=coder)
    b = TEXT.index("I still")
    Coding.objects.create(source=source, code=lost, start=b, end=b + 28, coder=coder)
    Memo.objects.create(study=study, author=lead, title="Overall", text="Trust is local.")
    Memo.objects.create(study=study, code=trust, author=lead, text="Split by group?")
    Memo.objects.create(study=study, coding=first, author=lead, text="Summer = new team.")
    Memo.objects.create(study=study, source=source, author=coder, text="Noisy recording.")
    study.lead, study.coder = lead, coder
    return study


def _snapshot(study):
    def code_path(code):
        return code.name if code.parent is None else f"{code_path(code.parent)}/{code.name}"

    return {
        "title": study.title, "description": study.description,
        "codes": sorted((code_path(c), c.description, c.colour) for c in study.codes.all()),
        "participants": sorted(
            (p.code, p.group, p.location, tuple(sorted(p.attributes.items())), p.consent_date,
             p.consent_quotation, p.consent_archiving, p.consent_sharing)
            for p in study.participants.all()),
        "sources": sorted((s.title, s.kind, s.text) for s in study.sources.all()),
        "turns": sorted((t.source.title, t.start, t.end, t.speaker,
                         t.participant.code if t.participant else None)
                        for t in SpeakerTurn.objects.filter(source__study=study)),
        "codings": sorted((c.source.title, code_path(c.code), c.start, c.end, c.coder_id)
                          for c in Coding.objects.filter(source__study=study)),
        "memos": sorted((m.title, m.text, bool(m.code_id), bool(m.coding_id), bool(m.source_id),
                         m.author_id) for m in study.memos.all()),
    }


def test_export_follows_the_standard(study):
    archive = zipfile.ZipFile(io.BytesIO(exchange.export_project(study, study.lead)))
    qde = archive.read("project.qde")
    exchange.project_schema().validate(io.BytesIO(qde))
    assert b'xmlns="urn:QDA-XML:project:1.0"' in qde
    texts = [name for name in archive.namelist() if name.startswith("Sources/")]
    assert [archive.read(name).decode() for name in texts] == [TEXT]
    exchange.codebook_schema().validate(io.BytesIO(exchange.export_codebook(study)))


def test_round_trip_gives_an_identical_study(study):
    data = exchange.export_project(study, study.lead)
    report = exchange.import_project(actor=study.lead, data=data, guesses=False)
    copy = report.study
    assert copy.pk != study.pk
    assert report.replacements == 0 and report.dropped_codings == 0
    assert _snapshot(copy) == _snapshot(study)
    assert StudyMember.objects.get(study=copy, user=study.lead).role == "lead"
    assert StudyMember.objects.get(study=copy, user=study.coder).role == "coder"
    # And once more: the copy exports to the same project.
    again = exchange.import_project(actor=study.lead, guesses=False,
                                    data=exchange.export_project(copy, study.lead)).study
    assert _snapshot(again) == _snapshot(study)


def test_blind_export_holds_only_ones_own_codings(study):
    Study.objects.filter(pk=study.pk).update(blind=True)
    study.refresh_from_db()
    copy = exchange.import_project(actor=study.lead, guesses=False,
                                   data=exchange.export_project(study, study.lead)).study
    assert set(Coding.objects.filter(source__study=copy).values_list("coder_id", flat=True)) \
        == {study.lead.pk}


def _handmade(**replace) -> bytes:
    qde = (DATA / "handmade.qde").read_bytes()
    for old, new in replace.items():
        qde = qde.replace(old.encode(), new.encode())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("project.qde", qde)
        archive.writestr("Sources/dddddddd-0000-0000-0000-000000000001.txt",
                         (DATA / "handmade-source.txt").read_bytes())
    return buffer.getvalue()


def test_a_project_written_by_hand_imports_with_names_replaced():
    importer, bea = UserFactory(), UserFactory(email="bea@example.org")
    report = exchange.import_project(actor=importer, data=_handmade(),
                                     coders={"Bea": "bea@example.org"})
    study = report.study
    assert report.codes == 3 and report.codings == 3 and report.participants == 1
    trust = Code.objects.get(study=study, name="Trust")
    assert (trust.colour, trust.description) == ("#336699", "Whether people believe the "
                                                             "police act in good faith.")
    assert Code.objects.get(study=study, name="Broken promises").parent == trust
    assert Code.objects.get(study=study, name="Broken promises").colour == "#cc3333"
    participant = Participant.objects.get(study=study)
    assert (participant.code, participant.group) == ("Y1", "young_person")
    assert participant.attributes == {"Age band": "16-18"} and participant.consent_quotation
    source = Source.objects.get(study=study)
    assert "Siobhan" not in source.text and "Okafor" not in source.text
    assert "[Person 1]" in source.text
    codings = {c.code.name: c for c in Coding.objects.filter(source=source)}
    assert source.text[codings["Trust"].start:codings["Trust"].end] == (
        "They said they would come back every week and never did.")
    moved = codings["Partnership"]
    assert source.text[moved.start:moved.end] == (
        "Then [Person 1] from the youth club set up the football.")
    # Ada has no account here, so her coding is the importer's; Bea was named by email.
    assert codings["Broken promises"].coder == importer
    assert codings["Trust"].coder == bea
    assert StudyMember.objects.get(study=study, user=bea).role == "coder"
    memo = Memo.objects.get(study=study)
    assert memo.coding == codings["Broken promises"]
    assert SpeakerTurn.objects.get(source=source).participant == participant


def test_no_original_name_survives_anywhere_in_the_database():
    exchange.import_project(actor=UserFactory(), data=_handmade())
    rows = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - names from the schema
            rows += [repr(row) for row in cursor.fetchall()]
    stored = "\n".join(rows)
    assert "Youth voices pilot" in stored  # the search does see imported rows
    assert "Siobhan" not in stored and "Okafor" not in stored


@pytest.mark.parametrize(("data", "message"), [
    (b"plain text", "not a ZIP archive"),
    (None, "no project.qde"),
])
def test_what_is_not_a_project_is_refused(data, message):
    if data is None:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("notes.txt", "hello")
        data = buffer.getvalue()
    with pytest.raises(ValidationError, match=message):
        exchange.import_project(actor=UserFactory(), data=data)
    assert not Study.objects.exists()


def test_a_project_breaking_the_schema_is_refused_and_nothing_is_made():
    broken = _handmade(**{'isCodable="true" color="#c33"': 'color="#c33"'})
    with pytest.raises(ValidationError, match="does not follow the REFI-QDA standard"):
        exchange.import_project(actor=UserFactory(), data=broken)
    assert not Study.objects.exists()


def test_a_project_too_long_to_pseudonymise_at_once_is_refused(monkeypatch):
    monkeypatch.setattr(exchange, "MAX_TEXT_CHARS", 100)
    with pytest.raises(ValidationError, match="Export it from the other tool in parts"):
        exchange.import_project(actor=UserFactory(), data=_handmade())
    assert not Study.objects.exists()


def test_entities_are_refused():
    bomb = _handmade(**{'<?xml version="1.0" encoding="utf-8"?>':
                        '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaa">]>'})
    with pytest.raises(ValidationError, match="not well-formed XML, or uses features"):
        exchange.import_project(actor=UserFactory(), data=bomb)


def test_codebook_import_adds_codes_once(study):
    data = exchange.export_codebook(study)
    other = Study.objects.create(title="Other", slug="other")
    StudyMember.objects.create(study=other, user=study.lead, role="lead")
    assert exchange.import_codebook(actor=study.lead, study=other, data=data) == 3
    assert exchange.import_codebook(actor=study.lead, study=other, data=data) == 0
    assert Code.objects.get(study=other, name="Lost trust").parent.name == "Trust"
    with pytest.raises(ValidationError):
        exchange.import_codebook(actor=study.coder, study=study, data=data)
