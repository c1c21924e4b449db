"""Codings, memos and analysis never leave the team, and blind coding holds by every address.

A blind study with a lead, two coders (A and B), a viewer, and people outside the team (a
member, hub staff) and a visitor. Coder A and coder B each code the same source with their own
code and B writes a memo on B's coding. Every address that shows codings is then asked by
every actor, before and after the lead reveals, and the answer compared with the rule written
out here from the policy's comment: outside the team, a missing page (404; a visitor is sent to
sign in); inside, while blind, each person sees only their own codings (the lead and the viewer
see none of A's or B's); once revealed, the team sees both.
"""

import io

import docx
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hub.members.tests.factories import UserFactory
from hub.research.models import Memo
from hub.research.tests.test_coding_data import code, coded, make_study

pytestmark = pytest.mark.django_db

ACTORS = ["lead", "coder", "coder2", "viewer", "outsider", "staff", "visitor"]
TEAM = {"lead", "coder", "coder2", "viewer"}


@pytest.fixture
def s():
    s = make_study(blind=True)
    s["staff"] = UserFactory(is_staff=True, profile__display_name="Hub Staff")
    s["visitor"] = None
    s["CA"], s["CB"] = code(s["study"], "Alpha code"), code(s["study"], "Beta code")
    s["a"] = coded(s["source"], s["CA"], 44, 63, s["coder"])
    s["b"] = coded(s["source"], s["CB"], 50, 110, s["coder2"])
    s["memo"] = Memo.objects.create(study=s["study"], coding=s["b"], author=s["coder2"],
                                    text="Beta's private thought")
    return s


def client_for(s, actor):
    client = Client()
    if s[actor] is not None:
        client.force_login(s[actor])
    return client


def expected(actor, revealed):
    """Which of the two codings (a, b) the actor should see."""
    if actor not in TEAM:
        return None
    if revealed:
        return {"a", "b"}
    return {"coder": {"a"}, "coder2": {"b"}}.get(actor, set())


def u(name, s, *args):
    return reverse(f"research:{name}", args=[s["study"].slug, *args])


def seen_by_every_address(client, s) -> dict[str, set | None]:
    """What each address shows of codings a and b; None when it answers 404."""
    out = {}
    src = s["source"].pk
    r = client.get(u("source_codings_json", s, src))
    if r.status_code != 200:
        return None if r.status_code == 404 else {"status": r.status_code}
    ids = {c["id"] for c in r.json()["codings"]}
    out["json"] = {k for k in ("a", "b") if s[k].pk in ids}
    body = client.get(u("source_code", s, src)).content.decode()
    out["page"] = {k for k, c in (("a", "CA"), ("b", "CB")) if f"hl-{s[c].pk}" in body}
    out["retrieve"] = set()
    for k, c in (("a", "CA"), ("b", "CB")):
        page = client.get(u("retrieve", s), {"code": s[c].pk})
        if page.context["total"]:
            out["retrieve"].add(k)
    out["csv"] = set()
    out["docx"] = set()
    for k, c in (("a", "CA"), ("b", "CB")):
        csv_ = client.get(u("retrieve_export", s, "csv"), {"code": s[c].pk})
        if s[c].name in csv_.content.decode("utf-8-sig"):
            out["csv"].add(k)
        document = docx.Document(io.BytesIO(client.get(
            u("retrieve_export", s, "docx"), {"code": s[c].pk}).content))
        if any(s[c].name in p.text for p in document.paragraphs[2:]):
            out["docx"].add(k)
    analysis = client.get(u("analysis", s)).context
    counts = {r.code.pk: r.codings for r, _cells in analysis["freq_rows"]}
    out["analysis"] = {k for k, c in (("a", "CA"), ("b", "CB")) if counts.get(s[c].pk)}
    used = {r.code.pk for r in client.get(u("cooccurrence", s)).context["used"]}
    out["cooccurrence"] = {k for k, c in (("a", "CA"), ("b", "CB")) if s[c].pk in used}
    book = client.get(u("codebook", s)).context["rows"]
    out["codebook"] = {k for k, c in (("a", "CA"), ("b", "CB"))
                       if any(r.code.pk == s[c].pk and r.codings for r in book)}
    detail = {k for k, c in (("a", "CA"), ("b", "CB"))
              if client.get(u("code_detail", s, s[c].pk)).context["count"]}
    out["code_detail"] = detail
    memo_ok = client.get(u("memo_edit", s, s["memo"].pk)).status_code != 404 or \
        "private thought" in body
    out["memo"] = {"b"} if memo_ok else set()
    return out


@pytest.mark.parametrize("revealed", [False, True])
def test_every_address_follows_the_blind_rule(s, revealed):
    """Every actor sees exactly the codings the rule allows, by every address."""
    if revealed:
        s["study"].revealed_at = timezone.now()
        s["study"].save()
    wrong = []
    for actor in ACTORS:
        client = client_for(s, actor)
        want = expected(actor, revealed)
        got = seen_by_every_address(client, s)
        if actor == "visitor":
            r = client.get(u("source_code", s, s["source"].pk))
            if r.status_code != 302 or "/accounts/login/" not in r["Location"]:
                wrong.append(f"visitor: {r.status_code}")
            continue
        if want is None:
            if got is not None:
                wrong.append(f"{actor}: expected 404 everywhere, got {got}")
            continue
        for address, seen in got.items():
            allowed = want if address != "memo" else want & {"b"}
            if seen != allowed:
                wrong.append(f"{actor} {address}: saw {seen}, expected {allowed}")
    assert not wrong, "\n".join(wrong)


def test_outsiders_get_404_on_every_address(s):
    """Every page and action of the codebook, coding and analysis is a missing page outside
    the team, hub staff included; nothing changes."""
    src = s["source"].pk
    gets = [u(n, s) for n in ("codebook", "codes_css", "retrieve", "analysis", "cooccurrence",
                              "analysis_search", "memo_new")] + [
        u("code_detail", s, s["CA"].pk), u("source_code", s, src),
        u("source_codings_json", s, src), u("memo_edit", s, s["memo"].pk),
        u("retrieve_export", s, "csv") + f"?code={s['CA'].pk}"]
    posts = [u("code_new", s), u("codebook_starter", s), u("study_reveal", s),
             u("coding_add", s, src), u("coding_remove", s, s["a"].pk),
             u("memo_delete", s, s["memo"].pk), u("code_detail", s, s["CA"].pk)]
    for actor in ("outsider", "staff"):
        client = client_for(s, actor)
        for address in gets:
            assert client.get(address).status_code == 404, (actor, address)
        for address in posts:
            assert client.post(address, {"name": "x", "colour": "#000000", "action": "delete",
                                         "confirm": "yes", "start": 0, "end": 5,
                                         "codes": [s["CA"].pk]}).status_code == 404, (
                actor, address)
    s["study"].refresh_from_db()
    assert s["study"].revealed_at is None
    assert s["study"].codes.count() == 2 and s["source"].codings.count() == 2


def test_blind_coder_cannot_touch_anothers_coding(s):
    """Coder A cannot remove, annotate or read the memo of coder B's coding while blind."""
    client = client_for(s, "coder")
    assert client.post(u("coding_remove", s, s["b"].pk)).status_code == 404
    assert client.get(u("memo_new", s), {"coding": s["b"].pk}).status_code == 404
    assert client.post(u("memo_new", s), {"coding": s["b"].pk, "text": "x"}).status_code == 404
    assert client.post(u("memo_delete", s, s["memo"].pk)).status_code == 404
    assert s["source"].codings.count() == 2 and Memo.objects.count() == 1


def test_viewer_cannot_code_or_memo(s):
    client = client_for(s, "viewer")
    src = s["source"].pk
    for address, data in ((u("coding_add", s, src), {"start": 0, "end": 5,
                                                     "codes": [s["CA"].pk]}),
                          (u("code_new", s), {"name": "x", "colour": "#000000"}),
                          (u("memo_new", s), {"source": src, "text": "x"}),
                          (u("coding_remove", s, s["a"].pk), {})):
        assert client.post(address, data).status_code == 404, address
    assert s["source"].codings.count() == 2 and Memo.objects.count() == 1


def test_codebook_and_coding_predicates_as_a_table(s):
    """Who shapes the codebook, adds codes and removes which coding, blind and revealed, and
    nobody once the study is archived."""
    from hub import policy

    shape = {a for a in ACTORS[:-1] if policy.can_shape_codebook(s[a], s["study"])}
    add = {a for a in ACTORS[:-1] if policy.can_add_code(s[a], s["study"])}
    assert shape == {"lead"} and add == {"lead", "coder", "coder2"}
    removes_a = {a for a in ACTORS[:-1] if policy.can_remove_coding(s[a], s["a"])}
    assert removes_a == {"coder"}  # blind: the lead cannot even see it
    s["study"].revealed_at = timezone.now()
    s["study"].save()
    s["a"].source.study.refresh_from_db()
    removes_a = {a for a in ACTORS[:-1] if policy.can_remove_coding(s[a], s["a"])}
    assert removes_a == {"coder", "lead"}
    s["study"].status = "archived"
    s["study"].save()
    s["a"].source.study.refresh_from_db()
    assert not any(policy.can_shape_codebook(s[a], s["study"]) or policy.can_add_code(
        s[a], s["study"]) or policy.can_remove_coding(s[a], s["a"]) for a in ACTORS[:-1])
