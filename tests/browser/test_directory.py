"""Finding people and organisations in a real browser, with the keyboard, checked by axe-core."""

import pytest

from hub.members.models import Expertise, Organisation, Profile
from hub.members.tests.factories import OrganisationFactory, UserFactory
from tests.browser.conftest import assert_accessible
from tests.browser.test_journeys import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_find_a_person_by_sector_and_expertise_then_an_organisation(new_page):
    youth = Expertise.objects.create(name="Youth work")
    amira = UserFactory(profile__display_name="Amira Okafor", profile__sector="practice",
                        profile__bio="Runs a boxing club.").profile
    amira.expertise.add(youth)
    UserFactory(profile__display_name="Brendan Walsh", profile__sector="police")
    UserFactory(profile__display_name="Private Person",
                profile__visibility=Profile.Visibility.PRIVATE, profile__sector="practice")
    OrganisationFactory(name="Dublin Faith Forum", kind=Organisation.Kind.FAITH, country="IE")
    viewer = UserFactory(profile__display_name="Looking Member")

    page = new_page()
    sign_in(page, viewer.email)
    page.get_by_role("link", name="Directory").first.click()
    page.wait_for_url("**/directory/")
    assert_accessible(page)
    assert page.get_by_role("link", name="Brendan Walsh").is_visible()
    assert page.get_by_text("Private Person").count() == 0

    # Keyboard only: choose the sector and expertise, then submit with Enter.
    page.focus("#id_sector")
    page.select_option("#id_sector", "practice")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.select_option("#id_expertise", "Youth work")
    page.focus("#id_q")
    page.keyboard.type("boxing")
    page.keyboard.press("Enter")
    page.wait_for_url("**/directory/?*")
    assert page.get_by_role("heading", name="1 person matches").is_visible()
    assert page.get_by_role("link", name="Amira Okafor").is_visible()
    assert page.get_by_role("link", name="Brendan Walsh").count() == 0
    assert_accessible(page)

    # A bad value in the address is explained, and the rest of the search still works.
    page.goto("/directory/?q=boxing&country=ZZ")
    assert page.get_by_role("alert").is_visible()
    assert page.get_by_role("link", name="Amira Okafor").is_visible()
    assert_accessible(page)

    page.get_by_role("navigation", name="Directory").get_by_role(
        "link", name="Organisations").click()
    page.wait_for_url("**/organisations/")
    page.select_option("#id_kind", "faith")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/organisations/?*")
    assert page.get_by_role("link", name="Dublin Faith Forum").is_visible()
    assert_accessible(page)
