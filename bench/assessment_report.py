"""How the assessment reports hold up for a large programme.

Builds a programme of 200 initiatives, each assessed in 3 closed rounds of 50 submitted
responses (every indicator of the current instrument answered, some "don't know", a few
notes), tallied with ``services.retally`` as submitting would. Then it times, over HTTP from
the real server (``manage.py serve``), the programme page and one initiative's report page,
signed in as a plain member and as a facilitator (an editor of the lead organisation). In
process, with the test client, it counts the queries each page makes at data sizes that
differ only in responses per round, and only in the number of initiatives. Everything lives
in a scratch data directory and a scratch SQLite database; nothing of the developer's own
data is touched.

    .venv/bin/python bench/assessment_report.py [--initiatives 200] [--rounds 3]
        [--responses 50] [--requests 100] [--quick] [--profile] [--keep]

The last line printed is one JSON object with every figure and the targets.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import math
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from hubserver import HubServer as Server

ROOT = Path(__file__).resolve().parent.parent
PROGRAMME_P95_LIMIT_MS = 300
CHUNK = 10  # initiatives whose rounds, responses and answers are inserted together
WARM_UP = 4  # requests per page before timing: both web workers load their code

# Uneven on purpose: with 50 responses the two smallest perspectives fall under a round's
# minimum group and are pooled; with 10, most of them are pooled or left out.
PERSPECTIVE_WEIGHTS = {"community_member": 30, "police": 22, "young_person": 14,
                       "practitioner": 12, "community_org": 10, "statutory": 6,
                       "policy_maker": 4, "researcher": 2}
PERSPECTIVE_LEAN = {"community_member": -0.4, "police": 0.7, "young_person": -0.7,
                    "practitioner": 0.0, "community_org": -0.2, "statutory": 0.5,
                    "policy_maker": 0.6, "researcher": -0.1}
DONT_KNOW = 0.07
NOTE = 0.015
NOTES = ["The steering group now includes two residents' associations.",
         "Officers attend the monthly community forum and answer questions.",
         "Plans were shared with the mosque committee only after they were agreed.",
         "Young people said they were not told what the sessions were for.",
         "The quarterly review is published on the council's website.",
         "Referrals are discussed at the panel before anything is recorded."]
KINDS = ["neighbourhood", "spo", "contact_unit", "community_led", "mentoring",
         "multi_agency", "other"]
ORGANISATIONS = [("Northshire Police", "police"), ("Riverside Community Trust", "community"),
                 ("Westborough Council", "local_authority"), ("Youth Voice Network", "youth")]


# --- The scratch hub ------------------------------------------------------------------------

def configure() -> Path:
    """Point the hub at a scratch data directory and database before Django starts."""
    for name in [n for n in os.environ if n.startswith("HUB_")]:
        del os.environ[name]
    scratch = Path(tempfile.mkdtemp(prefix="hub-bench-assessment-"))
    os.environ.update({"HUB_DATA_DIR": str(scratch), "DJANGO_SETTINGS_MODULE": "hub.settings",
                       "HUB_LOG_LEVEL": "WARNING",
                       "HUB_DB_NAME": str(scratch / "hub.sqlite3")})
    # Others edit the hub while a run lasts, and gunicorn may start new workers: a copy of the
    # working tree keeps the benchmark and every worker on one version of the code.
    shutil.copytree(ROOT / "hub", scratch / "code" / "hub",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "manage.py", scratch / "code")
    sys.path.insert(0, str(scratch / "code"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    return scratch


def cast():
    """The organisations, the plain member who reads, and a facilitator: an editor of the
    organisation that leads a third of the initiatives and owns the programme."""
    from hub.members.models import Membership, Organisation, Profile, User

    orgs = [Organisation.objects.create(name=name, slug=f"bench-{n}", kind=kind, country="GB")
            for n, (name, kind) in enumerate(ORGANISATIONS)]
    people = []
    for email, name, org, role in [("member@bench.example", "Bench Member", orgs[3], "member"),
                                   ("editor@bench.example", "Bench Editor", orgs[0], "editor")]:
        person = User.objects.create_user(email, None, standing="member")
        Profile.objects.create(user=person, display_name=name)
        Membership.objects.create(user=person, organisation=org, role=role)
        people.append(person)
    return orgs, people[0], people[1]


# --- The programme --------------------------------------------------------------------------

def build(label, *, initiatives, rounds, responses, orgs, owner, seed) -> dict:
    """A programme (audience: members) of initiatives with closed, submitted, tallied rounds."""
    from django.db import transaction

    from hub.assessment import services
    from hub.assessment.models import Audience, ContextEvent, Initiative, Programme

    rng = random.Random(seed)
    instrument = services.current_instrument()
    started = time.perf_counter()
    with transaction.atomic():
        programme = Programme.objects.create(
            name=f"Programme {label}", area="Northshire", country="GB", organisation=orgs[0],
            audience=Audience.MEMBERS, created_by=owner,
            description="Every initiative in the county, assessed each year.")
        made = Initiative.objects.bulk_create([Initiative(
            name=f"{label} initiative {n:03d}", area="Northshire", country="GB",
            lead_organisation=orgs[n % 3], kind=KINDS[n % len(KINDS)],
            description="Officers and residents meet monthly.", audience=Audience.MEMBERS,
            created_by=owner) for n in range(initiatives)])
        Programme.initiatives.through.objects.bulk_create([Programme.initiatives.through(
            programme_id=programme.pk, initiative_id=i.pk) for i in made])
        ContextEvent.objects.bulk_create([ContextEvent(
            initiative=i, happened_on=(i.created - timedelta(days=200 * k)).date(),
            kind="policy", title=f"Event {k}") for i in made for k in (1, 2)])
        made_rounds, answers = [], 0
        for start in range(0, len(made), CHUNK):
            chunk_rounds, chunk_answers = _assess(made[start:start + CHUNK], rounds, responses,
                                                  instrument, rng)
            made_rounds += chunk_rounds
            answers += chunk_answers
        inserted = time.perf_counter()
        for round_ in made_rounds:
            services.retally(round_)
    done = time.perf_counter()
    return {"programme": programme, "initiatives": made, "answers": answers,
            "build_seconds": round(inserted - started, 1),
            "retally_seconds": round(done - inserted, 1)}


def _assess(initiatives, rounds, responses, instrument, rng) -> tuple[list, int]:
    """Rounds, responses and answers for a few initiatives; returns (rounds, answer count)."""
    from django.utils import timezone

    from hub.assessment.models import Response, Round

    now = timezone.now()
    made_rounds = Round.objects.bulk_create([Round(
        initiative=initiative, instrument=instrument, title=f"Round {k + 1}",
        opens_at=now - timedelta(days=120 * (rounds - k) + 30),
        closes_at=now - timedelta(days=120 * (rounds - k))) for initiative in initiatives
        for k in range(rounds)])
    perspectives, weights = list(PERSPECTIVE_WEIGHTS), list(PERSPECTIVE_WEIGHTS.values())
    people = Response.objects.bulk_create([Response(
        round=round_, perspective=perspective, resume_hash=uuid.uuid4().hex,
        submitted_at=round_.closes_at - timedelta(days=1)) for round_ in made_rounds
        for perspective in rng.choices(perspectives, weights=weights, k=responses)])
    drift = {r.pk: 0.15 * (n % rounds) for n, r in enumerate(made_rounds)}  # later, kinder
    return made_rounds, _answer(people, drift, instrument, rng)


def _answer(people, drift, instrument, rng) -> int:
    """Every indicator answered: a point drawn around the initiative's lean on each dimension,
    shifted by perspective and drifting up by round; some "don't know", a few notes."""
    from hub.assessment.models import Answer

    indicators = [(key, item["dimension"]) for key, item in instrument.indicators.items()]
    dimensions = [d["key"] for d in instrument.dimensions]
    lean = {}
    answers = []
    for person in people:
        initiative = person.round.initiative_id
        if initiative not in lean:
            base = rng.uniform(1.8, 4.0)
            lean[initiative] = {d: base + rng.uniform(-0.6, 0.6) for d in dimensions}
        shift = PERSPECTIVE_LEAN[person.perspective] + drift[person.round_id]
        for key, dimension in indicators:
            if rng.random() < DONT_KNOW:
                answer = Answer(response=person, indicator=key, dont_know=True)
            else:
                value = round(lean[initiative][dimension] + shift + rng.gauss(0, 0.9))
                answer = Answer(response=person, indicator=key, value=min(5, max(1, value)))
            if rng.random() < NOTE:
                answer.note = rng.choice(NOTES)
            answers.append(answer)
    Answer.objects.bulk_create(answers)
    return len(answers)


# --- Measuring ------------------------------------------------------------------------------

def pct(values, q):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def paths(data) -> dict[str, str]:
    middle = data["initiatives"][len(data["initiatives"]) // 2]
    return {"programme": f"/assessment/programmes/{data['programme'].pk}/",
            "report": f"/assessment/initiatives/{middle.pk}/report/"}


def check_pages(server, cookie, pages, initiatives):
    """The pages answer the signed-in person with results, not an empty or signed-out page."""
    body = server.get(pages["programme"], cookie)
    rows = body.count('<th scope="row"><a href="/assessment/initiatives/')
    if "Sign out" not in body or rows != initiatives or " of 100</strong>" not in body:
        raise RuntimeError(f"the programme page shows {rows} initiatives: not signed in?")
    if "Overall position" not in server.get(pages["report"], cookie):
        raise RuntimeError("the report page shows no result")


def time_pages(server, pages, cookies, count, budget) -> dict:
    """Milliseconds for ``count`` GETs of each page by each person, taken in turn so that
    other work on the machine weighs on every page alike; the run stops early once ``budget``
    seconds are spent. A failed request counts with the time it took."""
    turns = [(page, role) for page in pages for role in cookies]
    for page, role in turns * WARM_UP:
        server.get(pages[page], cookies[role])
    times = {turn: [] for turn in turns}
    failures = dict.fromkeys(turns, 0)
    started = time.perf_counter()
    for _ in range(count):
        if time.perf_counter() - started > budget:
            break
        for page, role in turns:
            began = time.perf_counter()
            try:
                server.get(pages[page], cookies[role])
            except (OSError, http.client.HTTPException, RuntimeError):
                failures[page, role] += 1
            times[page, role].append((time.perf_counter() - began) * 1000)
    result = {page: {} for page in pages}
    for (page, role), values in times.items():
        result[page][role] = {
            "p50_ms": round(pct(values, 0.5), 1), "p95_ms": round(pct(values, 0.95), 1),
            "max_ms": round(max(values), 1), "count": len(values),
            "failures": failures[page, role]}
    return result


def client_for(person):
    from django.test import Client

    client = Client(HTTP_HOST="localhost")  # outside the test runner, "testserver" is refused
    client.force_login(person)
    return client


def count_queries(person, pages) -> dict[str, int]:
    """Queries per page, in process, on the second request (the first fills caches)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client, counts = client_for(person), {}
    for page, path in pages.items():
        client.get(path)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code} in process")
        counts[page] = len(captured.captured_queries)
    return counts


def breakdown(person, data, repeat) -> dict:
    """Median milliseconds in process: the whole view (middleware included, no HTTP), its
    selector and its charts; what is left is mostly template rendering. The parts are timed
    in turn, round after round, so a burst of other work on the machine falls on all alike."""
    from hub import policy
    from hub.assessment import charts, selectors

    client, pages = client_for(person), paths(data)
    initiative = data["initiatives"][len(data["initiatives"]) // 2]

    def programme_report():
        policy.forget(person)  # each request starts without the policy's per-user memo
        return selectors.programme_report(person, data["programme"])

    def initiative_report():
        policy.forget(person)
        return selectors.initiative_report(person, initiative)

    scored = [(row.initiative.name, row.result.overall) for row in programme_report().rows
              if row.result and row.result.overall is not None]
    report = initiative_report()
    parts = {
        ("programme", "view"): lambda: client.get(pages["programme"]),
        ("programme", "selector"): programme_report,
        ("programme", "spread_chart"): lambda: charts.spread_chart(scored, id_prefix="p"),
        ("report", "view"): lambda: client.get(pages["report"]),
        ("report", "selector"): initiative_report,
        ("report", "charts"): lambda: (
            charts.dimension_chart(report.result, id_prefix="d"),
            charts.history_chart(report.history, report.events, id_prefix="h")),
    }
    times = {part: [] for part in parts}
    for turn in range(repeat + 1):  # the first turn warms up
        for part, fn in parts.items():
            began = time.perf_counter()
            fn()
            if turn:
                times[part].append((time.perf_counter() - began) * 1000)
    figures = {"programme": {}, "report": {}}
    for (page, part), values in times.items():
        figures[page][part] = round(pct(values, 0.5), 1)
    for page in figures.values():
        page["rest"] = round(page["view"] - sum(v for k, v in page.items() if k != "view"), 1)
    return figures


def profile(person, path, repeat=5, top=12) -> list:
    """cProfile around the view in process: the functions with the most time of their own,
    in milliseconds per request, as [function, own ms, cumulative ms, calls]."""
    import cProfile
    import pstats

    client = client_for(person)
    client.get(path)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeat):
        client.get(path)
    profiler.disable()
    rows = []
    for (file, line, name), (_, calls, own, total, _) in pstats.Stats(profiler).stats.items():
        where = file.split("/code/", 1)[-1].split("site-packages/", 1)[-1]
        rows.append([f"{where}:{line}({name})", round(own * 1000 / repeat, 1),
                     round(total * 1000 / repeat, 1), calls // repeat])
    return sorted(rows, key=lambda row: -row[1])[:top]


# --- Reporting ------------------------------------------------------------------------------

def targets(pages, queries) -> dict:
    member = pages["programme"]["member"]
    by_responses = {role: {page: [counts[label][page] for label in ("main", "responses")]
                           for page in ("programme", "report")}
                    for role, counts in queries.items()}
    return {
        "programme_p95_under_300ms": {
            "value": member["p95_ms"], "limit": PROGRAMME_P95_LIMIT_MS,
            "met": member["p95_ms"] < PROGRAMME_P95_LIMIT_MS and not member["failures"]},
        "queries_independent_of_responses": {
            "value": by_responses, "limit": "equal counts",
            "met": all(a == b for counts in by_responses.values()
                       for a, b in counts.values())},
    }


def print_table(summary):
    size = summary["size"]
    print(f"\nprogramme {size['initiatives']} initiatives x {size['rounds']} rounds x "
          f"{size['responses']} responses ({size['answers']} answers); "
          f"{summary['requests']} requests per page and person")
    print(f"{'page':<10} {'person':<12} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} "
          f"{'timed':>6} {'failed':>6}")
    for page, people in summary["pages"].items():
        for person, f in people.items():
            print(f"{page:<10} {person:<12} {f['p50_ms']:>8.1f} {f['p95_ms']:>8.1f} "
                  f"{f['max_ms']:>8.1f} {f['count']:>6} {f['failures']:>6}")
    print("in process, median ms (member):")
    for page, parts in summary["in_process_ms"].items():
        print(f"  {page:<10} " + "  ".join(f"{k} {v:.1f}" for k, v in parts.items()))
    labels = summary["query_sizes"]
    print("queries per page: " + ", ".join(f"{k} = {v}" for k, v in labels.items()))
    for person, counts in summary["queries"].items():
        for page in ("programme", "report"):
            print(f"  {page:<10} {person:<12} " + "  ".join(
                f"{label} {counts[label][page]}" for label in labels))
    print("depends on the number of initiatives: "
          + ", ".join(f"{k} {v}" for k, v in summary["queries_depend_on_initiatives"].items()))


def fingerprint(root: Path) -> str:
    """Which report code ran: other people may change it while a run goes on."""
    digest = hashlib.sha1()
    files = sorted((root / "hub" / "assessment").rglob("*.py")) + sorted(
        (root / "hub" / "assessment").rglob("*.html")) + [root / "hub" / "policy.py"]
    for path in files:
        if "__pycache__" not in path.parts:
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


# --- The run --------------------------------------------------------------------------------

def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--initiatives", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--responses", type=int, default=50, help="per round")
    parser.add_argument("--requests", type=int, default=100, help="per page and person")
    parser.add_argument("--alt-responses", type=int, default=10,
                        help="responses per round of the programme the query count is "
                             "compared with (same initiatives and rounds)")
    parser.add_argument("--alt-initiatives", type=int, default=20,
                        help="initiatives of the programme that shows whether the query "
                             "count depends on the number of initiatives")
    parser.add_argument("--budget", type=float, default=600,
                        help="seconds of timing over HTTP, after which it stops early")
    parser.add_argument("--quick", action="store_true",
                        help="20 initiatives x 3 rounds x 10 responses, 20 requests (CI)")
    parser.add_argument("--profile", action="store_true",
                        help="profile both pages in process (done anyway for the programme "
                             "page when it misses its target)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch data and database")
    args = parser.parse_args(argv)
    if args.quick:
        args.initiatives, args.rounds, args.responses, args.requests = 20, 3, 10, 20
        args.alt_responses, args.alt_initiatives = 30, 5
    return args


def measure(args, scratch, orgs, member, editor) -> dict:
    shape = {"rounds": args.rounds, "orgs": orgs, "owner": editor}
    main = build("A", initiatives=args.initiatives, responses=args.responses, seed=1, **shape)
    print(f"built {args.initiatives}x{args.rounds}x{args.responses}: {main['answers']} answers "
          f"in {main['build_seconds']} s, retallied in {main['retally_seconds']} s", flush=True)
    people = {"member": member, "facilitator": editor}
    pages = paths(main)
    server = Server(scratch)
    try:
        cookies = {role: server.cookie_for(person) for role, person in people.items()}
        for cookie in cookies.values():
            check_pages(server, cookie, pages, args.initiatives)
        timings = time_pages(server, pages, cookies, args.requests, args.budget)
    finally:
        server.stop()
    print(f"timed: {json.dumps(timings)}", flush=True)
    in_process = breakdown(member, main, repeat=max(3, args.requests // 10))
    profiles = {}
    if args.profile or timings["programme"]["member"]["p95_ms"] >= PROGRAMME_P95_LIMIT_MS:
        profiles["programme"] = profile(member, pages["programme"])
    if args.profile:
        profiles["programme_facilitator"] = profile(editor, pages["programme"])
        profiles["report"] = profile(member, pages["report"])
    # The other sizes are built after the timings, so the timed database holds only "A".
    sizes = {"main": main,
             "responses": build("B", initiatives=args.initiatives,
                                responses=args.alt_responses, seed=1, **shape),
             "initiatives": build("C", initiatives=args.alt_initiatives,
                                  responses=args.responses, seed=1, **shape)}
    queries = {role: {label: count_queries(person, paths(data))
                      for label, data in sizes.items()} for role, person in people.items()}
    return {"main": main, "timings": timings, "in_process": in_process,
            "profiles": profiles, "queries": queries}


def main(argv=None):
    args = parse(argv)
    load_start = os.getloadavg()
    scratch = configure()
    code = fingerprint(scratch / "code")
    try:
        orgs, member, editor = cast()
        run = measure(args, scratch, orgs, member, editor)
    finally:
        _clean_up(args, scratch)
    queries = run["queries"]
    depends = {page: any(counts["main"][page] != counts["initiatives"][page]
                         for counts in queries.values()) for page in ("programme", "report")}
    changed = fingerprint(ROOT) != code
    summary = {
        "benchmark": "assessment_report", "engine": "sqlite",
        "size": {"initiatives": args.initiatives, "rounds": args.rounds,
                 "responses": args.responses, "answers": run["main"]["answers"]},
        "build_seconds": run["main"]["build_seconds"],
        "retally_seconds": run["main"]["retally_seconds"],
        "requests": args.requests, "pages": run["timings"], "in_process_ms": run["in_process"],
        "query_sizes": {
            "main": f"{args.initiatives}x{args.rounds}x{args.responses}",
            "responses": f"{args.initiatives}x{args.rounds}x{args.alt_responses}",
            "initiatives": f"{args.alt_initiatives}x{args.rounds}x{args.responses}"},
        "queries": queries, "queries_depend_on_initiatives": depends,
        "profile": run["profiles"],
        "load_average": {"start": [round(x, 2) for x in load_start],
                         "end": [round(x, 2) for x in os.getloadavg()]},
        "code": {"sha1": code, "changed_during_run": changed},
        "targets": targets(run["timings"], queries),
    }
    for page, rows in run["profiles"].items():
        print(f"profile of the {page} page, ms per request (own, cumulative, calls):")
        for name, own, total, calls in rows:
            print(f"  {own:>8.1f} {total:>8.1f} {calls:>7}  {name}")
    print_table(summary)
    if changed:
        print("note: hub/assessment or hub/policy.py changed during the run; the figures are "
              "for the copy taken at the start")
    for name, target in summary["targets"].items():
        print(f"target {name}: {target['value']} (limit {target['limit']}) met={target['met']}")
    print(json.dumps(summary))


def _clean_up(args, scratch):
    from django.db import connections

    connections.close_all()
    if args.keep:
        print(f"kept {scratch}")
    else:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
