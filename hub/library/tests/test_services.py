"""Contributing, curating, files and extraction, access rules: the services and their pages,
with bad input at every step getting a clear message and losing nothing already saved."""

import io

import docx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from hub.library import search, services
from hub.library.models import AccessRule, Resource, ResourceFile, Tier
from hub.library.tests.factories import ResourceFactory
from hub.members.models import Membership
from hub.members.tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    UserFactory,
    enrol_mfa,
)


def run_worker():
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)


@pytest.fixture
def org(db):
    return OrganisationFactory(name="Alpha Forum", slug="alpha", is_partner=True)


@pytest.fixture
def contributor(org):
    return MembershipFactory(organisation=org).user


@pytest.fixture
def editor(org):
    return MembershipFactory(organisation=org, role=Membership.Role.EDITOR).user


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def draft(org, contributor, **fields):
    values = {"title": "Draft guide", "abstract": "About partnership.", "type": "guide",
              "metadata_tier": Tier.PUBLIC, "file_tier": Tier.PUBLIC}
    values.update(fields)
    return services.resource_create(actor=contributor, organisation=org, **values)


def docx_bytes(text: str) -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


FORM = {"title": "Street conversations", "abstract": "What residents said.", "type": "report",
        "language": "en", "licence": "CC-BY-4.0", "metadata_tier": "public",
        "file_tier": "public"}


@pytest.mark.django_db
def test_contribute_stores_the_draft_and_reports_a_disguised_file(org, contributor):
    client = signed_in(contributor)
    good = SimpleUploadedFile("notes.txt", b"Residents met officers weekly.")
    fake = SimpleUploadedFile("report.pdf", b"<!DOCTYPE html><html><body>hi</body></html>")
    response = client.post(reverse("library:contribute"),
                           {**FORM, "organisation": org.pk, "files": [good, fake]}, follow=True)
    resource = Resource.objects.get(title="Street conversations")
    assert resource.status == Resource.Status.DRAFT
    assert [f.original_name for f in resource.files.all()] == ["notes.txt"]
    page = response.content.decode()
    assert "report.pdf" in page and "Saved as a draft" in page


@pytest.mark.django_db
def test_bad_metadata_is_explained_and_nothing_is_saved(org, contributor):
    client = signed_in(contributor)
    response = client.post(reverse("library:contribute"), {
        **FORM, "organisation": org.pk, "metadata_tier": "restricted", "file_tier": "public",
        "year": "1066"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Give a year between 1900 and 2100" in page
    assert not Resource.objects.exists()
    response = client.post(reverse("library:contribute"), {
        **FORM, "organisation": org.pk, "metadata_tier": "restricted", "file_tier": "public"})
    assert "Files cannot be more open than the description" in response.content.decode()
    assert not Resource.objects.exists()


@pytest.mark.django_db
def test_a_member_cannot_contribute_for_an_organisation_they_do_not_belong_to(org, contributor):
    other = OrganisationFactory()
    response = signed_in(contributor).post(reverse("library:contribute"),
                                           {**FORM, "organisation": other.pk})
    assert "Select a valid choice" in response.content.decode()
    assert not Resource.objects.exists()


@pytest.mark.django_db
def test_limits_are_shown_before_upload_and_enforced(org, contributor, settings):
    settings.LIBRARY_MAX_FILE_BYTES = 1024 * 1024
    settings.LIBRARY_MAX_FILES = 2
    client = signed_in(contributor)
    page = client.get(reverse("library:contribute")).content.decode()
    assert "Up to 2 files, each up to 1 MB" in page
    resource = draft(org, contributor)
    big = SimpleUploadedFile("big.txt", b"a" * (1024 * 1024 + 1))
    response = client.post(reverse("library:file_add", args=[resource.pk]), {"file": big})
    assert "is too large" in response.content.decode()
    for n in range(2):
        services.file_add(resource=resource, actor=contributor,
                          upload=SimpleUploadedFile(f"f{n}.txt", b"text"))
    response = client.post(reverse("library:file_add", args=[resource.pk]),
                           {"file": SimpleUploadedFile("third.txt", b"text")})
    assert "most files allowed" in response.content.decode()
    assert resource.files.count() == 2


@pytest.mark.django_db(transaction=True)
def test_extraction_in_the_worker_indexes_text_and_flags_what_it_cannot_read(org, contributor):
    resource = draft(org, contributor)
    good = services.file_add(resource=resource, actor=contributor, upload=SimpleUploadedFile(
        "plan.docx", docx_bytes("The plan mentions quillfeather partnerships.")))
    broken_bytes = docx_bytes("x")[:-200]
    with pytest.raises(Exception) as refused:
        services.file_add(resource=resource, actor=contributor,
                          upload=SimpleUploadedFile("broken.docx", broken_bytes))
    assert "broken.docx" in str(refused.value)
    empty = services.file_add(resource=resource, actor=contributor,
                              upload=SimpleUploadedFile("blank.txt", b"   \n\n  "))
    run_worker()
    good.refresh_from_db()
    empty.refresh_from_db()
    assert good.extraction == ResourceFile.Extraction.DONE
    assert "quillfeather" in good.text
    assert empty.extraction == ResourceFile.Extraction.REVIEW
    assert empty.extraction_message
    assert empty.file.storage.exists(empty.file.name), "the upload is kept"
    page = signed_in(contributor).get(reverse("library:file_status", args=[resource.pk]))
    assert empty.extraction_message in page.content.decode()
    services.resource_submit(resource=resource, actor=contributor)
    editor = MembershipFactory(organisation=org, role=Membership.Role.EDITOR).user
    services.resource_publish(resource=resource, actor=editor)
    results = search.search(None, search.Query(text="quillfeather"))
    assert [hit.resource.pk for hit in results.hits] == [resource.pk]


@pytest.mark.django_db
def test_submit_needs_a_file_or_link_and_send_back_needs_a_reason(org, contributor, editor):
    resource = draft(org, contributor)
    client = signed_in(contributor)
    response = client.post(reverse("library:submit", args=[resource.pk]), follow=True)
    assert "Add at least one file or a web link" in response.content.decode()
    resource.refresh_from_db()
    assert resource.status == Resource.Status.DRAFT
    resource.external_url = "https://example.org/guide"
    resource.save()
    client.post(reverse("library:submit", args=[resource.pk]))
    resource.refresh_from_db()
    assert resource.status == Resource.Status.SUBMITTED

    curator = signed_in(editor)
    response = curator.post(reverse("library:curate", args=[resource.pk]),
                            {"action": "send_back", "reason": " "}, follow=True)
    assert "Say what needs to change" in response.content.decode()
    resource.refresh_from_db()
    assert resource.status == Resource.Status.SUBMITTED
    curator.post(reverse("library:curate", args=[resource.pk]),
                 {"action": "send_back", "reason": "Add the year and the authors."})
    resource.refresh_from_db()
    assert resource.status == Resource.Status.DRAFT
    page = client.get(reverse("library:edit", args=[resource.pk])).content.decode()
    assert "Add the year and the authors." in page


@pytest.mark.django_db
def test_contributors_edit_drafts_only_and_outsiders_cannot_curate(org, contributor, editor):
    resource = ResourceFactory(organisation=org, contributor=contributor)
    assert signed_in(contributor).get(
        reverse("library:edit", args=[resource.pk])).status_code == 404
    assert signed_in(editor).get(reverse("library:edit", args=[resource.pk])).status_code == 200
    outsider = MembershipFactory(organisation=OrganisationFactory(),
                                 role=Membership.Role.EDITOR).user
    response = signed_in(outsider).post(reverse("library:curate", args=[resource.pk]),
                                        {"action": "send_back", "reason": "No."})
    assert response.status_code == 404
    resource.refresh_from_db()
    assert resource.is_published


@pytest.mark.django_db
def test_access_rule_and_grant_forms_explain_bad_choices(org):
    approver = MembershipFactory(organisation=org, role=Membership.Role.APPROVER).user
    enrol_mfa(approver)
    resource = ResourceFactory(organisation=org, file_tier=Tier.RESTRICTED)
    non_partner = OrganisationFactory(is_partner=False)
    client = signed_in(approver)
    url = reverse("library:access", args=[resource.pk])
    response = client.post(url, {"rule-mode": "consult", "rule-consulted": [org.pk],
                                 "rule-approvals_needed": 3})
    assert "Ask for between 1 and 1 approvals" in response.content.decode()
    response = client.post(url, {"rule-mode": "consult", "rule-consulted": [non_partner.pk],
                                 "rule-approvals_needed": 1})
    assert "Select a valid choice" in response.content.decode()
    assert AccessRule.objects.get(resource=resource).mode == AccessRule.Mode.OWN
    response = client.post(url, {"grant-email": "nobody@example.org", "grant-expires": ""})
    assert "No member of the hub has that email address" in response.content.decode()
    response = client.post(url, {"grant-organisation": non_partner.pk,
                                 "grant-expires": "2001-01-01"})
    assert "Choose an expiry date in the future" in response.content.decode()
    response = client.post(url, {"grant-organisation": non_partner.pk, "grant-expires": ""},
                           follow=True)
    assert "Access granted" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("text", ['"unbalanced', "NEAR(a b)", "{title}: x", "a* OR -", "'; --",
                                  "\x00", "-only -negatives", "ünïcödé café", "a" * 600])
def test_search_accepts_any_text_without_error(text, org):
    ResourceFactory(organisation=org, title="Café trust")
    response = Client().get(reverse("library:home"), {"q": text})
    assert response.status_code == 200


@pytest.mark.django_db
def test_bad_filters_get_a_message_and_the_rest_still_applies(org):
    ResourceFactory(organisation=org, title="Trust in practice", year=2020)
    response = Client().get(reverse("library:home"),
                            {"q": "trust", "year_from": "soon", "type": "nonsense"})
    page = response.content.decode()
    assert "Some of the filters could not be used" in page
    assert "Trust in practice" in page


@pytest.mark.django_db
def test_filters_sorting_and_pagination(org):
    for year in range(2001, 2026):
        ResourceFactory(organisation=org, title=f"Annual review {year}", year=year,
                        type="report" if year % 2 else "guide")
    client = Client()
    page = client.get(reverse("library:home"), {"type": "guide", "sort": "year"})
    html = page.content.decode()
    assert "12 resources" in html
    assert html.index("Annual review 2024") < html.index("Annual review 2002")
    page = client.get(reverse("library:home"), {"year_from": 2010, "year_to": 2012})
    assert "3 resources" in page.content.decode()
    second = client.get(reverse("library:home"), {"sort": "title", "page": 2}).content.decode()
    assert "Page 2 of 2" in second and "Annual review 2025" in second


@pytest.mark.django_db
def test_reindex_rebuilds_the_index_from_published_resources(org):
    published = ResourceFactory(organisation=org, title="Quarry listening project")
    ResourceFactory(organisation=org, title="Quarry draft", status=Resource.Status.DRAFT)
    search.clear()
    assert search.search(None, search.Query(text="quarry")).total == 0
    out = io.StringIO()
    call_command("library_reindex", stdout=out)
    assert "Indexed 1 published" in out.getvalue()
    results = search.search(None, search.Query(text="quarry"))
    assert [hit.resource.pk for hit in results.hits] == [published.pk]


# --- Found in review: each of these once went wrong ----------------------------------------

def _approver(org):
    user = MembershipFactory(organisation=org, role=Membership.Role.APPROVER).user
    enrol_mfa(user)
    return user


@pytest.mark.django_db
def test_decisions_of_organisations_no_longer_consulted_do_not_count(org):
    from hub.library.models import AccessRequest

    other = OrganisationFactory(is_partner=True)
    third = OrganisationFactory(is_partner=True)
    owner_approver, other_approver = _approver(org), _approver(other)
    resource = ResourceFactory(organisation=org, file_tier=Tier.RESTRICTED)
    services.access_rule_set(resource=resource, actor=owner_approver, mode="consult",
                             consulted=[other, third], approvals_needed=2)
    request = services.request_create(resource=resource, actor=UserFactory(),
                                      reason="For a comparison of programmes.")
    services.request_decide(access_request=request, actor=other_approver, outcome="approve")
    services.access_rule_set(resource=resource, actor=owner_approver, mode="own")
    resource.refresh_from_db()
    services.request_decide(access_request=request, actor=owner_approver, outcome="refuse",
                            reason="Not now.")
    request.refresh_from_db()
    assert request.status == AccessRequest.Status.REFUSED
    assert not resource.grants.exists()


@pytest.mark.django_db
def test_only_approvers_change_tiers_once_a_resource_has_been_published(org, contributor,
                                                                        editor, staff):
    resource = draft(org, contributor, file_tier=Tier.RESTRICTED)
    services.resource_update(resource=resource, actor=contributor, file_tier=Tier.PARTNERS)
    services.file_add(resource=resource, actor=contributor,
                      upload=SimpleUploadedFile("a.txt", b"some text"))
    services.resource_submit(resource=resource, actor=contributor)
    services.resource_publish(resource=resource, actor=editor)
    for actor in (editor, staff):
        with pytest.raises(Exception) as refused:
            services.resource_update(resource=resource, actor=actor, file_tier=Tier.PUBLIC)
        assert "approvers" in str(refused.value)
    page = signed_in(editor).get(reverse("library:edit", args=[resource.pk])).content.decode()
    assert 'name="file_tier"' not in page
    services.resource_update(resource=resource, actor=_approver(org), file_tier=Tier.MEMBERS)
    resource.refresh_from_db()
    assert resource.file_tier == Tier.MEMBERS


@pytest.mark.django_db
def test_a_draft_is_published_only_after_it_is_sent_for_curation(org, contributor, editor):
    resource = draft(org, contributor, external_url="https://example.org/x")
    response = signed_in(editor).post(reverse("library:curate", args=[resource.pk]),
                                      {"action": "publish"}, follow=True)
    assert "Only a resource sent for curation can be published" in response.content.decode()
    resource.refresh_from_db()
    assert resource.status == Resource.Status.DRAFT


@pytest.mark.django_db
def test_files_of_a_draft_are_never_cached_publicly(org, contributor):
    resource = draft(org, contributor)
    item = services.file_add(resource=resource, actor=contributor,
                             upload=SimpleUploadedFile("a.txt", b"unpublished words"))
    response = signed_in(contributor).get(reverse("library:download",
                                                  args=[resource.pk, item.pk]))
    assert response.status_code == 200
    assert "public" not in response["Cache-Control"]
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_staff_curating_a_restricted_resource_do_not_see_its_files(org, contributor, staff):
    resource = ResourceFactory(organisation=org, contributor=contributor,
                               file_tier=Tier.RESTRICTED)
    from hub.library.tests.factories import add_text_file

    item = add_text_file(resource, "names", name="informant-list.txt")
    client = signed_in(staff)
    page = client.get(reverse("library:edit", args=[resource.pk])).content.decode()
    assert "informant-list" not in page and "1 restricted file" in page
    assert client.get(reverse("library:file_status", args=[resource.pk])).status_code == 404
    response = client.post(reverse("library:file_action", args=[resource.pk, item.pk]),
                           {"action": "remove"})
    assert response.status_code == 404
    assert ResourceFile.objects.filter(pk=item.pk).exists()


@pytest.mark.django_db
def test_ranking_for_someone_who_cannot_open_the_files_ignores_their_length(org):
    from hub.library.tests.factories import add_text_file

    short = ResourceFactory(organisation=org, title="Harbour walk", abstract="Harbour notes.",
                            file_tier=Tier.RESTRICTED)
    long = ResourceFactory(organisation=org, title="Harbour walk", abstract="Harbour notes.",
                           file_tier=Tier.RESTRICTED)
    add_text_file(short, "tiny")
    add_text_file(long, "word " * 5000)
    member = UserFactory()
    first = search.search(member, search.Query(text="harbour", sort="relevance"))
    add_text_file(short, "word " * 9000)
    add_text_file(long, "tiny")
    second = search.search(member, search.Query(text="harbour", sort="relevance"))
    assert [h.resource.pk for h in first.hits] == [h.resource.pk for h in second.hits]


@pytest.mark.django_db
def test_a_file_too_big_for_the_index_does_not_stop_publishing(org, contributor, editor):
    from hub.library.tests.factories import add_text_file

    resource = draft(org, contributor)
    numbers = " ".join(f"{n}x{n * 7}" for n in range(120_000))
    add_text_file(resource, "lighthouse " + numbers)
    services.resource_submit(resource=resource, actor=contributor)
    services.resource_publish(resource=resource, actor=editor)
    assert search.search(None, search.Query(text="lighthouse")).total == 1
