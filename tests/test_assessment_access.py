"""Engagement assessment's access rules as a full matrix, asked through every surface.

Fifteen actors × three audiences (team, members, public) × a round that is open or closed,
plus one initiative led elsewhere and three programmes, one per audience, that hold all seven
initiatives. Every submitted response carries a note with its own secret word; one response is
left unsent with a note of its own. The expected answer for every combination is written out
below from the rules in the policy's docstring, in plain Python and without asking the policy,
then compared with the predicates, their queryset twins and the pages. A leak is any surface
that shows an initiative, a round's results, a note or a respondent to someone the table says
may not have it, or that answers a forbidden object differently from a missing one.

The world is built once per module inside a transaction that is rolled back at the end; each
test runs in a savepoint of its own, and the round actions that change something are undone
as soon as they have been checked.
"""

import re
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from hub import policy
from hub.assessment import services
from hub.assessment.models import (
    Answer,
    Initiative,
    Perspective,
    Programme,
    Response,
    Round,
)
from hub.core.models import AuditEvent, OutgoingEmail
from hub.members.models import Membership, Organisation, User
from hub.members.tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    UserFactory,
    enrol_mfa,
)

pytestmark = pytest.mark.django_db

ACTORS = [
    "visitor", "applicant", "member", "lead_member", "lead_editor", "lead_admin",
    "partner_member", "facilitator", "other_facilitator", "moderator", "staff", "staff_no_mfa",
    "deactivated", "respondent", "link_respondent",
]
AUDIENCES = ["team", "members", "public"]
STATES = ["open", "closed"]
MISSING = 999999

# --- The table, from the rules -----------------------------------------------------------------

# Signed out as far as the site can tell: pages that need an account send them to sign in. The
# deactivated account was an editor of the lead organisation and a facilitator until then.
SIGNED_OUT = {"visitor", "deactivated", "link_respondent"}
# Approved, active members. Applicants see what visitors see; the moderator, staff without
# two-step sign-in and the facilitator of some other initiative are plain members here.
MEMBERS = set(ACTORS) - SIGNED_OUT - {"applicant"}
STAFF = {"staff"}
# The six initiatives under test are led by the lead organisation and name the partner one.
TEAM = frozenset({"facilitator", "lead_member", "lead_editor", "lead_admin", "partner_member"})
RUNNERS = frozenset({"facilitator", "lead_editor", "lead_admin"})
# The seventh is led by another organisation and run by its own facilitator.
ELSEWHERE = frozenset({"other_facilitator"})
# The programmes belong to the lead organisation; staff made them.
PROGRAMME_TEAM = {"lead_member", "lead_editor", "lead_admin"}
PROGRAMME_RUNNERS = {"lead_editor", "lead_admin"}
ROUND_ACTIONS = ["round_invite", "round_links", "round_links_withdraw", "round_remind",
                 "round_close"]


def sees_initiative(actor: str, item) -> bool:
    """Its audience: everyone, all members, or its team; staff see every initiative."""
    if actor in STAFF or item.audience == "public":
        return True
    return actor in MEMBERS and (item.audience == "members" or actor in item.team)


def manages(actor: str, item) -> bool:
    """Its facilitators, the lead organisation's editors and admins, and staff with MFA."""
    return actor in STAFF or actor in item.runners


def sees_results(actor: str, item) -> bool:
    """Those who run it as answers come in; its audience once the round has closed."""
    if item.round is None:
        return False
    return manages(actor, item) or (item.state == "closed" and sees_initiative(actor, item))


def sees_programme(actor: str, audience: str) -> bool:
    if actor in STAFF or audience == "public":
        return True
    return actor in MEMBERS and (audience == "members" or actor in PROGRAMME_TEAM)


def manages_programme(actor: str) -> bool:
    return actor in STAFF or actor in PROGRAMME_RUNNERS


def may_answer(actor: str, owner: str, item) -> bool:
    """Nobody but the respondent reaches a response, and only while its round is open."""
    return actor == owner and item.state == "open"


# --- The world ---------------------------------------------------------------------------------

@dataclass
class Item:
    initiative: Initiative
    audience: str
    state: str | None  # of its round; None when it has none
    team: frozenset
    runners: frozenset
    round: Round | None = None
    notes: set[str] = field(default_factory=set)  # the words in its submitted notes
    own_notes: dict[str, str] = field(default_factory=dict)  # respondent -> word
    responses: list[tuple[str, Response]] = field(default_factory=list)  # (owner, response)
    used_token: str = ""  # the private link the link respondent opened
    key: str = ""  # the link respondent's resume key

    @property
    def name(self) -> str:
        return self.initiative.name

    @property
    def title(self) -> str:
        return self.round.title if self.round else "no-round-at-all"

    def __repr__(self):
        return self.name


@dataclass
class World:
    actors: dict[str, User | None]
    items: list[Item]
    programmes: dict[str, Programme]
    identities: dict[str, set[str]]  # whoever answered -> their name and address
    newcomer: User
    link_client: Client

    @property
    def rounds(self) -> list[Item]:
        return [item for item in self.items if item.round is not None]


def _person(name: str, **kwargs) -> User:
    slug = name.lower().replace(" ", ".")
    return UserFactory(email=f"{slug}@example.org", profile__display_name=name, **kwargs)


def _answer_everything(round_: Round, response: Response, value: int) -> str:
    """Answer every question, with a note on the first one (on the first page)."""
    word = f"noteword{response.pk}x"
    Answer.objects.bulk_create([
        Answer(response=response, indicator=key, value=value, note=word if i == 0 else "")
        for i, key in enumerate(round_.instrument.indicators)])
    return word


def _build() -> World:
    lead = OrganisationFactory(name="Lead Forum", slug="lead-forum")
    partner = OrganisationFactory(name="Partner Police Unit", slug="partner-unit",
                                  kind=Organisation.Kind.POLICE)
    elsewhere = OrganisationFactory(name="Elsewhere Club", slug="elsewhere-club")
    a: dict[str, User | None] = {"visitor": None, "link_respondent": None}
    a["applicant"] = _person("Ann Applicant", standing=User.Standing.APPLICANT)
    a["member"] = _person("Mo Member")
    for key, org, role in [("lead_member", lead, Membership.Role.MEMBER),
                           ("lead_editor", lead, Membership.Role.EDITOR),
                           ("lead_admin", lead, Membership.Role.ADMIN),
                           ("partner_member", partner, Membership.Role.MEMBER),
                           ("deactivated", lead, Membership.Role.EDITOR)]:
        a[key] = MembershipFactory(organisation=org, role=role,
                                   user__profile__display_name=key.replace("_", " ").title()).user
    a["facilitator"] = _person("Fran Facilitator")
    a["other_facilitator"] = _person("Otto Otherfac")
    a["moderator"] = _person("Mia Moderator", is_moderator=True)
    a["staff"] = _person("Stan Staff", is_staff=True)
    a["staff_no_mfa"] = _person("Sue Unenrolled", is_staff=True)
    a["respondent"] = _person("Rhea Respondent")
    for key in ("lead_admin", "moderator", "staff"):
        enrol_mfa(a[key])
    fillers = {key: _person(key.replace("_", " ").title() + " Person")
               for key in ("police_one", "police_two", "community_one", "community_two",
                           "drafter")}
    newcomer = _person("Ned Newcomer")
    staff = a["staff"]
    link_client = Client()

    def initiative(name, audience, org, facilitators):
        made = services.create_initiative(
            staff, name=name, area="Northfield", country="GB", lead_organisation=org,
            partner_organisations=[partner] if org == lead else [],
            kind=Initiative.Kind.CONTACT_UNIT, description="Officers meet groups monthly.",
            audience=audience)
        for person in facilitators:
            services.add_facilitator(staff, made, person.email)
        services.remove_facilitator(staff, made, staff)
        return made

    items = [Item(initiative("Initiative-elsewhere", "team", elsewhere,
                             [a["other_facilitator"]]), "team", None, ELSEWHERE, ELSEWHERE)]
    now = timezone.now()
    facilitator = a["facilitator"]
    for audience in AUDIENCES:
        for state in STATES:
            item = Item(initiative(f"Initiative-{audience}-{state}", audience, lead,
                                   [facilitator, a["deactivated"]]),
                        audience, state, TEAM, RUNNERS)
            round_ = services.open_round(
                facilitator, item.initiative, title=f"Round-{audience}-{state}",
                opens_at=now - timedelta(days=2), closes_at=now + timedelta(days=14))
            item.round = round_
            services.invite_members(facilitator, round_, [
                p.email for p in [a["respondent"], *fillers.values()]])
            # One link for the link respondent, one left unused (for withdrawing).
            item.used_token, _ = services.create_links(facilitator, round_, 2)
            opened = link_client.post(reverse("assessment:link", args=[item.used_token]),
                                      {"perspective": Perspective.POLICE})
            item.key = re.search(r"/a/([^/]+)/1/$", opened["Location"]).group(1)
            link_client.get(opened["Location"])  # as a browser would, showing the message
            answering = [("police_one", Perspective.POLICE, 5),
                         ("police_two", Perspective.POLICE, 5),
                         ("community_one", Perspective.COMMUNITY_MEMBER, 2),
                         ("community_two", Perspective.COMMUNITY_MEMBER, 2),
                         ("respondent", Perspective.COMMUNITY_MEMBER, 2)]
            for owner, perspective, value in answering:
                person = a.get(owner) or fillers[owner]
                response = services.start_member_response(person, round_, perspective)
                item.own_notes[owner] = _answer_everything(round_, response, value)
                services.submit_response(person, response)
                item.responses.append((owner, response))
            response = services.response_for_key(item.key)
            item.own_notes["link_respondent"] = _answer_everything(round_, response, 4)
            services.submit_response(None, response, item.key)
            item.responses.append(("link_respondent", response))
            item.notes = set(item.own_notes.values())
            # Started and never sent: its note must never be shown anywhere.
            draft = services.start_member_response(fillers["drafter"], round_,
                                                   Perspective.POLICE)
            services.save_answer(fillers["drafter"], draft, next(iter(
                round_.instrument.indicators)), value=1, note=f"draftword{draft.pk}x")
            item.responses.append(("drafter", draft))
            if state == "closed":
                services.close_round(facilitator, round_)
            round_.refresh_from_db()
            items.append(item)

    programmes = {audience: services.save_programme(
        staff, None, initiatives=[item.initiative for item in items],
        name=f"Programme-{audience}", area="Northfield", organisation=lead, audience=audience)
        for audience in AUDIENCES}
    # Deactivated last, so the account was an editor and a facilitator until now.
    User.objects.filter(pk=a["deactivated"].pk).update(is_active=False)
    a["deactivated"].refresh_from_db()
    identities = {key: {person.profile.display_name, person.email} for key, person in
                  [("respondent", a["respondent"]), *fillers.items()]}
    return World(a, items, programmes, identities, newcomer, link_client)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), override_settings(
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        with transaction.atomic():
            built = _build()
            yield built
            transaction.set_rollback(True)


def _drawn_once(draw):
    drawn = {}

    def cached(*args, **kwargs):
        # The inputs' reprs name every figure, round and event drawn; nothing the charts
        # read changes while the module runs.
        key = repr((args, sorted(kwargs.items())))
        if key not in drawn:
            drawn[key] = draw(*args, **kwargs)
        return drawn[key]

    return cached


@pytest.fixture(scope="module", autouse=True)
def _each_chart_drawn_once():
    """Drawing a chart takes about a tenth of a second, and the matrix asks for the same few
    dozen charts hundreds of times: keep each drawing by its exact input. What a page shows is
    unchanged, labels included, so a chart that named an initiative would still be caught."""
    from hub.assessment import charts

    with pytest.MonkeyPatch.context() as patch:
        for name in ("dimension_chart", "history_chart", "spread_chart"):
            patch.setattr(charts, name, _drawn_once(getattr(charts, name)))
        yield


def test_the_world_is_what_the_table_assumes(world):
    """Each round holds three police and three community answers, so results exist."""
    assert len(world.items) == 7 and len(world.rounds) == 6
    for item in world.rounds:
        assert {k: v["n"] for k, v in item.round.tally.items()} == {
            "police": 3, "community_member": 3}, item
        assert item.round.state == item.state, item
        assert item.round.links.filter(used=False, revoked_at=None).count() == 1
    assert not world.actors["deactivated"].is_active


def client_for(world: World, actor: str) -> Client:
    if actor == "link_respondent":
        return world.link_client
    client = Client()
    if world.actors[actor] is not None:
        client.force_login(world.actors[actor])
    return client


def user_for(world: World, actor: str):
    user = world.actors[actor]
    if user is None:
        return AnonymousUser()
    policy.forget(user)
    return user


# --- The policy and its queryset twins ---------------------------------------------------------

def test_predicates_and_their_queryset_twins_agree_with_the_table(world):
    """For every actor and object, the predicate, its queryset twin and the table agree."""
    checked, wrong = 0, []
    all_initiatives = Initiative.objects.all()
    for actor in ACTORS:
        user = user_for(world, actor)
        visible = set(policy.visible_initiatives(user, all_initiatives)
                      .values_list("pk", flat=True))
        managed = set(policy.managed_initiatives(user, all_initiatives)
                      .values_list("pk", flat=True))
        with_results = set(Round.objects.filter(policy.results_visible_q(user))
                           .values_list("pk", flat=True))
        programmes = set(policy.visible_programmes(user, Programme.objects.all())
                         .values_list("pk", flat=True))
        outcomes = []
        for item in world.items:
            i = item.initiative
            outcomes += [
                ("can_view_initiative", item, policy.can_view_initiative(user, i),
                 sees_initiative(actor, item)),
                ("visible_initiatives", item, i.pk in visible, sees_initiative(actor, item)),
                ("can_manage_initiative", item, policy.can_manage_initiative(user, i),
                 manages(actor, item)),
                ("managed_initiatives", item, i.pk in managed, manages(actor, item)),
            ]
        for item in world.rounds:
            r = item.round
            invited_and_open = actor == "respondent" and item.state == "open"
            outcomes += [
                ("can_view_results", item, policy.can_view_results(user, r),
                 sees_results(actor, item)),
                ("results_visible_q", item, r.pk in with_results, sees_results(actor, item)),
                ("can_respond", item, policy.can_respond(user, r), invited_and_open),
            ]
            key = item.key if actor == "link_respondent" else None
            for owner, response in item.responses:
                response = Response.objects.select_related("round").get(pk=response.pk)
                outcomes.append((f"can_answer[{owner}]", item,
                                 policy.can_answer(user, response, key),
                                 may_answer(actor, owner, item)))
        for audience, programme in world.programmes.items():
            outcomes += [
                ("can_view_programme", audience, policy.can_view_programme(user, programme),
                 sees_programme(actor, audience)),
                ("visible_programmes", audience, programme.pk in programmes,
                 sees_programme(actor, audience)),
                ("can_manage_programme", audience,
                 policy.can_manage_programme(user, programme), manages_programme(actor)),
            ]
        for name, obj, actual, expected in outcomes:
            checked += 1
            if actual != expected:
                wrong.append((actor, name, obj, actual, expected))
    # Per actor: 7 initiatives × 4, 6 rounds × (3 + 7 responses), 3 programmes × 3.
    assert checked == len(ACTORS) * (7 * 4 + 6 * (3 + 7) + 3 * 3) == 1455
    assert wrong == [], "\n".join(map(str, wrong))


# --- The pages ---------------------------------------------------------------------------------

WORD = re.compile(r"(?:note|draft)word\d+x")


def _notes(text: str) -> set[str]:
    return set(WORD.findall(text))


def _shape(response, path: str) -> tuple:
    """A response with what legitimately differs between two requests taken out: the masked
    CSRF token and the address asked for."""
    def clean(text):
        return text.replace(path, "PATH").replace(path.replace("/", "%2F"), "PATH")

    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
    return response.status_code, clean(body), clean(response.get("Location", ""))


def _private(world: World, actor: str, text: str, allowed: set[str]) -> bool:
    """No note but those allowed, and no respondent's identity beside any note."""
    found = _notes(text)
    if not found <= allowed:
        return False
    if found:
        others = [token for owner, tokens in world.identities.items() if owner != actor
                  for token in tokens]
        return not any(token in text for token in others)
    return True


def _section(html: str, start: str, end: str | None = None) -> str:
    if start not in html:
        return ""
    rest = html.split(start, 1)[1]
    return rest.split(end, 1)[0] if end else rest


class Matrix:
    """Collects one row per actor, surface and object, and what went wrong in it."""

    def __init__(self):
        self.rows = 0
        self.deviations: list[tuple] = []

    def row(self, actor: str, surface: str, obj, **checks: bool) -> None:
        self.rows += 1
        failed = sorted(name for name, ok in checks.items() if not ok)
        if failed:
            self.deviations.append((actor, surface, obj, failed))

    def report(self) -> str:
        return "\n".join(map(str, self.deviations))


def _forbidden(response, path, missing, missing_path, actor) -> dict[str, bool]:
    """A forbidden object answers exactly like a missing one: 404, or sign in first."""
    expected = 302 if actor in SIGNED_OUT else 404
    return {"status": response.status_code == expected,
            "like_missing": _shape(response, path) == _shape(missing, missing_path)}


def _missing(client) -> dict[str, tuple]:
    paths = {
        "initiative": reverse("assessment:initiative", args=[MISSING]),
        "report": reverse("assessment:report", args=[MISSING]),
        "round": reverse("assessment:round", args=[MISSING]),
        "respond": reverse("assessment:respond", args=[MISSING]),
        "answer": reverse("assessment:answer", args=[MISSING, 1]),
        "review": reverse("assessment:answer", args=[MISSING, 8]),
        "programme": reverse("assessment:programme", args=[MISSING]),
        "programme_edit": reverse("assessment:programme_edit", args=[MISSING]),
        "initiative_edit": reverse("assessment:initiative_edit", args=[MISSING]),
        "round_new": reverse("assessment:round_new", args=[MISSING]),
    }
    return {name: (client.get(path), path) for name, path in paths.items()}


def test_every_page_shows_each_actor_only_what_the_table_allows(world):
    """Lists, pages and round pages, for every actor, object and state."""
    matrix = Matrix()
    for actor in ACTORS:
        client = client_for(world, actor)
        missing = _missing(client)
        _initiative_pages(matrix, world, actor, client, missing)
        _round_pages(matrix, world, actor, client, missing)
        _programme_pages(matrix, world, actor, client, missing)
    print(f"page matrix: {matrix.rows} combinations, {len(matrix.deviations)} deviations")
    # Per actor: 7 initiatives × (home, compare, detail, report, edit and new round); 6 rounds
    # × (manage, respond, answer, review, resume key, spent link); 3 programmes × (home, page,
    # edit, its 7 rows).
    assert matrix.rows == len(ACTORS) * (7 * 5 + 6 * 6 + 3 * (3 + 7)) == 1515
    assert matrix.deviations == [], matrix.report()


def _initiative_pages(matrix, world, actor, client, missing):
    home = client.get(reverse("assessment:home")).content.decode()
    listed = _section(home, 'id="initiatives"', 'id="programmes"')
    compare = client.get(reverse("assessment:compare"), {
        "initiative": [item.initiative.pk for item in world.items]}).content.decode()
    for item in world.items:
        sees, runs, results = (sees_initiative(actor, item), manages(actor, item),
                               sees_results(actor, item))
        matrix.row(actor, "home", item, listed=(item.name in listed) == sees,
                   private=_private(world, actor, home, set()))
        matrix.row(actor, "compare", item, listed=(item.name in compare) == sees,
                   results=(item.title in compare) == results,
                   private=_private(world, actor, compare, set()))

        path = reverse("assessment:initiative", args=[item.initiative.pk])
        response = client.get(path)
        html = response.content.decode()
        if sees:
            checks = {"status": response.status_code == 200,
                      "rounds": (item.title in html) == (results or (runs and bool(item.round))),
                      "controls": ("Open a round" in html) == runs}
        else:
            checks = _forbidden(response, path, *missing["initiative"], actor)
            checks["status"] = response.status_code == 404
        matrix.row(actor, "detail", item, private=_private(world, actor, html, set()), **checks)

        path = reverse("assessment:report", args=[item.initiative.pk])
        response = client.get(path)
        html = response.content.decode()
        allowed = item.notes if results else set()
        if not sees:
            checks = _forbidden(response, path, *missing["report"], actor)
            checks["status"] = response.status_code == 404
        elif results:
            checks = {"status": response.status_code == 200,
                      "results": item.title in html and "Overall position" in html,
                      "notes": _notes(html) == item.notes}
        else:
            checks = {"status": response.status_code == 200,
                      "no_results": "There are no results to show yet" in html
                      and item.title not in html}
            if item.round:
                # Asking for the round by number changes nothing.
                asked = client.get(path, {"round": item.round.pk}).content.decode()
                checks["round_asked"] = ("There are no results to show yet" in asked
                                         and _notes(asked) == set())
        matrix.row(actor, "report", item, private=_private(world, actor, html, allowed),
                   **checks)

        checks = {}
        for surface in ("initiative_edit", "round_new"):
            path = reverse(f"assessment:{surface}", args=[item.initiative.pk])
            response = client.get(path)
            if runs:
                checks[surface] = response.status_code == 200
            else:
                checks.update({f"{surface} {name}": ok for name, ok in _forbidden(
                    response, path, *missing[surface], actor).items()})
        matrix.row(actor, "edit", item, **checks)


def _round_pages(matrix, world, actor, client, missing):
    home = client.get(reverse("assessment:home")).content.decode()
    invited = _section(home, 'id="to-answer"', 'id="initiatives"')
    respondent_name = world.actors["respondent"].profile.display_name
    last = len(world.rounds[0].round.instrument.dimensions) + 1
    for item in world.rounds:
        pk, is_open = item.round.pk, item.state == "open"

        path = reverse("assessment:round", args=[pk])
        response = client.get(path)
        html = response.content.decode()
        if manages(actor, item):
            checks = {"status": response.status_code == 200,
                      "invitees_by_name": respondent_name in html,
                      "no_results": "Overall position" not in html}
        else:
            checks = _forbidden(response, path, *missing["round"], actor)
        matrix.row(actor, "round_manage", item, private=_private(world, actor, html, set()),
                   **checks)

        path = reverse("assessment:respond", args=[pk])
        response = client.get(path)
        html = response.content.decode()
        checks = {"invitation_listed":
                  (item.title in invited) == (actor == "respondent" and is_open)}
        if actor == "respondent":
            checks["status"] = response.status_code == (302 if is_open else 403)
            if is_open:
                checks["to_answers"] = response["Location"] == reverse(
                    "assessment:answer", args=[pk, 1])
        else:
            # Only those asked learn that a round exists, even if they see the initiative.
            checks.update(_forbidden(response, path, *missing["respond"], actor))
        matrix.row(actor, "respond", item, private=_private(world, actor, html, set()),
                   **checks)

        own = item.own_notes.get(actor, "")
        for surface, step, expected_notes in (("answer", 1, {own}), ("review", last, set())):
            path = reverse("assessment:answer", args=[pk, step])
            response = client.get(path)
            html = response.content.decode()
            if actor == "respondent":
                checks = {"status": response.status_code == (200 if is_open else 410)}
                if is_open:
                    checks["own_notes_only"] = _notes(html) == expected_notes
            else:
                checks = _forbidden(response, path, *missing[surface], actor)
            matrix.row(actor, surface, item, private=_private(world, actor, html, {own}),
                       **checks)

        # A resume key: the link respondent's own, anyone else's one that was never issued.
        key = item.key if actor == "link_respondent" else "never-issued-" + item.key[:20]
        response = client.get(reverse("assessment:answer_key", args=[key, 1]))
        html = response.content.decode()
        if actor == "link_respondent":
            checks = {"status": response.status_code == (200 if is_open else 410)}
            if is_open:
                checks["own_notes_only"] = _notes(html) == {own}
        else:
            checks = {"status": response.status_code == 404}
        matrix.row(actor, "answer_key", item, private=_private(world, actor, html, {own}),
                   **checks)

        # The spent link leads back only the browser that spent it, never the link's maker.
        response = client.get(reverse("assessment:link", args=[item.used_token]))
        html = response.content.decode()
        if actor == "link_respondent":
            checks = {"status": response.status_code == 302,
                      "to_answers": response["Location"] == reverse(
                          "assessment:answer_key", args=[item.key, 1])}
        else:
            checks = {"status": response.status_code == 410, "spent": "has been used" in html}
        matrix.row(actor, "link", item, private=_private(world, actor, html, set()), **checks)


def _hidden_note(count: int) -> str:
    return f"{count} initiative{'s' if count != 1 else ''} in this programme"


def _programme_pages(matrix, world, actor, client, missing):
    home = client.get(reverse("assessment:home")).content.decode()
    listed = _section(home, 'id="programmes"')
    for audience, programme in world.programmes.items():
        sees = sees_programme(actor, audience)
        matrix.row(actor, "home_programmes", audience,
                   listed=(programme.name in listed) == sees)
        path = reverse("assessment:programme", args=[programme.pk])
        response = client.get(path)
        html = response.content.decode()
        if sees:
            hidden = sum(not sees_initiative(actor, item) for item in world.items)
            checks = {"status": response.status_code == 200,
                      "hidden_count": (_hidden_note(hidden) in html) == bool(hidden),
                      "controls": (reverse("assessment:programme_edit", args=[programme.pk])
                                   in html) == manages_programme(actor)}
        else:
            checks = _forbidden(response, path, *missing["programme"], actor)
            checks["status"] = response.status_code == 404
        matrix.row(actor, "programme", audience, private=_private(world, actor, html, set()),
                   **checks)
        edit_path = reverse("assessment:programme_edit", args=[programme.pk])
        edit = client.get(edit_path)
        if manages_programme(actor):
            checks = {"status": edit.status_code == 200}
        else:
            checks = _forbidden(edit, edit_path, *missing["programme_edit"], actor)
        matrix.row(actor, "programme_edit", audience, **checks)
        for item in world.items:
            matrix.row(actor, "programme_row", (audience, item),
                       listed=(item.name in html) == (sees and sees_initiative(actor, item)),
                       results=(item.title in html) == (sees and sees_results(actor, item)))


# --- Round actions -----------------------------------------------------------------------------

def _snapshot(round_: Round) -> dict:
    round_ = Round.objects.get(pk=round_.pk)
    return {
        "invitations": round_.invitations.count(),
        "links": round_.links.count(),
        "withdrawn": round_.links.exclude(revoked_at=None).count(),
        "reminded_at": round_.reminded_at,
        "closed_early_at": round_.closed_early_at,
        "responses": round_.responses.count(),
        "emails": OutgoingEmail.objects.count(),
        "audit": AuditEvent.objects.filter(action__startswith="assessment.").count(),
    }


# What each action changes when someone who runs the initiative asks for it, by round state.
CHANGES = {
    ("round_invite", "open"): "invitations", ("round_links", "open"): "links",
    ("round_links_withdraw", "open"): "withdrawn", ("round_links_withdraw", "closed"): "withdrawn",
    ("round_remind", "open"): "reminded_at", ("round_close", "open"): "closed_early_at",
}


def test_round_actions_are_missing_for_everyone_but_those_who_run_it(world):
    """Invite, links, withdraw, remind and close: 404 and no change unless one manages it."""
    matrix = Matrix()
    data = {"round_invite": {"addresses": world.newcomer.email}, "round_links": {"count": 1}}
    # Every action is undone straight away, so each round is always as it was built.
    untouched = {item.round.pk: _snapshot(item.round) for item in world.rounds}
    for actor in ACTORS:
        client = client_for(world, actor)
        missing_path = reverse("assessment:round_close", args=[MISSING])
        missing = client.post(missing_path)
        for item in world.rounds:
            runs = manages(actor, item)
            before = untouched[item.round.pk]
            for action in ROUND_ACTIONS:
                path = reverse(f"assessment:{action}", args=[item.round.pk])
                # Undo whatever it did, so every actor meets the same world.
                with transaction.atomic():
                    response = client.post(path, data.get(action, {}))
                    after = _snapshot(item.round)
                    transaction.set_rollback(True)
                changed = sorted(k for k in before if before[k] != after[k])
                expected_change = CHANGES.get((action, item.state)) if runs else None
                if runs:
                    status = 200 if (action, item.state) == ("round_links", "open") else 302
                    checks = {"status": response.status_code == status}
                else:
                    checks = _forbidden(response, path, missing, missing_path, actor)
                checks["change"] = (expected_change in changed if expected_change
                                    else changed == [])
                checks["private"] = _private(world, actor, response.content.decode(), set())
                matrix.row(actor, action, item, **checks)
    print(f"action matrix: {matrix.rows} combinations, {len(matrix.deviations)} deviations")
    assert matrix.rows == len(ACTORS) * 6 * 5 == 450
    assert matrix.deviations == [], matrix.report()


# --- Exports -----------------------------------------------------------------------------------

# PDF rendering is slow: a sample of actors and initiatives on both sides of every rule.
PDF_ACTORS = ["visitor", "member", "partner_member", "facilitator", "staff"]
PDF_ITEMS = ["Initiative-team-open", "Initiative-members-closed"]


def test_exports_follow_the_table(world):
    """Report CSV and PDF, programme CSV: the same answers as the pages they export."""
    matrix = Matrix()
    for actor in ACTORS:
        client = client_for(world, actor)
        for item in world.items:
            sees, results = sees_initiative(actor, item), sees_results(actor, item)
            response = client.get(reverse("assessment:report_csv", args=[item.initiative.pk]))
            text = response.content.decode()
            checks = {"status": response.status_code == (200 if sees else 404),
                      "private": _private(world, actor, text, item.notes if results else set())}
            if sees and results:
                checks["results"] = "Police officer" in text
            elif sees:
                checks["no_results"] = item.title not in text and "Police officer" not in text
            matrix.row(actor, "report_csv", item, **checks)
            if actor in PDF_ACTORS and item.name in PDF_ITEMS:
                response = client.get(reverse("assessment:report_pdf",
                                              args=[item.initiative.pk]))
                matrix.row(actor, "report_pdf", item,
                           status=response.status_code == (200 if sees else 404),
                           pdf=(response.content.startswith(b"%PDF")) == sees)
        for audience, programme in world.programmes.items():
            sees = sees_programme(actor, audience)
            response = client.get(reverse("assessment:programme_csv", args=[programme.pk]))
            text = response.content.decode() if response.status_code == 200 else ""
            checks = {"status": response.status_code == (200 if sees else 404),
                      "private": _private(world, actor, text, set())}
            for item in world.items:
                checks[f"listed {item}"] = (item.name in text) == (
                    sees and sees_initiative(actor, item))
                checks[f"results {item}"] = item.title not in text or sees_results(actor, item)
            matrix.row(actor, "programme_csv", audience, **checks)
    print(f"export matrix: {matrix.rows} combinations, {len(matrix.deviations)} deviations")
    # Per actor: 7 report CSVs and 3 programme CSVs; and five actors' PDFs of two initiatives.
    assert matrix.rows == len(ACTORS) * (7 + 3) + len(PDF_ACTORS) * len(PDF_ITEMS) == 160
    assert matrix.deviations == [], matrix.report()
