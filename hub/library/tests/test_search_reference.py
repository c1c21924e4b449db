"""The optimised search against a plain reference written with the ORM and the policy.

The reference takes every resource the person may see (``policy.visible_resources``), keeps
those whose files they may open and that the engine matches in full, or that they may not open
and the engine matches on the description, scores them with the engine's own score, and sorts,
counts and groups them in Python. The search must give the same results, in the same order,
with the same total, facets and ``files_open``, for every actor, query, filter and sort.
"""

import random
import re
from collections import Counter
from datetime import timedelta

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hub import policy
from hub.library import search
from hub.library.models import Audience, Grant, Resource, Theme, Tier
from hub.library.tests.factories import ResourceFactory, add_text_file
from hub.members.tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    UserFactory,
    enrol_mfa,
)

pytestmark = pytest.mark.django_db

WORDS = ["harbour", "lantern", "meadow", "quarry", "willow", "beacon"]
TIER_PAIRS = [(Tier.PUBLIC, Tier.PUBLIC), (Tier.PUBLIC, Tier.MEMBERS),
              (Tier.PUBLIC, Tier.RESTRICTED), (Tier.MEMBERS, Tier.MEMBERS),
              (Tier.MEMBERS, Tier.PARTNERS), (Tier.PARTNERS, Tier.PARTNERS),
              (Tier.RESTRICTED, Tier.RESTRICTED)]
QUERIES = [
    {"text": "harbour"}, {"text": "lantern meadow"}, {"text": '"harbour lantern"'},
    {"text": "harbour -willow"}, {"text": "-quarry"}, {"text": "beacon", "sort": "title"},
    {"text": ""}, {"text": "", "sort": "year"}, {"text": "meadow", "sort": "oldest"},
    {"text": "willow", "sort": "newest"}, {"text": "nothingmatchesthis"},
    {"text": "harbour", "types": ["report", "toolkit"]}, {"text": "", "countries": ["IE"]},
    {"text": "lantern", "languages": ["cy"]}, {"text": "", "organisations": ["owner"]},
    {"text": "meadow", "themes": ["__first__"]}, {"text": "", "audiences": ["__first__"]},
    {"text": "quarry", "year_from": 2012, "year_to": 2018},
]


def build():
    rng = random.Random(41)
    owner = OrganisationFactory(name="Owner", slug="owner", is_partner=True)
    partner = OrganisationFactory(name="Partner", slug="partner", is_partner=True)
    granted = OrganisationFactory(name="Granted", slug="granted")
    themes, audiences = list(Theme.objects.all()), list(Audience.objects.all())
    contributor = MembershipFactory(organisation=owner).user
    now = timezone.now()
    resources = []
    for n in range(42):
        metadata_tier, file_tier = TIER_PAIRS[n % len(TIER_PAIRS)]
        resource = ResourceFactory(
            organisation=owner if n % 3 else partner, contributor=contributor,
            title=" ".join([rng.choice(["Alpha", "beta", "Gamma"]), *rng.sample(WORDS, 2)]),
            abstract=" ".join(rng.choices(WORDS, k=rng.randint(3, 12))),
            metadata_tier=metadata_tier, file_tier=file_tier,
            type=rng.choice(["report", "toolkit", "guide", "paper"]),
            country=rng.choice(["GB", "IE", "", "NL"]), language=rng.choice(["en", "cy", "fr"]),
            year=rng.choice([None, 2010, 2014, 2016, 2020]),
            published_at=now - timedelta(days=rng.randint(0, 3) * 30))  # ties on purpose
        resource.themes.set(rng.sample(themes, rng.randint(0, 3)))
        resource.audiences.set(rng.sample(audiences, rng.randint(0, 2)))
        add_text_file(resource, " ".join(rng.choices(WORDS, k=rng.randint(5, 400))))
        resources.append(resource)
    restricted = [r for r in resources if r.file_tier == Tier.RESTRICTED]
    actors = {
        "visitor": None,
        "member": UserFactory(),
        "partner": MembershipFactory(organisation=partner).user,
        "owner": MembershipFactory(organisation=owner).user,
        "grantee": UserFactory(),
        "org_grantee": MembershipFactory(organisation=granted).user,
        "staff": UserFactory(is_staff=True),
    }
    enrol_mfa(actors["staff"])
    for resource in restricted[::2]:
        Grant.objects.create(resource=resource, user=actors["grantee"])
    for resource in restricted[1::2]:
        Grant.objects.create(resource=resource, organisation=granted)
    return actors, resources


@pytest.fixture
def library(db):
    return build()


def _query(spec) -> search.Query:
    spec = dict(spec)
    for name, model in (("themes", Theme), ("audiences", Audience)):
        if spec.get(name) == ["__first__"]:
            spec[name] = [model.objects.first().slug]
    return search.Query(**spec)


def _scores(terms, metadata_only) -> dict[int, float]:
    sql, params = search.engine().matches(terms, metadata_only=metadata_only)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return dict(cursor.fetchall())


def reference(user, query: search.Query):
    """(ordered ids, files_open by id, facet counts) as the rules say, computed plainly."""
    qs = policy.visible_resources(user, Resource.objects.filter(status=Resource.Status.PUBLISHED))
    for field, chosen in (("type", query.types), ("country", query.countries),
                          ("language", query.languages),
                          ("organisation__slug", query.organisations)):
        if chosen:
            qs = qs.filter(**{f"{field}__in": chosen})
    for slug in query.themes:
        qs = qs.filter(themes__slug=slug)
    for slug in query.audiences:
        qs = qs.filter(audiences__slug=slug)
    if query.year_from is not None:
        qs = qs.filter(year__gte=query.year_from)
    if query.year_to is not None:
        qs = qs.filter(year__lte=query.year_to)
    readable = set(policy.readable_resources(user, Resource.objects.all())
                   .values_list("pk", flat=True))
    hits = []
    full, meta = {}, {}
    if query.terms:
        full, meta = _scores(query.terms, False), _scores(query.terms, True)
    for resource in qs.distinct().prefetch_related("themes", "audiences"):
        opens = resource.pk in readable
        if not query.terms:
            hits.append((resource, 0.0, opens))
        elif resource.pk in (full if opens else meta):
            hits.append((resource, (full if opens else meta)[resource.pk], opens))
    hits.sort(key=_sort_key(query.order))
    return ([r.pk for r, _, _ in hits], {r.pk: opens for r, _, opens in hits}, _counts(hits))


def _sort_key(order):
    def key(hit):
        r, score, _ = hit
        stamp = r.published_at.timestamp()
        return {"relevance": (-score, -stamp, -r.pk), "newest": (-stamp, -r.pk),
                "oldest": (stamp, r.pk), "year": (r.year is None, -(r.year or 0), -r.pk),
                "title": (r.title.lower(), r.pk)}[order]
    return key


def _counts(hits) -> dict[str, Counter]:
    counts = {name: Counter() for name in search.FACETS}
    for r, _, _ in hits:
        counts["type"][r.type] += 1
        counts["language"][r.language] += 1
        counts["organisation"][r.organisation.slug] += 1
        if r.country:
            counts["country"][str(r.country)] += 1
        if r.year is not None:
            counts["year"][str(r.year)] += 1
        counts["theme"].update(t.slug for t in r.themes.all())
        counts["audience"].update(a.slug for a in r.audiences.all())
    return counts


def _facet_counts(results) -> dict[str, Counter]:
    return {name: Counter({value: count for value, _, count in facet.values})
            for name, facet in results.facets.items()}


def test_search_results_counts_and_facets_match_the_reference(library):
    """For every actor and query, the search equals the plain reference in every respect."""
    actors, _ = library
    checked = 0
    for key, user in actors.items():
        for spec in QUERIES:
            if user is not None:
                policy.forget(user)
            query = _query({**spec, "per_page": 100})
            ids, opens, counts = reference(user, query)
            results = search.search(user, query)
            where = (key, spec)
            assert results.total == len(ids), where
            assert [hit.resource.pk for hit in results.hits] == ids, where
            assert {hit.resource.pk: hit.files_open for hit in results.hits} == opens, where
            assert not results.facets_approximate, where
            assert _facet_counts(results) == counts, where
            assert search.visible_ids_for(user, _query(spec)) == ids, where
            checked += 1
    assert checked == len(actors) * len(QUERIES)


def test_search_pages_follow_the_reference_order(library):
    """Page 2 of 5 per page holds the reference's sixth to tenth results."""
    actors, _ = library
    for spec in ({"text": "harbour"}, {"text": ""}, {"text": "", "sort": "title"}):
        query = _query({**spec, "per_page": 5, "page": 2})
        ids, _, _ = reference(actors["partner"], query)
        results = search.search(actors["partner"], query)
        assert [hit.resource.pk for hit in results.hits] == ids[5:10], spec


def test_search_estimates_facets_of_large_hit_sets_only_from_what_the_person_sees(
        library, monkeypatch):
    """Above the threshold, facets are estimates marked as such, drawn from visible hits only;
    the total and the results stay exact."""
    monkeypatch.setattr(search, "EXACT_FACETS", 4)
    monkeypatch.setattr(search, "FACET_SAMPLE", 4)
    actors, _ = library
    for key, user in actors.items():
        for spec in ({"text": ""}, {"text": "harbour"}, {"text": "lantern meadow"}):
            query = _query({**spec, "per_page": 100})
            ids, _, counts = reference(user, query)
            results = search.search(user, query)
            assert results.total == len(ids), key
            assert [hit.resource.pk for hit in results.hits] == ids, key
            assert results.facets_approximate == (len(ids) > 4), key
            for name, found in _facet_counts(results).items():
                assert set(found) <= set(counts[name]), (key, name)  # nothing unseen counted
                assert all(count >= 1 for count in found.values()), (key, name)


def test_search_page_says_when_facet_counts_are_estimates(library, monkeypatch):
    """The page marks estimated counts with "about" and says why; exact ones carry no mark."""
    actors, _ = library
    client = Client()
    client.force_login(actors["owner"])
    exact = client.get(reverse("library:home"), {"q": "harbour"}).content.decode()
    assert "(about " not in exact
    assert 'id="facet-estimate"' not in exact
    monkeypatch.setattr(search, "EXACT_FACETS", 4)
    monkeypatch.setattr(search, "FACET_SAMPLE", 4)
    # A shared copy of the results follows changes to the data, not to the code's constants.
    caches["template_fragments"].clear()
    caches["library_results"].clear()
    estimated = client.get(reverse("library:home"), {"q": "harbour"}).content.decode()
    assert "(about " in estimated
    assert 'id="facet-estimate"' in estimated


def test_search_estimate_rounds_to_two_significant_figures():
    """An estimate shows no more precision than a sample gives."""
    assert [search._about(x) for x in (0.4, 7.6, 12.4, 987, 12_345, 88_893)] == [
        1, 8, 12, 990, 12_000, 89_000]


# --- The ranking window -------------------------------------------------------------------

WINDOWED = [{"text": "harbour"}, {"text": "lantern meadow"}, {"text": '"harbour lantern"'},
            {"text": "harbour -willow"}, {"text": "-quarry"},
            {"text": "harbour", "types": ["report", "toolkit"]},
            {"text": "quarry", "year_from": 2012, "year_to": 2018}]


def _windowed_reference(user, query, window):
    """The reference ranked among the person's ``window`` newest hits only."""
    ids, opens, _ = reference(user, query)
    newest = set(sorted(ids, reverse=True)[:window])
    return [pk for pk in ids if pk in newest], opens, len(ids)


def test_best_match_ranks_the_newest_hits_when_there_are_more_than_the_window(
        library, settings):
    """Above the window, "Best match" ranks exactly the person's newest hits by the
    reference's order, the total is an estimate no smaller than the window, the pages stop at
    the window and facets count only hits the person may see; at or below it, all is exact."""
    settings.LIBRARY_RANK_WINDOW = 5
    actors, _ = library
    seen = {"estimated": 0, "exact": 0}
    for key, user in actors.items():
        for spec in WINDOWED:
            if user is not None:
                policy.forget(user)
            query = _query({**spec, "per_page": 100})
            ranked, opens, found = _windowed_reference(user, query, 5)
            _, _, counts = reference(user, query)
            results = search.search(user, query)
            where = (key, spec)
            assert [hit.resource.pk for hit in results.hits] == ranked, where
            assert all(hit.files_open == opens[hit.resource.pk] for hit in results.hits), where
            assert search.visible_ids_for(user, _query(spec)) == ranked, where
            assert results.estimated == (found > 5), where
            if results.estimated:
                seen["estimated"] += 1
                assert results.total >= 5 and results.pages == 1, where
                assert results.facets_approximate, where
                for name, values in _facet_counts(results).items():
                    assert set(values) <= set(counts[name]), (where, name)
            else:
                seen["exact"] += 1
                assert results.total == found and not results.facets_approximate, where
    assert seen["estimated"] >= 20 and seen["exact"] >= 5, seen


def test_the_newest_listing_shows_the_newest_window(library, settings):
    """Without words, "Newest first" takes the person's newest five by publication, exactly
    as the reference orders them; "Oldest first" still sees every one."""
    settings.LIBRARY_RANK_WINDOW = 5
    actors, _ = library
    for key, user in actors.items():
        for spec in ({"text": ""}, {"text": "", "types": ["report", "toolkit"]}):
            if user is not None:
                policy.forget(user)
            query = _query({**spec, "per_page": 100})
            ids, _, counts = reference(user, query)
            results = search.search(user, query)
            where = (key, spec)
            assert [hit.resource.pk for hit in results.hits] == ids[:5], where
            assert results.estimated == (len(ids) > 5), where
            assert search.visible_ids_for(user, _query(spec)) == ids[:5], where
            if results.estimated:
                assert results.total >= 5 and results.pages == 1, where
                for name, values in _facet_counts(results).items():
                    assert set(values) <= set(counts[name]), (where, name)
            oldest = search.search(user, _query({**spec, "sort": "oldest", "per_page": 100}))
            assert oldest.total == len(ids) and not oldest.estimated, where


def test_pages_of_a_windowed_search_stop_at_the_window(library, settings):
    """Two to a page over a window of five: three pages, the third holding the fifth hit; a
    later page asked for shows the last one. Other orders still see every hit."""
    settings.LIBRARY_RANK_WINDOW = 5
    actors, _ = library
    user = actors["staff"]
    ranked, _, found = _windowed_reference(user, _query({"text": "harbour"}), 5)
    assert found > 5
    pages = [search.search(user, _query({"text": "harbour", "per_page": 2, "page": n}))
             for n in (1, 2, 3, 9)]
    assert [[hit.resource.pk for hit in r.hits] for r in pages] == [
        ranked[0:2], ranked[2:4], ranked[4:5], ranked[4:5]]
    assert {r.pages for r in pages} == {3}
    assert pages[-1].page == 3 and not pages[-1].has_next
    by_title = search.search(user, _query({"text": "harbour", "sort": "title", "per_page": 100}))
    assert not by_title.estimated and by_title.total == found


def test_estimate_follows_the_density_of_the_newest_hits(library, settings):
    """Five hits reaching back over ten ids of a library of forty-two ids: about 21."""
    settings.LIBRARY_RANK_WINDOW = 5
    ids = list(Resource.objects.order_by("pk").values_list("pk", flat=True))
    assert search._estimate(5, ids[-10]) == round(5 * len(ids) / 10)
    assert search._estimate(5, ids[-5]) == len(ids)


def test_estimate_does_not_move_with_words_the_person_may_not_read(library, settings):
    """Adding a word many times to restricted files changes nothing a visitor or a plain
    member sees of a windowed search: hits, total, facets and pages."""
    settings.LIBRARY_RANK_WINDOW = 5
    actors, resources = library

    def seen():
        out = {}
        for key in ("visitor", "member"):
            user = actors[key]
            if user is not None:
                policy.forget(user)
            r = search.search(user, _query({"text": "harbour", "per_page": 100}))
            out[key] = ([h.resource.pk for h in r.hits], r.total, r.estimated, r.pages,
                        _facet_counts(r))
        return out

    before = seen()
    assert all(found[2] for found in before.values())
    for resource in resources:
        if resource.file_tier == Tier.RESTRICTED and resource.metadata_tier != Tier.PUBLIC:
            add_text_file(resource, "harbour " * 300, name="more.txt")
    caches["template_fragments"].clear()
    assert seen() == before


def test_search_page_says_when_the_total_is_an_estimate(library, settings):
    """The heading says "About" and the page says why; below the window it says neither."""
    actors, _ = library
    client = Client()
    client.force_login(actors["staff"])
    exact = client.get(reverse("library:home"), {"q": "harbour"}).content.decode()
    assert 'id="rank-window"' not in exact and "About " not in exact
    settings.LIBRARY_RANK_WINDOW = 5
    caches["template_fragments"].clear()
    page = client.get(reverse("library:home"), {"q": "harbour"}).content.decode()
    assert 'id="rank-window"' in page
    assert re.search(r"About \d+ resources for", page)
    assert "ranks the 5 most recently added" in page
    listing = client.get(reverse("library:home")).content.decode()
    hint = listing.split('id="rank-window"')[1][:200]
    assert "Best match" not in hint
    assert "lists its 5 most recently published" in listing


def test_a_phrase_is_ranked_on_its_words(library):
    """SQLite scores a phrase's matches as its words would be scored (counting documents per
    phrase would read word positions across the whole library); the phrase still decides
    which documents match."""
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL ranks phrases with ts_rank as they are")
    phrase = _scores(search.parse('"harbour lantern"'), False)
    words = _scores(search.parse("harbour lantern"), False)
    assert phrase and set(phrase) < set(words)
    assert all(phrase[pk] == pytest.approx(words[pk]) for pk in phrase)
