"""The OAI-PMH 2.0 endpoint: every verb, paging, selective harvesting and every error."""

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hub.library.models import Resource, Theme, Tier
from hub.library.tests.factories import ResourceFactory, add_text_file
from hub.members.tests.factories import OrganisationFactory, UserFactory, enrol_mfa

pytestmark = pytest.mark.django_db

OAI_URI = "http://www.openarchives.org/OAI/2.0/"
OAI = f"{{{OAI_URI}}}"
OAI_DC = "{http://www.openarchives.org/OAI/2.0/oai_dc/}"
DC = "{http://purl.org/dc/elements/1.1/}"
XSI = "{http://www.w3.org/2001/XMLSchema-instance}"
HOST = "hub.example.org"

UTC_SECONDS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
VERBS = {"Identify", "ListMetadataFormats", "ListSets", "ListIdentifiers", "ListRecords",
         "GetRecord"}
ARGUMENTS = {"verb", "identifier", "metadataPrefix", "from", "until", "set", "resumptionToken"}
ERRORS = {"cannotDisseminateFormat", "idDoesNotExist", "badArgument", "badVerb",
          "noMetadataFormats", "noRecordsMatch", "badResumptionToken", "noSetHierarchy"}
DC_ELEMENTS = {"title", "creator", "subject", "description", "publisher", "contributor", "date",
               "type", "format", "identifier", "source", "language", "relation", "coverage",
               "rights"}


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = f"https://{HOST}:8443"
    settings.DEFAULT_FROM_EMAIL = "Hub library <library@hub.example.org>"


# --- A structural check of OAI-PMH.xsd and oai_dc.xsd, written out by hand ------------------

def names(element) -> list[str]:
    return [child.tag.removeprefix(OAI) for child in element]


def check_sequence(element, pattern: str) -> None:
    """The children's local names, space separated, match a regular expression."""
    assert re.fullmatch(pattern, " ".join(names(element))), (element.tag, names(element))


def check_header(header) -> None:
    check_sequence(header, r"identifier datestamp( setSpec)*")
    assert set(header.attrib) <= {"status"} and header.get("status", "deleted") == "deleted"
    assert header.findtext(f"{OAI}identifier").startswith(f"oai:{HOST}:library/")
    assert UTC_SECONDS.fullmatch(header.findtext(f"{OAI}datestamp"))


def check_oai_dc(dc) -> None:
    assert dc.tag == f"{OAI_DC}dc"
    assert dc.get(f"{XSI}schemaLocation") == (
        "http://www.openarchives.org/OAI/2.0/oai_dc/ "
        "http://www.openarchives.org/OAI/2.0/oai_dc.xsd")
    for element in dc:
        assert element.tag.startswith(DC) and element.tag.removeprefix(DC) in DC_ELEMENTS
        assert len(element) == 0 and element.text


def check_record(record) -> None:
    check_sequence(record, r"header( metadata)?( about)*")
    check_header(record.find(f"{OAI}header"))
    [dc] = record.find(f"{OAI}metadata")
    check_oai_dc(dc)


def check_token(token) -> None:
    assert set(token.attrib) <= {"expirationDate", "completeListSize", "cursor"}
    for name in ("completeListSize", "cursor"):
        assert re.fullmatch(r"\d+", token.get(name, "0"))
    assert UTC_SECONDS.fullmatch(token.get("expirationDate", "2000-01-01T00:00:00Z"))


def check_verb(body) -> None:
    verb = body.tag.removeprefix(OAI)
    if verb == "Identify":
        check_sequence(body, r"repositoryName baseURL protocolVersion( adminEmail)+ "
                             r"earliestDatestamp deletedRecord granularity"
                             r"( compression)*( description)*")
        assert body.findtext(f"{OAI}protocolVersion") == "2.0"
        for email in body.findall(f"{OAI}adminEmail"):
            assert re.fullmatch(r"\S+@(\S+\.)+\S+", email.text)
        assert body.findtext(f"{OAI}deletedRecord") in {"no", "transient", "persistent"}
        assert body.findtext(f"{OAI}granularity") in {"YYYY-MM-DD", "YYYY-MM-DDThh:mm:ssZ"}
        assert UTC_SECONDS.fullmatch(body.findtext(f"{OAI}earliestDatestamp"))
    elif verb == "ListMetadataFormats":
        check_sequence(body, r"metadataFormat( metadataFormat)*")
        for format_ in body:
            check_sequence(format_, r"metadataPrefix schema metadataNamespace")
    elif verb == "ListSets":
        check_sequence(body, r"set( set)*( resumptionToken)?")
    elif verb == "GetRecord":
        check_sequence(body, r"record")
        check_record(body[0])
    elif verb in ("ListRecords", "ListIdentifiers"):
        item = "record" if verb == "ListRecords" else "header"
        check_sequence(body, rf"{item}( {item})*( resumptionToken)?")
        for child in body.findall(f"{OAI}{item}"):
            (check_record if item == "record" else check_header)(child)
        if (token := body.find(f"{OAI}resumptionToken")) is not None:
            check_token(token)
    else:
        pytest.fail(f"Unknown verb element {verb}")


def check_response(root) -> None:
    assert root.tag == f"{OAI}OAI-PMH"
    assert root.get(f"{XSI}schemaLocation") == (
        f"{OAI_URI} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd")
    assert names(root)[:2] == ["responseDate", "request"]
    stamp = root.findtext(f"{OAI}responseDate")
    assert UTC_SECONDS.fullmatch(stamp)
    moment = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs(timezone.now() - moment) < timedelta(minutes=1)
    request = root.find(f"{OAI}request")
    assert set(request.attrib) <= ARGUMENTS
    assert request.get("verb", "Identify") in VERBS
    assert request.text == "http://testserver/library/oai"
    rest = root[2:]
    assert rest, "a response holds errors or the verb's element"
    if rest[0].tag == f"{OAI}error":
        assert all(e.tag == f"{OAI}error" and e.get("code") in ERRORS for e in rest)
        if {e.get("code") for e in rest} & {"badVerb", "badArgument"}:
            assert request.attrib == {}
    else:
        assert len(rest) == 1 and rest[0].tag == f"{OAI}{request.get('verb')}"
        check_verb(rest[0])


def harvest(client, method="get", **params):
    response = getattr(client, method)(reverse("library:oai"), params)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    root = ET.fromstring(response.content)
    check_response(root)
    return root


def error_of(root) -> str | None:
    error = root.find(f"{OAI}error")
    return None if error is None else error.get("code")


def identifier(resource) -> str:
    return f"oai:{HOST}:library/{resource.pk}"


def set_modified(resource, moment: datetime) -> None:
    # auto_now would overwrite a saved value; an update writes the datestamp as given.
    Resource.objects.filter(pk=resource.pk).update(modified=moment)


# --- Each verb ------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["get", "post"])
def test_identify_describes_the_repository(client, method):
    """Identify answers by GET and POST with the base URL, granularity and deletion policy."""
    first = ResourceFactory()
    set_modified(first, datetime(2020, 5, 1, 12, 30, 15, 500, tzinfo=UTC))
    ResourceFactory(metadata_tier=Tier.MEMBERS)
    set_modified(ResourceFactory(metadata_tier=Tier.MEMBERS),
                 datetime(2019, 1, 1, tzinfo=UTC))
    root = harvest(client, method, verb="Identify")
    assert root.find(f"{OAI}request").attrib == {"verb": "Identify"}
    body = root.find(f"{OAI}Identify")
    assert body.findtext(f"{OAI}baseURL") == "http://testserver/library/oai"
    assert body.findtext(f"{OAI}adminEmail") == "library@hub.example.org"
    assert body.findtext(f"{OAI}earliestDatestamp") == "2020-05-01T12:30:15Z"
    assert body.findtext(f"{OAI}deletedRecord") == "no"
    assert body.findtext(f"{OAI}granularity") == "YYYY-MM-DDThh:mm:ssZ"
    assert "Hub" in body.findtext(f"{OAI}repositoryName")


def test_list_metadata_formats_offers_oai_dc(client):
    """oai_dc for the repository and for one public item."""
    resource = ResourceFactory()
    for params in ({}, {"identifier": identifier(resource)}):
        root = harvest(client, verb="ListMetadataFormats", **params)
        assert root.find(f"{OAI}request").attrib == {"verb": "ListMetadataFormats", **params}
        [format_] = root.find(f"{OAI}ListMetadataFormats")
        assert format_.findtext(f"{OAI}metadataPrefix") == "oai_dc"
        assert format_.findtext(f"{OAI}schema") == (
            "http://www.openarchives.org/OAI/2.0/oai_dc.xsd")
        assert format_.findtext(f"{OAI}metadataNamespace") == (
            "http://www.openarchives.org/OAI/2.0/oai_dc/")


def test_list_sets_says_there_are_none(client):
    """The repository has no sets."""
    assert error_of(harvest(client, verb="ListSets")) == "noSetHierarchy"
    assert error_of(harvest(client, verb="ListSets", resumptionToken="x")) == (
        "badResumptionToken")


def test_get_record_gives_the_dublin_core(client):
    """Every mapped element, each author and theme, and file formats when files are public."""
    resource = ResourceFactory(
        title="Trust & <policing>", authors="Ann Smith\nBo Jones", year=2022,
        publisher="Forum Press", country="FR", language="fr", abstract="About trust.",
        licence=Resource.Licence.CC0)
    resource.themes.set([Theme.objects.get_or_create(slug="test-trust",
                                                     defaults={"name": "Trust"})[0]])
    add_text_file(resource, mime="application/pdf", kind="pdf")
    set_modified(resource, datetime(2024, 3, 4, 5, 6, 7, 890, tzinfo=UTC))
    root = harvest(client, verb="GetRecord", identifier=identifier(resource),
                   metadataPrefix="oai_dc")
    assert root.find(f"{OAI}request").attrib == {
        "verb": "GetRecord", "identifier": identifier(resource), "metadataPrefix": "oai_dc"}
    record = root.find(f"{OAI}GetRecord/{OAI}record")
    assert record.findtext(f"{OAI}header/{OAI}identifier") == identifier(resource)
    assert record.findtext(f"{OAI}header/{OAI}datestamp") == "2024-03-04T05:06:07Z"
    dc = record.find(f"{OAI}metadata/{OAI_DC}dc")
    assert [(e.tag.removeprefix(DC), e.text) for e in dc] == [
        ("title", "Trust & <policing>"), ("creator", "Ann Smith"), ("creator", "Bo Jones"),
        ("subject", "Trust"), ("description", "About trust."), ("publisher", "Forum Press"),
        ("date", "2022"), ("type", "Report"), ("format", "application/pdf"),
        ("identifier", f"http://testserver/library/{resource.pk}/"), ("language", "fr"),
        ("rights", "Public domain (CC0 1.0)"), ("coverage", "France")]


def test_file_formats_are_left_out_when_files_are_not_public(client):
    """A public description of members-only files does not name their formats."""
    resource = ResourceFactory(file_tier=Tier.MEMBERS)
    add_text_file(resource)
    root = harvest(client, verb="GetRecord", identifier=identifier(resource),
                   metadataPrefix="oai_dc")
    assert root.find(f".//{DC}format") is None
    assert root.find(f".//{DC}title") is not None


def test_list_identifiers_and_records_hold_public_items_only(client):
    """Members, partners and restricted descriptions and unpublished items are left out."""
    public = [ResourceFactory(), ResourceFactory(file_tier=Tier.RESTRICTED)]
    for tier in (Tier.MEMBERS, Tier.PARTNERS, Tier.RESTRICTED):
        ResourceFactory(metadata_tier=tier)
    ResourceFactory(status=Resource.Status.DRAFT)
    ResourceFactory(status=Resource.Status.SUBMITTED)
    staff = UserFactory(is_staff=True)
    enrol_mfa(staff)
    client.force_login(staff)  # the answer is the same for anyone
    expected = sorted(identifier(r) for r in public)
    root = harvest(client, verb="ListIdentifiers", metadataPrefix="oai_dc")
    headers = root.findall(f"{OAI}ListIdentifiers/{OAI}header")
    assert sorted(h.findtext(f"{OAI}identifier") for h in headers) == expected
    assert root.find(f".//{OAI}resumptionToken") is None
    root = harvest(client, "post", verb="ListRecords", metadataPrefix="oai_dc")
    records = root.findall(f"{OAI}ListRecords/{OAI}record")
    assert sorted(r.findtext(f"{OAI}header/{OAI}identifier") for r in records) == expected


# --- Paging ---------------------------------------------------------------------------------

@pytest.fixture
def many():
    organisation, contributor = OrganisationFactory(), UserFactory()
    resources = ResourceFactory.create_batch(250, organisation=organisation,
                                             contributor=contributor)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for number, resource in enumerate(resources):
        set_modified(resource, start + timedelta(minutes=number))
    return resources


@pytest.mark.parametrize("verb", ["ListRecords", "ListIdentifiers"])
def test_lists_page_with_resumption_tokens(client, many, verb):
    """250 items come in pages of 100, 100 and 50, the last with an empty token."""
    seen, cursors, params = [], [], {"metadataPrefix": "oai_dc"}
    for _ in range(3):
        root = harvest(client, verb=verb, **params)
        body = root.find(f"{OAI}{verb}")
        seen += [e.text for e in body.iter(f"{OAI}identifier")]
        token = body.find(f"{OAI}resumptionToken")
        assert token.get("completeListSize") == "250"
        cursors.append(token.get("cursor"))
        params = {"resumptionToken": token.text}
    assert cursors == ["0", "100", "200"]
    assert token.text is None and "expirationDate" not in token.attrib
    assert seen == [identifier(r) for r in many]
    assert root.find(f"{OAI}request").attrib["resumptionToken"]


def test_a_record_changed_during_a_harvest_is_not_skipped(client, many):
    """Paging follows datestamps, so an update moves a record to the end, never off the list."""
    root = harvest(client, verb="ListIdentifiers", metadataPrefix="oai_dc")
    token = root.find(f".//{OAI}resumptionToken").text
    set_modified(many[10], datetime(2025, 1, 1, tzinfo=UTC))
    seen = []
    while token:
        root = harvest(client, verb="ListIdentifiers", resumptionToken=token)
        seen += [e.text for e in root.iter(f"{OAI}identifier")]
        token = root.find(f".//{OAI}resumptionToken").text
    assert seen == [identifier(r) for r in many[100:]] + [identifier(many[10])]


def test_bad_resumption_tokens_are_refused(client, many):
    """A tampered, expired, foreign or other verb's token is a badResumptionToken."""
    root = harvest(client, verb="ListRecords", metadataPrefix="oai_dc")
    token = root.find(f".//{OAI}resumptionToken").text
    middle = len(token) // 2
    tampered = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1:]
    for bad in (tampered, token + "x", "junk", token.split(":")[0]):
        root = harvest(client, verb="ListRecords", resumptionToken=bad)
        assert error_of(root) == "badResumptionToken"
        assert root.find(f"{OAI}request").attrib == {"verb": "ListRecords",
                                                     "resumptionToken": bad}
    other_verb = harvest(client, verb="ListIdentifiers", resumptionToken=token)
    assert error_of(other_verb) == "badResumptionToken"
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        assert error_of(harvest(client, verb="ListRecords", resumptionToken=token)) == (
            "badResumptionToken")
    assert error_of(harvest(client, verb="ListRecords", resumptionToken=token)) is None
    assert error_of(harvest(client, verb="ListRecords", resumptionToken=token,
                            metadataPrefix="oai_dc")) == "badArgument"


# --- Selective harvesting -------------------------------------------------------------------

@pytest.fixture
def dated():
    moments = {
        "a": datetime(2024, 1, 31, 23, 59, 59, 900000, tzinfo=UTC),
        "b": datetime(2024, 2, 1, 0, 0, 0, tzinfo=UTC),
        "c": datetime(2024, 2, 1, 12, 0, 0, 500000, tzinfo=UTC),
        "d": datetime(2024, 2, 2, 0, 0, 1, tzinfo=UTC),
    }
    resources = {}
    for name, moment in moments.items():
        resources[name] = ResourceFactory(title=name)
        set_modified(resources[name], moment)
    return resources


@pytest.mark.parametrize("params, expected", [
    ({"from": "2024-02-01"}, "bcd"),
    ({"until": "2024-02-01"}, "abc"),
    ({"from": "2024-02-01", "until": "2024-02-01"}, "bc"),
    ({"from": "2024-02-01T00:00:00Z"}, "bcd"),
    ({"until": "2024-01-31T23:59:59Z"}, "a"),
    ({"from": "2024-02-01T12:00:00Z", "until": "2024-02-01T12:00:00Z"}, "c"),
    ({"from": "2024-02-01T12:00:01Z", "until": "2024-02-02T00:00:01Z"}, "d"),
    ({"from": "1999-01-01", "until": "9999-12-31"}, "abcd"),
])
def test_from_and_until_select_by_datestamp_inclusively(client, dated, params, expected):
    """Both bounds are inclusive at the granularity they are given in."""
    root = harvest(client, verb="ListRecords", metadataPrefix="oai_dc", **params)
    titles = [e.text for e in root.iter(f"{DC}title")]
    assert "".join(sorted(titles)) == expected
    assert root.find(f"{OAI}request").attrib == {
        "verb": "ListRecords", "metadataPrefix": "oai_dc", **params}


def test_paging_keeps_the_date_range(client, many):
    """The resumption token carries from and until to the following pages."""
    params = {"metadataPrefix": "oai_dc", "from": "2024-01-01T00:50:00Z",
              "until": "2024-01-01T03:59:00Z"}  # items 50 to 239
    seen, sizes = [], set()
    while params:
        root = harvest(client, verb="ListIdentifiers", **params)
        seen += [e.text for e in root.iter(f"{OAI}identifier")]
        token = root.find(f".//{OAI}resumptionToken")
        sizes.add(token.get("completeListSize"))
        params = {"resumptionToken": token.text} if token.text else None
    assert seen == [identifier(r) for r in many[50:240]]
    assert sizes == {"190"}


@pytest.mark.parametrize("params", [
    {"from": "2024-13-01"}, {"from": "2024-1-1"}, {"until": "2024-02-30"},
    {"from": "2024-01-01T00:00:00"}, {"from": "2024-01-01T00:00Z"},
    {"from": "2024-01-01T00:00:00.5Z"}, {"from": "2024-01-01T00:00:00+01:00"},
    {"from": "2024-01-01", "until": "2024-02-01T00:00:00Z"},
    {"from": "2024-02-02", "until": "2024-02-01"},
    {"from": "2024-02-01T00:00:01Z", "until": "2024-02-01T00:00:00Z"},
    {"from": "٢٠٢٤-٠١-٠١"},
])
def test_malformed_or_inconsistent_dates_are_bad_arguments(client, dated, params):
    """Dates in another form, mixed granularities or from after until are refused."""
    root = harvest(client, verb="ListIdentifiers", metadataPrefix="oai_dc", **params)
    assert error_of(root) == "badArgument"


# --- Errors ---------------------------------------------------------------------------------

@pytest.mark.parametrize("params", [
    {}, {"verb": "Explain"}, {"verb": "identify"}, {"verb": ["Identify", "Identify"]},
    {"verb": ""}, {"metadataPrefix": "oai_dc"},
])
def test_bad_verbs(client, params):
    """A missing, unknown, repeated or empty verb is badVerb, echoed as the base URL only."""
    root = harvest(client, **params)
    assert error_of(root) == "badVerb"
    assert root.find(f"{OAI}request").attrib == {}


@pytest.mark.parametrize("params", [
    {"verb": "Identify", "metadataPrefix": "oai_dc"},
    {"verb": "ListRecords"},
    {"verb": "ListRecords", "metadataPrefix": ["oai_dc", "oai_dc"]},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "identifier": "x"},
    {"verb": "ListRecords", "metadataPrefix": ""},
    {"verb": "GetRecord", "metadataPrefix": "oai_dc"},
    {"verb": "GetRecord", "identifier": "oai:x:library/1"},
    {"verb": "ListSets", "resumptionToken": "x", "set": "y"},
    {"verb": "ListMetadataFormats", "identifier": ["a", "b"]},
    {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "foo": "bar"},
])
def test_bad_arguments(client, params):
    """Illegal, repeated, missing or empty arguments are badArgument."""
    root = harvest(client, **params)
    assert error_of(root) == "badArgument"
    assert root.find(f"{OAI}request").attrib == {}
    assert root.find(f"{OAI}request").text == "http://testserver/library/oai"


def test_unknown_metadata_formats_cannot_be_disseminated(client):
    """Only oai_dc is offered, for lists and for single records."""
    resource = ResourceFactory()
    for params in ({"verb": "ListRecords"}, {"verb": "ListIdentifiers"},
                   {"verb": "GetRecord", "identifier": identifier(resource)}):
        root = harvest(client, metadataPrefix="marc21", **params)
        assert error_of(root) == "cannotDisseminateFormat"
        assert root.find(f"{OAI}request").attrib == {"metadataPrefix": "marc21", **params}


def test_sets_are_not_supported(client):
    """Asking for a set is noSetHierarchy."""
    ResourceFactory()
    root = harvest(client, verb="ListRecords", metadataPrefix="oai_dc", set="trust")
    assert error_of(root) == "noSetHierarchy"


def test_an_empty_list_is_no_records_match(client, dated):
    """Nothing in range, or nothing public at all, is noRecordsMatch."""
    root = harvest(client, verb="ListIdentifiers", metadataPrefix="oai_dc",
                   **{"from": "2030-01-01"})
    assert error_of(root) == "noRecordsMatch"
    Resource.objects.update(metadata_tier=Tier.MEMBERS)
    assert error_of(harvest(client, verb="ListRecords", metadataPrefix="oai_dc")) == (
        "noRecordsMatch")


def answer_without_echo(root) -> list:
    """What a response says, less its date and the arguments it echoes."""
    return [(child.tag, child.get("code"), child.text) for child in root[2:]]


@pytest.mark.parametrize("signed_in", [False, True])
def test_a_non_public_item_answers_like_a_missing_one(client, signed_in):
    """idDoesNotExist, word for word, for hidden, missing and foreign identifiers."""
    if signed_in:
        staff = UserFactory(is_staff=True)
        enrol_mfa(staff)
        client.force_login(staff)
    hidden = [ResourceFactory(metadata_tier=tier)
              for tier in (Tier.MEMBERS, Tier.PARTNERS, Tier.RESTRICTED)]
    hidden.append(ResourceFactory(status=Resource.Status.DRAFT))
    missing = f"oai:{HOST}:library/{hidden[-1].pk + 1000}"
    odd = [missing, f"oai:other.example:library/{hidden[0].pk}", "oai:x", "library/1",
           f"oai:{HOST}:library/0{hidden[0].pk}", f"oai:{HOST}:library/99999999999999999999"]
    for verb, extra in (("GetRecord", {"metadataPrefix": "oai_dc"}),
                        ("ListMetadataFormats", {})):
        expected = answer_without_echo(harvest(client, verb=verb, identifier=missing, **extra))
        assert expected[0][1] == "idDoesNotExist"
        for value in [identifier(r) for r in hidden] + odd:
            root = harvest(client, verb=verb, identifier=value, **extra)
            assert answer_without_echo(root) == expected
            assert root.find(f"{OAI}request").get("identifier") == value


def test_markup_and_control_characters_make_well_formed_xml(client):
    """Text is escaped and characters XML 1.0 forbids are dropped, in records and echoes."""
    resource = ResourceFactory(title="A <b>bold</b> & \x0bodd title", authors="Zed\x01 Person",
                               abstract="Line one\x0c\nline two ]]> <!-- -->")
    root = harvest(client, verb="GetRecord", identifier=identifier(resource),
                   metadataPrefix="oai_dc")
    dc = root.find(f".//{OAI_DC}dc")
    assert dc.findtext(f"{DC}title") == "A <b>bold</b> & odd title"
    assert dc.findtext(f"{DC}creator") == "Zed Person"
    assert dc.findtext(f"{DC}description") == "Line one\nline two ]]> <!-- -->"
    root = harvest(client, verb="GetRecord", identifier="oai:\x0b<&\"x", metadataPrefix="oai_dc")
    assert root.find(f"{OAI}request").get("identifier") == "oai:<&\"x"


def test_post_needs_no_csrf_token():
    """Harvesters POST without a session, so the endpoint does not ask for a CSRF token."""
    client = Client(enforce_csrf_checks=True)
    root = harvest(client, "post", verb="Identify")
    assert root.find(f"{OAI}Identify") is not None


def test_other_http_methods_are_refused(client):
    """OAI-PMH uses GET and POST only."""
    assert client.put(reverse("library:oai")).status_code == 405


def test_a_page_of_records_takes_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    """Themes, files and organisations are fetched once per page, not once per record."""
    trust = Theme.objects.get_or_create(slug="test-trust", defaults={"name": "Trust"})[0]
    organisation, contributor = OrganisationFactory(), UserFactory()
    for resource in ResourceFactory.create_batch(20, organisation=organisation,
                                                 contributor=contributor):
        resource.themes.set([trust])
        add_text_file(resource)
    with django_assert_max_num_queries(4):
        root = harvest(client, verb="ListRecords", metadataPrefix="oai_dc")
    assert len(root.findall(f".//{DC}format")) == 20
