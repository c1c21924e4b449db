"""Citations (BibTeX, RIS), the Dublin Core mapping and the Atom feed of new public items."""

import re
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from hub.library import metadata
from hub.library.models import Grant, Resource, Theme, Tier
from hub.library.tests.factories import ResourceFactory, add_text_file
from hub.members.tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    UserFactory,
    enrol_mfa,
)

pytestmark = pytest.mark.django_db

BASE = "http://testserver/"
ATOM = "{http://www.w3.org/2005/Atom}"
KNOWN_UUID = uuid.UUID("1a2b3c4d-0000-4000-8000-000000000000")


def theme(name: str) -> Theme:
    return Theme.objects.get_or_create(slug=f"test-{name.lower()}", defaults={"name": name})[0]


@pytest.fixture
def known():
    """A report whose every field is set, with characters BibTeX and RIS care about."""
    resource = ResourceFactory(
        uuid=KNOWN_UUID, title="Working together: 50% of forums & 'Zoë'",
        abstract="First paragraph.\n\nSecond paragraph.", authors="Zoë Ångström\nB. Writer",
        year=2023, type=Resource.Type.REPORT, language="en", country="GB",
        organisation=OrganisationFactory(name="Alpha Forum"),
        licence=Resource.Licence.CC_BY)
    resource.themes.set([theme("Trust"), theme("Youth work")])
    return resource


def test_bibtex_exact_output_for_a_report(known):
    """A report is a @techreport with its institution, keywords and absolute address."""
    assert metadata.bibtex([known], base_url=BASE) == (
        "@techreport{Angstrom2023-1a2b3c,\n"
        "  author = {Zoë Ångström and B. Writer},\n"
        "  title = {{Working together: 50\\% of forums \\& 'Zoë'}},\n"
        "  year = {2023},\n"
        "  institution = {Alpha Forum},\n"
        f"  url = {{http://testserver/library/{known.pk}/}},\n"
        "  abstract = {First paragraph. Second paragraph.},\n"
        "  keywords = {Trust, Youth work},\n"
        "  language = {English}\n"
        "}\n")


def test_bibtex_escapes_every_latex_special_character():
    """Braces, %, &, $, #, _, ~, ^ and backslash are escaped; other text stays UTF-8."""
    resource = ResourceFactory(title=r"a{b}c%d&e$f#g_h~i^j\k – ünïcode",
                               publisher="P&Q {Press}")
    text = metadata.bibtex([resource], base_url=BASE)
    assert ("title = {{a\\{b\\}c\\%d\\&e\\$f\\#g\\_h\\textasciitilde{}i"
            "\\textasciicircum{}j\\textbackslash{}k – ünïcode}}") in text
    assert "institution = {P\\&Q \\{Press\\}}" in text
    # Every brace left unescaped is balanced, so no field can end early.
    unescaped = re.sub(r"\\[{}]", "", text)
    depth = 0
    for char in unescaped:
        depth += {"{": 1, "}": -1}.get(char, 0)
        assert depth >= 0
    assert depth == 0


def test_bibtex_key_is_ascii_and_falls_back():
    """The key uses the folded surname, or anon and nd when author or year is missing."""
    folded = ResourceFactory(authors="García-López, María", year=2021)
    nobody = ResourceFactory(authors="", year=None)
    assert metadata.bibtex_key(folded) == f"GarciaLopez2021-{folded.uuid.hex[:6]}"
    assert metadata.bibtex_key(nobody) == f"anonnd-{nobody.uuid.hex[:6]}"
    assert metadata.bibtex_key(folded) == metadata.bibtex_key(
        Resource.objects.get(pk=folded.pk))


def test_bibtex_entry_types_follow_the_resource_type():
    """Reports are technical reports; papers (no journal is kept) and the rest are @misc."""
    report = ResourceFactory(type=Resource.Type.REPORT)
    paper = ResourceFactory(type=Resource.Type.PAPER, publisher="Journal Press")
    video = ResourceFactory(type=Resource.Type.VIDEO)
    assert metadata.bibtex_entry(report, base_url=BASE).startswith("@techreport{")
    assert metadata.bibtex_entry(paper, base_url=BASE).startswith("@misc{")
    assert "  publisher = {Journal Press},\n" in metadata.bibtex_entry(paper, base_url=BASE)
    assert metadata.bibtex_entry(video, base_url=BASE).startswith("@misc{")


def test_bibtex_keeps_an_author_containing_and_whole():
    """A corporate author with "and" in its name is braced so BibTeX does not split it."""
    resource = ResourceFactory(authors="Department for Health and Social Care\nA. Person")
    assert ("author = {{Department for Health and Social Care} and A. Person}"
            in metadata.bibtex([resource], base_url=BASE))


def test_ris_exact_output_for_a_report(known):
    """RIS has one tag a line, an AU per author and a KW per theme, with CRLF endings."""
    assert metadata.ris([known], base_url=BASE) == (
        "TY  - RPRT\r\n"
        "AU  - Zoë Ångström\r\n"
        "AU  - B. Writer\r\n"
        "PY  - 2023\r\n"
        "T1  - Working together: 50% of forums & 'Zoë'\r\n"
        "AB  - First paragraph. Second paragraph.\r\n"
        "PB  - Alpha Forum\r\n"
        "LA  - en\r\n"
        "KW  - Trust\r\n"
        "KW  - Youth work\r\n"
        f"UR  - http://testserver/library/{known.pk}/\r\n"
        "ER  - \r\n")


def test_ris_values_cannot_start_a_new_tag():
    """Line breaks of every kind inside a value become spaces: the title stays one line."""
    resource = ResourceFactory(title="Evil\r\nTY  - JOUR", abstract="a\nER  - \u2028b\x0bc\x85d",
                               authors="X\rER  - ")
    text = metadata.ris([resource], base_url=BASE)
    lines = text.split("\r\n")
    assert lines[-1] == ""
    for line in lines[:-1]:
        assert re.fullmatch(r"[A-Z][A-Z0-9]  - .*", line), line
        assert line.splitlines() == [line]
    assert [line for line in lines if line.startswith("TY")] == ["TY  - RPRT"]
    assert [line for line in lines if line.startswith("ER")] == ["ER  - "]
    assert "T1  - Evil TY - JOUR" in lines
    assert "\n" not in text.replace("\r\n", "")


@pytest.mark.parametrize("kind, ris_type", [
    (Resource.Type.REPORT, "RPRT"), (Resource.Type.PAPER, "JOUR"),
    (Resource.Type.VIDEO, "VIDEO"), (Resource.Type.AUDIO, "SOUND"),
    (Resource.Type.DATASET, "DATA"), (Resource.Type.LINK, "ELEC"),
    (Resource.Type.TOOLKIT, "GEN"), (Resource.Type.GUIDE, "GEN"),
])
def test_ris_type_follows_the_resource_type(kind, ris_type):
    """Each resource type has its RIS reference type, GEN where RIS has none closer."""
    resource = ResourceFactory(type=kind)
    assert metadata.ris([resource], base_url=BASE).startswith(f"TY  - {ris_type}\r\n")


def test_dublin_core_maps_every_element(known):
    """The mapping gives each DC element, file formats only while the files are public."""
    add_text_file(known)
    add_text_file(known, name="b.txt", mime="application/pdf", kind="pdf")
    assert metadata.dublin_core(known, base_url=BASE) == [
        ("title", known.title),
        ("creator", "Zoë Ångström"), ("creator", "B. Writer"),
        ("subject", "Trust"), ("subject", "Youth work"),
        ("description", known.abstract),
        ("publisher", "Alpha Forum"),
        ("date", "2023"),
        ("type", "Report"),
        ("format", "application/pdf"), ("format", "text/plain"),
        ("identifier", f"http://testserver/library/{known.pk}/"),
        ("language", "en"),
        ("rights", "Creative Commons Attribution 4.0"),
        ("coverage", "United Kingdom"),
    ]
    known.file_tier = Tier.MEMBERS
    assert "format" not in dict(metadata.dublin_core(known, base_url=BASE))


def test_xml_text_removes_only_characters_xml_forbids():
    """Control characters go; tab, newline, carriage return and other text stay."""
    assert metadata.xml_text("a\x00b\x0bc\x1fd\te\nf\rg\ufffeh é") == "abcd\te\nf\rgh é"


# --- The citation views ---------------------------------------------------------------------

def test_cite_serves_bibtex_as_an_attachment(client, known):
    """fmt bib gives the BibTeX entry as a download named after the title."""
    response = client.get(reverse("library:cite", args=[known.pk, "bib"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-bibtex; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="working-together-50-of-forums-zoe.bib"')
    assert response.content.decode() == metadata.bibtex([known], base_url=BASE)


def test_cite_serves_ris_as_an_attachment(client, known):
    """fmt ris gives the RIS record as a download."""
    response = client.get(reverse("library:cite", args=[known.pk, "ris"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-research-info-systems; charset=utf-8"
    assert response["Content-Disposition"].endswith('.ris"')
    assert response.content.decode().startswith("TY  - RPRT\r\n")


def test_cite_unknown_format_is_not_found(client, known):
    """Only bib and ris exist."""
    for fmt in ("txt", "json", "BIB", "bibx"):
        assert client.get(reverse("library:cite", args=[known.pk, fmt])).status_code == 404


def normalised_404(response, pk) -> str:
    body = response.content.decode()
    for path in (f"/library/{pk}/", f"%2Flibrary%2F{pk}%2F"):
        body = body.replace(path, "PATH")
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", body)


@pytest.mark.parametrize("who", ["visitor", "member"])
def test_cite_hidden_resource_looks_missing(client, who):
    """A resource the reader may not see answers exactly as one that does not exist."""
    if who == "member":
        client.force_login(UserFactory())
    hidden = [ResourceFactory(metadata_tier=Tier.RESTRICTED),
              ResourceFactory(status=Resource.Status.DRAFT)]
    if who == "visitor":
        hidden.append(ResourceFactory(metadata_tier=Tier.MEMBERS))
    missing_pk = Resource.objects.order_by("-pk").first().pk + 1000
    missing = client.get(reverse("library:cite", args=[missing_pk, "bib"]))
    assert missing.status_code == 404
    for resource in hidden:
        response = client.get(reverse("library:cite", args=[resource.pk, "bib"]))
        assert response.status_code == 404
        assert normalised_404(response, resource.pk) == normalised_404(missing, missing_pk)


def test_cite_for_a_signed_in_reader_is_private(client, known):
    """Responses made for a signed-in person are kept out of shared caches."""
    client.force_login(UserFactory())
    response = client.get(reverse("library:cite", args=[known.pk, "ris"]))
    assert response["Cache-Control"] == "private, no-store"


# --- Export of a result list ----------------------------------------------------------------

def export(client, fmt="ris", **params):
    response = client.get(reverse("library:export", args=[fmt]), params)
    assert response.status_code == 200
    return response


def exported_titles(response) -> list[str]:
    return re.findall(r"^T1  - (.*)\r$", response.content.decode(), re.MULTILINE)


def test_export_honours_the_search_filters_and_order(client):
    """The export holds the same list the search page shows, in its order."""
    ResourceFactory(title="Beta paper", type=Resource.Type.PAPER)
    ResourceFactory(title="Alpha paper", type=Resource.Type.PAPER)
    ResourceFactory(title="A video", type=Resource.Type.VIDEO)
    response = export(client, type="paper", sort="title")
    assert exported_titles(response) == ["Alpha paper", "Beta paper"]
    assert response["Content-Disposition"] == 'attachment; filename="library.ris"'
    bib = export(client, "bib", q="video").content.decode()
    assert bib.count("@misc{") == 1 and "{{A video}}" in bib


def test_export_only_holds_what_the_reader_may_see(client):
    """Members-tier items go to members only; restricted metadata only with a grant."""
    ResourceFactory(title="Open")
    ResourceFactory(title="For members", metadata_tier=Tier.MEMBERS)
    secret = ResourceFactory(title="Restricted", metadata_tier=Tier.RESTRICTED)
    ResourceFactory(title="Draft", status=Resource.Status.DRAFT)
    member = UserFactory()
    partner = MembershipFactory(organisation=OrganisationFactory(is_partner=True)).user
    grantee = UserFactory()
    Grant.objects.create(resource=secret, user=grantee)

    assert sorted(exported_titles(export(client))) == ["Open"]
    for reader in (member, partner):
        client.force_login(reader)
        assert sorted(exported_titles(export(client))) == ["For members", "Open"]
    client.force_login(grantee)
    response = export(client)
    assert sorted(exported_titles(response)) == ["For members", "Open", "Restricted"]
    assert response["Cache-Control"] == "private, no-store"


def test_export_unknown_format_is_not_found(client):
    """Only bib and ris exist."""
    assert client.get(reverse("library:export", args=["csv"])).status_code == 404


# --- The feed -------------------------------------------------------------------------------

def feed_entries(client):
    response = client.get(reverse("library:feed"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    for name in ("title", "id", "updated"):
        assert root.find(f"{ATOM}{name}") is not None
    entries = root.findall(f"{ATOM}entry")
    for entry in entries:  # what RFC 4287 requires of each entry
        for name in ("id", "title", "updated"):
            assert entry.findtext(f"{ATOM}{name}"), name
        assert entry.find(f"{ATOM}author/{ATOM}name") is not None
        assert entry.find(f"{ATOM}link[@rel='alternate']") is not None
    return entries


def test_feed_is_atom_describing_public_items(client, known):
    """Each entry has the title, a link to the item, the abstract, the date, authors, themes."""
    [entry] = feed_entries(client)
    assert entry.findtext(f"{ATOM}title") == known.title
    assert entry.find(f"{ATOM}link").get("href").endswith(f"/library/{known.pk}/")
    assert entry.findtext(f"{ATOM}id") == f"urn:uuid:{KNOWN_UUID}"
    summary = entry.find(f"{ATOM}summary")
    assert summary.get("type") == "html"
    assert summary.text == "<p>First paragraph.</p>\n\n<p>Second paragraph.</p>"
    assert entry.findtext(f"{ATOM}author/{ATOM}name") == "Zoë Ångström, B. Writer"
    assert [c.get("term") for c in entry.findall(f"{ATOM}category")] == ["Trust", "Youth work"]
    published = datetime.fromisoformat(entry.findtext(f"{ATOM}published"))
    assert abs(published - known.published_at) < timedelta(seconds=1)


@pytest.mark.parametrize("who", ["visitor", "member", "staff"])
def test_feed_holds_public_published_items_only_whoever_asks(client, who):
    """Not members, partners or restricted metadata, not drafts, not even for staff."""
    ResourceFactory(title="Public")
    ResourceFactory(title="Public text, members files", file_tier=Tier.MEMBERS)
    for tier in (Tier.MEMBERS, Tier.PARTNERS, Tier.RESTRICTED):
        ResourceFactory(title=f"Tier {tier}", metadata_tier=tier)
    ResourceFactory(title="Draft", status=Resource.Status.DRAFT, published_at=None)
    ResourceFactory(title="Submitted", status=Resource.Status.SUBMITTED)
    if who == "staff":
        staff = UserFactory(is_staff=True)
        enrol_mfa(staff)
        client.force_login(staff)
    elif who == "member":
        client.force_login(MembershipFactory(
            organisation=OrganisationFactory(is_partner=True)).user)
    titles = sorted(entry.findtext(f"{ATOM}title") for entry in feed_entries(client))
    assert titles == ["Public", "Public text, members files"]


def test_feed_escapes_html_and_drops_control_characters(client):
    """An abstract is shown as text, never as markup; XML-illegal characters are dropped."""
    ResourceFactory(title="Bad\x0b <title> & co", abstract="<script>alert(1)</script>",
                    authors="Ann\x01 Other")
    [entry] = feed_entries(client)
    assert entry.findtext(f"{ATOM}title") == "Bad <title> & co"
    assert entry.findtext(f"{ATOM}summary") == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"
    assert entry.findtext(f"{ATOM}author/{ATOM}name") == "Ann Other"


def test_feed_keeps_the_newest_fifty(client):
    """Newest first, fifty at most."""
    now = timezone.now()
    for day in range(55):
        ResourceFactory(title=f"Day {day}", published_at=now - timedelta(days=day))
    titles = [entry.findtext(f"{ATOM}title") for entry in feed_entries(client)]
    assert titles == [f"Day {day}" for day in range(50)]


def test_export_and_feed_take_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    """Themes and organisations are fetched once for the whole list."""
    trust = theme("Trust")
    for resource in ResourceFactory.create_batch(20, organisation=OrganisationFactory()):
        resource.themes.set([trust])
    with django_assert_max_num_queries(6):  # three of them fill the search form's choices
        assert len(exported_titles(export(client))) == 20
    with django_assert_max_num_queries(3):
        assert len(feed_entries(client)) == 20
