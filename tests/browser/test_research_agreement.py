"""Comparing two coders in a real browser: the lead of a blind study sees the figures but not
the passages; once the codings are revealed, a coder reads where the two differ. axe-core
checks the agreement page (also with a form error) and the list of differences."""

import pytest

from hub.members.tests.factories import UserFactory
from hub.research.models import Code, Coding, Source, Study, StudyMember
from tests.browser.conftest import assert_accessible
from tests.browser.test_journeys import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

TEXT = ("[P01]: They came every week and we got to know them.\n"
        "[P02]: It took a long time before anyone trusted the patrols.\n")


@pytest.fixture
def study(db):
    study = Study.objects.create(title="Patrols and trust", slug="patrols-trust", blind=True)
    source = Source.objects.create(study=study, title="Focus group 1", text=TEXT)
    trust = Code.objects.create(study=study, name="Trust")
    contact = Code.objects.create(study=study, name="Contact", position=1)
    people = {key: UserFactory(profile__display_name=name) for key, name in
              (("lead", "Lena Lead"), ("ann", "Ann Coder"), ("ben", "Ben Coder"))}
    for key, role in (("lead", "lead"), ("ann", "coder"), ("ben", "coder")):
        StudyMember.objects.create(study=study, user=people[key], role=role)
    week = TEXT.index("They came")
    long = TEXT.index("It took")
    Coding.objects.create(source=source, code=contact, start=week, end=week + 25,
                          coder=people["ann"])
    Coding.objects.create(source=source, code=contact, start=week, end=week + 52,
                          coder=people["ben"])
    Coding.objects.create(source=source, code=trust, start=long, end=long + 58,
                          coder=people["ann"])
    Coding.objects.create(source=source, code=trust, start=long, end=long + 58,
                          coder=people["ben"])
    study.people = people
    return study


def test_compare_two_coders(new_page, study):
    lead = new_page()
    sign_in(lead, study.people["lead"].email)
    lead.goto(f"/research/studies/{study.slug}/agreement/")
    lead.get_by_role("heading", name="Agreement between coders").wait_for()
    assert lead.get_by_text("Coding is blind").is_visible()
    assert_accessible(lead)
    table = lead.get_by_role("table")
    assert table.get_by_role("row", name="Trust").get_by_role("cell").nth(1).inner_text() \
        == "100%"
    assert lead.get_by_role("link", name="Where they differ").count() == 0

    # Choosing a single coder is explained, and the choice is kept.
    lead.get_by_label("Ben Coder").uncheck()
    lead.get_by_role("button", name="Compare").click()
    lead.get_by_text("Choose at least two coders to compare.").wait_for()
    assert lead.get_by_label("Ann Coder").is_checked()
    assert_accessible(lead)

    # Once the codings are revealed, the team reads where the two differ.
    Study.objects.filter(pk=study.pk).update(blind=False)
    coder = new_page()
    sign_in(coder, study.people["ann"].email)
    coder.goto(f"/research/studies/{study.slug}/agreement/")
    coder.get_by_role("link", name="Where they differ on Contact").click()
    coder.get_by_role("heading", name="Where coders differ on “Contact”").wait_for()
    assert coder.get_by_text("Coded by Ben Coder; not by Ann Coder.").is_visible()
    assert_accessible(coder)
