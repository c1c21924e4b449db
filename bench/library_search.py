"""How library search holds up as the library grows.

Builds libraries of 1,000, 10,000 and 100,000 published resources (one database grown in
place) with about 2,000 words of extracted text each, then times, as a plain member of the
hub: the search service (``hub.library.search.search``), the engine alone on the same index
(``engine().raw``, no access rules), and the library page fetched over HTTP from the real
server (``manage.py serve``). Everything lives in a scratch data directory and a scratch
database; nothing of the developer's own data is touched.

    .venv/bin/python bench/library_search.py [--sizes 1000,10000,100000] [--queries 200]
        [--engine sqlite|postgresql] [--quick] [--keep] [--reuse DIR] [--explain]

The last line printed is one JSON object with every figure and the targets.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import io
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.parse
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.db import DatabaseError
from hubserver import HubServer

ROOT = Path(__file__).resolve().parent.parent
PG_NAME = "hub_bench"
BATCH = 1000
WORDS_PER_RESOURCE = 2000
SAMPLE_QUERY = "community trust"

# --- A deterministic library ----------------------------------------------------------------

FUNCTION_WORDS = (
    "the of and to in a is that for on with as by be this are from at or it an was which "
    "have not their has were can been more also its other these all such who they but may "
    "than into when how one between both where only through about our we what there would "
    "should could each those within across").split()
DOMAIN_WORDS = (
    "police community trust youth partnership engagement prevention accountability officers "
    "public local neighbourhood safety crime policing residents confidence relationships "
    "young people services support violence intervention evaluation practice programme "
    "organisations statutory agencies voluntary sector faith leaders schools families victims "
    "legitimacy fairness consultation participation governance oversight training data "
    "evidence research outcomes risk harm vulnerability mental health housing education "
    "employment diversion referral mentoring outreach dialogue listening feedback complaints "
    "transparency scrutiny review inspection strategy policy funding commissioning volunteers "
    "councillors forum panel meeting survey interviews findings recommendations barriers "
    "culture leadership workforce recruitment retention wellbeing deprivation inequality "
    "discrimination racism disproportionality ethnicity gender disability identity belonging "
    "cohesion resilience capacity collaboration coordination sharing intelligence reporting "
    "drugs alcohol gangs exploitation abuse hate online digital media communication "
    "visibility patrols contact response emergency custody arrests courts probation prisons "
    "rehabilitation reoffending mediation conflict tension protest sport arts heritage").split()
PHRASES = ["community engagement", "procedural justice", "stop and search",
           "public confidence", "youth work", "neighbourhood policing", "early intervention"]
RARE_WORDS = ["ombudsman", "radicalisation", "interpreter", "bodycam", "allotment",
              "hackathon", "stopwatch", "cybercrime", "traveller", "podcast", "chaplaincy",
              "boxing", "dashboard", "graffiti", "skatepark"]
ZIPF_SIZE, RARE_POOL = 5000, 5000
NAMES = ["A. Okafor", "B. Hughes", "C. Patel", "D. Murphy", "E. Nowak", "F. Campbell",
         "G. Singh", "H. Evans", "I. Rossi", "J. Byrne", "K. Ahmed", "L. Walsh"]
ORGANISATIONS = [  # name, kind, partner, share of resources
    ("Northshire Police", "police", True, 30),
    ("Riverside Community Trust", "community", False, 15),
    ("Eastport Policing Lab", "research", True, 20), ("Youth Voice Network", "youth", False, 5),
    ("Faith Forum", "faith", False, 5), ("Westborough Council", "local_authority", True, 10),
    ("Policy Unit", "government", False, 10), ("Safer Streets", "charity", False, 5)]
TYPES = [("report", 30), ("toolkit", 15), ("guide", 15), ("paper", 20), ("policy", 8),
         ("training", 6), ("video", 3), ("dataset", 3)]


def _synthetic(rng, count, taken):
    syllables = ["ba", "de", "ki", "lo", "mu", "ra", "se", "ti", "vo", "na", "pe", "gu", "fa",
                 "zo", "ne", "ri", "sa", "to", "vi", "le", "mo", "du", "ka", "pi", "ren", "dal"]
    words = []
    while len(words) < count:
        word = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
        if word not in taken:
            taken.add(word)
            words.append(word)
    return words


class Library:
    """Vocabulary and generator: resource ``i`` is the same whatever the batch it falls in."""

    def __init__(self, seed=20240501):
        rng = random.Random(seed)
        taken = set(FUNCTION_WORDS) | set(DOMAIN_WORDS) | set(RARE_WORDS)
        ranked = FUNCTION_WORDS[:10] + DOMAIN_WORDS[:8] + FUNCTION_WORDS[10:]
        middle = DOMAIN_WORDS[8:] + PHRASES
        rng.shuffle(middle)
        ranked += middle
        ranked += _synthetic(rng, ZIPF_SIZE - len(ranked), taken)
        self.vocabulary = ranked
        self.cum_weights = list(_cumulate(1 / rank for rank in range(1, len(ranked) + 1)))
        self.rare = RARE_WORDS + _synthetic(rng, RARE_POOL - len(RARE_WORDS), taken)
        self.title_words = [w for w in ranked[:2000] if w not in FUNCTION_WORDS]
        self.seed = seed

    def words(self, rng, count):
        return rng.choices(self.vocabulary, cum_weights=self.cum_weights, k=count)

    def resource(self, i):
        rng = random.Random(self.seed * 1_000_003 + i)
        body = self.words(rng, WORDS_PER_RESOURCE - 2)
        for _ in range(2):  # two words almost nobody else uses: the rare terms
            body.insert(rng.randrange(len(body)), rng.choice(self.rare))
        published = datetime(2010, 1, 1, tzinfo=UTC) + timedelta(
            seconds=rng.randrange(15 * 365 * 86400))
        tiers = rng.random()
        metadata_tier, file_tier = (("public", "public") if tiers < 0.6 else
                                    ("members", "members") if tiers < 0.8 else
                                    ("partners", "partners") if tiers < 0.9 else
                                    ("public", "restricted"))
        return {
            "title": " ".join(rng.sample(self.title_words, rng.randint(4, 8))).capitalize(),
            "abstract": " ".join(self.words(rng, rng.randint(50, 80))).capitalize() + ".",
            "authors": "\n".join(rng.sample(NAMES, rng.randint(1, 3))),
            "published_at": published,
            "year": None if rng.random() < 0.05 else published.year - rng.randint(0, 2),
            "type": _weighted(rng, TYPES),
            "organisation": _weighted(rng, [(n, o[3]) for n, o in enumerate(ORGANISATIONS)]),
            "country": _weighted(rng, [("GB", 70), ("IE", 10), ("US", 10), ("NL", 5), ("AU", 5)]),
            "language": _weighted(rng, [("en", 90), ("cy", 4), ("fr", 3), ("nl", 3)]),
            "metadata_tier": metadata_tier, "file_tier": file_tier,
            "themes": rng.sample(range(12), rng.randint(1, 3)),
            "audiences": rng.sample(range(7), rng.randint(1, 2)),
            "body": " ".join(body),
        }


def _cumulate(values):
    total = 0.0
    for value in values:
        total += value
        yield total


def _weighted(rng, pairs):
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


# --- The scratch hub ------------------------------------------------------------------------

def configure(engine: str, rev: str | None, reuse: str | None = None) -> Path:
    """Point the hub at a scratch data directory (and database) before Django starts: a new
    one, or one an earlier run kept (``reuse``), with its library as it was left."""
    keep = {"HUB_DB_USER", "HUB_DB_PASSWORD", "HUB_DB_HOST", "HUB_DB_PORT"}
    for name in [n for n in os.environ if n.startswith("HUB_") and n not in keep]:
        del os.environ[name]
    if reuse:
        scratch = Path(reuse).resolve()
        if not (scratch / "secret_key").exists():
            raise SystemExit(f"{scratch} is not a data directory kept by --keep")
        shutil.rmtree(scratch / "code", ignore_errors=True)
    else:
        scratch = Path(tempfile.mkdtemp(prefix="hub-bench-"))
    os.environ.update({"HUB_DATA_DIR": str(scratch), "DJANGO_SETTINGS_MODULE": "hub.settings",
                       "HUB_LOG_LEVEL": "WARNING"})
    if engine == "postgresql":
        os.environ.update({"HUB_DB_ENGINE": "postgresql", "HUB_DB_NAME": PG_NAME})
        if not reuse:
            _postgres(f"DROP DATABASE IF EXISTS {PG_NAME} WITH (FORCE)",
                      f"CREATE DATABASE {PG_NAME}")
    else:
        os.environ["HUB_DB_NAME"] = str(scratch / "hub.sqlite3")
    # Other people edit the hub while a run lasts; gunicorn starts new workers after a
    # timeout. A copy of the code keeps the benchmark and every worker on the same version.
    if rev:
        archive = subprocess.run(["git", "archive", rev, "hub", "manage.py"], cwd=ROOT,  # noqa: S607
                                 capture_output=True, check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(scratch / "code", filter="data")
    else:
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


def _postgres(*statements):
    import psycopg

    with psycopg.connect(dbname="postgres", autocommit=True,
                         user=os.environ.get("HUB_DB_USER", "postgres"),
                         password=os.environ.get("HUB_DB_PASSWORD", ""),
                         host=os.environ.get("HUB_DB_HOST", "127.0.0.1"),
                         port=os.environ.get("HUB_DB_PORT", "5432")) as conn:
        for statement in statements:
            conn.execute(statement)


def cast():
    """The organisations, a contributor for each, and the plain member who searches."""
    from hub.members.models import Membership, Organisation, Profile, User

    member = User.objects.filter(email="member@bench.example").first()
    if member:  # a kept library (--reuse)
        return ([Organisation.objects.get(slug=f"bench-{n}") for n in range(len(ORGANISATIONS))],
                [User.objects.get(email=f"editor{n}@bench.example")
                 for n in range(len(ORGANISATIONS))], member)
    orgs, contributors = [], []
    for n, (name, kind, partner, _) in enumerate(ORGANISATIONS):
        org = Organisation.objects.create(name=name, slug=f"bench-{n}", kind=kind,
                                          country="GB", is_partner=partner)
        person = User.objects.create_user(f"editor{n}@bench.example", None, standing="member")
        Profile.objects.create(user=person, display_name=f"Editor {n}")
        Membership.objects.create(user=person, organisation=org, role="editor")
        orgs.append(org)
        contributors.append(person)
    member = User.objects.create_user("member@bench.example", None, standing="member")
    Profile.objects.create(user=member, display_name="Bench Member")
    Membership.objects.create(user=member, organisation=orgs[3], role="member")  # not a partner
    return orgs, contributors, member


def grow(library, size, orgs, contributors, member) -> tuple[float, float]:
    """Add resources until the library holds ``size``; return (build, index) seconds."""
    from django.db import connection, transaction

    from hub.library import search
    from hub.library.models import Resource

    started, indexing = time.perf_counter(), 0.0
    first = Resource.objects.count()
    if first > size:
        raise SystemExit(f"the library already holds {first} resources, more than {size}")
    for start in range(first, size, BATCH):
        items = [library.resource(i) for i in range(start, min(size, start + BATCH))]
        with transaction.atomic():
            docs = _insert(items, orgs, contributors)
            began = time.perf_counter()
            engine = search.engine()
            with connection.cursor() as cursor:
                for pk, doc in docs:
                    engine.upsert(cursor, pk, doc)
            indexing += time.perf_counter() - began
    _grant_some(member, size)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # what autovacuum would have done by now
    return time.perf_counter() - started, indexing


def _insert(items, orgs, contributors):
    from django.utils import timezone

    from hub.library.models import AccessRule, Audience, Resource, ResourceFile, Theme

    themes = list(Theme.objects.order_by("position"))
    audiences = list(Audience.objects.order_by("position"))
    resources = Resource.objects.bulk_create([Resource(
        title=it["title"], abstract=it["abstract"], authors=it["authors"], year=it["year"],
        country=it["country"], language=it["language"], type=it["type"],
        organisation=orgs[it["organisation"]], contributor=contributors[it["organisation"]],
        metadata_tier=it["metadata_tier"], file_tier=it["file_tier"], status="published",
        licence="CC-BY-4.0", published_at=it["published_at"]) for it in items])
    now = timezone.now()
    ResourceFile.objects.bulk_create([ResourceFile(
        resource=r, file=f"library/{r.uuid}/bench", original_name="report.txt", kind="text",
        mime="text/plain; charset=utf-8", size=len(it["body"]), sha256="0" * 64,
        extraction="done", text=it["body"], extracted_at=now)
        for r, it in zip(resources, items, strict=True)])
    Resource.themes.through.objects.bulk_create([
        Resource.themes.through(resource_id=r.pk, theme_id=themes[t].pk)
        for r, it in zip(resources, items, strict=True) for t in it["themes"]])
    Resource.audiences.through.objects.bulk_create([
        Resource.audiences.through(resource_id=r.pk, audience_id=audiences[a].pk)
        for r, it in zip(resources, items, strict=True) for a in it["audiences"]])
    AccessRule.objects.bulk_create([AccessRule(resource=r) for r in resources])
    # The same document search.document() builds, without its three queries per resource.
    return [(r.pk, {
        "title": r.title, "authors": r.authors, "abstract": r.abstract,
        "keywords": "\n".join([r.organisation.name, *(themes[t].name for t in it["themes"]),
                               *(audiences[a].name for a in it["audiences"])]),
        "body": it["body"]}) for r, it in zip(resources, items, strict=True)]


def _grant_some(member, size):
    """A few grants in force to the member, so the grant rule has rows to look at."""
    from hub.library.models import Grant, Resource

    wanted = max(3, size // 2000)
    have = Grant.objects.filter(user=member).count()
    candidates = (Resource.objects.filter(file_tier="restricted")
                  .exclude(grants__user=member).order_by("pk")[:max(0, wanted - have)])
    Grant.objects.bulk_create([Grant(resource=r, user=member) for r in candidates])


# --- The queries ----------------------------------------------------------------------------

POOLS = {
    "common": [{"text": w} for w in ["police", "community", "trust", "youth", "engagement",
                                     "partnership", "prevention", "accountability"]],
    "rare": [{"text": w} for w in ["ombudsman", "radicalisation", "interpreter", "bodycam",
                                   "allotment", "hackathon", "skatepark", "chaplaincy"]],
    "two_words": [{"text": t} for t in ["community trust", "youth engagement",
                                        "police accountability", "crime prevention",
                                        "partnership evaluation", "neighbourhood safety"]],
    "phrase": [{"text": t} for t in ['"community engagement"', '"procedural justice"',
                                     '"stop and search"', '"public confidence"']],
    "filter": [{"text": "prevention", "types": ["report"]},
               {"text": "youth", "year_from": 2015, "year_to": 2020},
               {"text": "trust", "types": ["toolkit", "guide"]},
               {"text": "police community", "year_from": 2018}],
    "empty": [{"text": ""}],
}
MIX = {"common": 6, "rare": 4, "two_words": 4, "phrase": 2, "filter": 2, "empty": 2}


def query_mix(count, seed=7):
    rng = random.Random(seed)
    pattern = [kind for kind, n in MIX.items() for _ in range(n)]
    rng.shuffle(pattern)
    return [(kind, rng.choice(POOLS[kind])) for kind in
            (pattern[i % len(pattern)] for i in range(count))]


def make_query(spec):
    from hub.library.search import Query

    return Query(text=spec["text"], types=list(spec.get("types", [])),
                 year_from=spec.get("year_from"), year_to=spec.get("year_to"))


def page_path(spec):
    params = {"q": spec["text"], "type": spec.get("types", [])}
    params.update({k: spec[k] for k in ("year_from", "year_to") if k in spec})
    return "/library/?" + urllib.parse.urlencode(params, doseq=True)


def run_service(member, spec):
    from hub import policy
    from hub.library import search

    policy.forget(member)  # each request starts without the policy's per-user memo
    return search.search(member, make_query(spec))


def service_total(member, spec, limit):
    """The number of results, or None when the call is cut off."""
    results = service_results(member, spec, limit)
    return None if results is None else results.total


def service_results(member, spec, limit):
    try:
        with cut_off(limit):
            return run_service(member, spec)
    except DatabaseError:
        return None


def run_raw(spec, exact=False):
    """The engine's own query for ``spec``: ranked among the same window of newest matches as
    the search ranks, or, with ``exact``, every match scored (for comparison)."""
    from django.conf import settings

    from hub.library import search
    from hub.library.models import Resource

    terms = search.parse(spec["text"])
    if terms:
        window = None if exact else settings.LIBRARY_RANK_WINDOW
        return search.engine().raw(terms, limit=search.PER_PAGE, window=window)[1]
    # The empty query lists the library: the same listing with no access rules.
    listing = Resource.objects.filter(status="published")
    list(listing.order_by("-published_at", "-id").values_list("pk", flat=True)[:20])
    return listing.count()


def timed(fn, specs, budget=None, failures=None):
    """Milliseconds by query kind. Past the budget (seconds), only kinds not yet timed run, so
    very slow code still gives a figure for every kind in a bounded time. A call that fails
    (cut off, server error) counts with the time it took, and is listed in ``failures``."""
    times, started = {}, time.perf_counter()
    for kind, spec in specs:
        if budget and kind in times and time.perf_counter() - started > budget:
            continue
        began = time.perf_counter()
        try:
            fn(spec)
        except (OSError, http.client.HTTPException, RuntimeError, DatabaseError) as error:
            if failures is None:
                raise
            failures.append(f"{kind}: {error}")
        times.setdefault(kind, []).append((time.perf_counter() - began) * 1000)
    return times


@contextmanager
def cut_off(seconds):
    """Stop a call still running after this many seconds (gunicorn does the same at 30 s)."""
    from django.db import connection

    if not seconds:
        yield
    elif connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {int(seconds * 1000)}")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SET statement_timeout = 0")
    else:
        connection.ensure_connection()
        timer = threading.Timer(seconds, connection.connection.interrupt)
        timer.start()
        try:
            yield
        finally:
            timer.cancel()


def pct(values, q):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


# --- The real server ------------------------------------------------------------------------

class Server(HubServer):
    """The hub's server with a signed-in member."""

    def __init__(self, scratch: Path, member):
        self.cookie = self.cookie_for(member)
        super().__init__(scratch)

    def get(self, path, signed_in=True) -> str:
        return super().get(path, self.cookie if signed_in else None)


# --- Measuring and reporting ----------------------------------------------------------------

def measure(size, member, server, specs, pages, budget=None, limit=None) -> dict:
    from django.conf import settings

    from hub.library import search

    def service_call(spec):
        with cut_off(limit):
            run_service(member, spec)

    distinct = list({json.dumps(s, sort_keys=True): (k, s) for k, s in specs}.values())
    warm = budget / 10 if budget else None  # warm-up: every distinct query once
    failed = {"service": [], "page": []}
    timed(service_call, [("warm", s) for _, s in distinct], warm, [])
    timed(run_raw, distinct)
    service = timed(service_call, specs, budget, failed["service"])
    raw = timed(run_raw, specs, budget)
    raw_exact = timed(lambda spec: run_raw(spec, exact=True), specs, budget)
    check = {"text": "ombudsman"}
    try:
        body = server.get(page_path(check))
    except (OSError, http.client.HTTPException, RuntimeError):
        body = None  # too slow to answer: the signed-in check is left to the smaller sizes
    shown = f"{service_total(member, check, limit) or 0:,} resource"
    if body is not None and ("Sign out" not in body or shown not in body):
        raise RuntimeError("the page does not show the member's results: not signed in?")
    timed(lambda s: server.get(page_path(s)), [("warm", s) for _, s in distinct], warm, [])
    page = first_pages(server, distinct, pages, budget, failed["page"])
    # The query mix as people ask it: a query asked before by someone with the same access is
    # served from the copy of the results the server kept (hub/library/caching.py).
    shared = timed(lambda s: server.get(page_path(s)), specs[:pages], budget, [])
    sample = service_results(member, {"text": SAMPLE_QUERY}, limit)
    every = {name: [v for vs in t.values() for v in vs] for name, t in
             (("service", service), ("raw", raw), ("raw_exact", raw_exact), ("page", page),
              ("page_shared", shared))}
    figures = {f"{name}_{p}_ms": round(pct(values, q), 2) for name, values in every.items()
               for p, q in (("p50", 0.5), ("p95", 0.95))}
    figures.update({
        "resources": size, **{f"{name}_count": len(values) for name, values in every.items()},
        "page_measures": "page_*: each query as if asked for the first time since the library "
                         "changed; page_shared_*: the query mix, kept results shared",
        "ratio_p50": round(figures["service_p50_ms"] / figures["raw_p50_ms"], 2),
        "ratio_p95": round(figures["service_p95_ms"] / figures["raw_p95_ms"], 2),
        "service_failures": len(failed["service"]), "page_failures": len(failed["page"]),
        "sample_query": SAMPLE_QUERY,
        "sample_total_service": sample.total if sample else None,
        "sample_total_estimated": getattr(sample, "estimated", False),
        "rank_window": settings.LIBRARY_RANK_WINDOW,
        # Above a threshold the search estimates facet counts from a sample of the hits.
        "sample_facets_estimated": getattr(sample, "facets_approximate", False),
        "sample_total_raw": search.engine().raw(search.parse(SAMPLE_QUERY))[1],
        "by_kind_p95_ms": {kind: {"service": round(pct(service[kind], 0.95), 2),
                                  "raw": round(pct(raw[kind], 0.95), 2)} for kind in service},
    })
    return figures


def first_pages(server, distinct, pages, budget, failures) -> dict:
    """Each distinct query fetched as if asked for the first time: before each round the
    library's version is moved on (as any change to the library does), so no kept copy of
    any results can answer; rounds go on until ``pages`` pages were timed. This is the cost
    of a search nobody with the same access asked since the library last changed."""
    try:
        from hub.core import fragments
        from hub.library.caching import LIBRARY
    except ImportError:  # code from before results were kept: every fetch is a first one
        fragments, LIBRARY = None, None
    times, started = {}, time.perf_counter()
    while sum(len(v) for v in times.values()) < pages:
        if budget and times and time.perf_counter() - started > budget:
            break
        if LIBRARY:
            fragments.bump(LIBRARY)
            time.sleep(fragments.LOCAL_SECONDS + 0.1)  # each web process reads it
        rest = pages - sum(len(v) for v in times.values())
        for kind, values in timed(lambda s: server.get(page_path(s)), distinct[:rest],
                                  None, failures).items():
            times.setdefault(kind, []).extend(values)
    return times


def explain(member, text):
    """EXPLAIN the statements search() runs for this text, whatever they are."""
    from django.db import connection

    statements = []

    def capture(execute, sql, params, many, context):
        statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        run_service(member, {"text": text})
    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    for sql, params in statements:
        if "hits" not in sql:
            continue
        with connection.cursor() as cursor:
            cursor.execute(prefix + sql, params)
            print(f"-- plan for {text!r}: {sql[:70]}...")
            for row in cursor.fetchall():
                print("   ", " | ".join(str(c) for c in row))


def targets(sizes: dict) -> dict:
    biggest = max(sizes, key=int)
    top = sizes[biggest]
    result = {
        "service_p95_vs_raw_p95": {"at": int(biggest), "value": top["ratio_p95"], "limit": 2.0,
                                   "met": top["ratio_p95"] <= 2.0 and not top["service_failures"]},
        "page_p95_ms": {"at": int(biggest), "value": top["page_p95_ms"], "limit": 100,
                        "met": top["page_p95_ms"] < 100 and not top["page_failures"]},
    }
    growth = {"at": 100000, "value": None, "limit": 3.0, "met": None}
    if "10000" in sizes and "100000" in sizes:
        value = round(sizes["100000"]["service_p95_ms"] / sizes["10000"]["service_p95_ms"], 2)
        growth.update(value=value, met=value < 3.0)
    result["growth_service_p95_10k_to_100k"] = growth
    return result


def print_table(sizes: dict):
    print(f"{'size':>7} {'build s':>8} {'index s':>8} | {'service p50/p95':>16} | "
          f"{'raw p50/p95':>14} | {'ratio p50/p95':>13} | {'page p50/p95':>14} | "
          f"{'shared p50/p95':>14} | sample total")
    for size, f in sizes.items():
        print(f"{size:>7} {f['build_seconds']:>8.1f} {f['index_seconds']:>8.1f} | "
              f"{f['service_p50_ms']:>7.1f}/{f['service_p95_ms']:<8.1f} | "
              f"{f['raw_p50_ms']:>6.1f}/{f['raw_p95_ms']:<7.1f} | "
              f"{f['ratio_p50']:>6.2f}/{f['ratio_p95']:<6.2f} | "
              f"{f['page_p50_ms']:>6.1f}/{f['page_p95_ms']:<7.1f} | "
              f"{f['page_shared_p50_ms']:>6.1f}/{f['page_shared_p95_ms']:<7.1f} | "
              f"{f['sample_total_service']} (raw {f['sample_total_raw']})"
              f"{', facets estimated' if f.get('sample_facets_estimated') else ''}")
        print(f"{'':>7} the engine scoring every match instead of the newest "
              f"{f['rank_window']}: {f['raw_exact_p50_ms']:.1f}/{f['raw_exact_p95_ms']:.1f} ms")
        print(f"{'':>7} timed: {f['service_count']} service, {f['raw_count']} raw, "
              f"{f['page_count']} pages; failed or cut off: {f['service_failures']} service, "
              f"{f['page_failures']} pages")
    print("p95 ms by query kind (service / raw):")
    for size, f in sizes.items():
        print(f"{size:>7} " + "  ".join(f"{k} {v['service']:.1f}/{v['raw']:.1f}"
                                        for k, v in f["by_kind_p95_ms"].items()))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--quick", action="store_true", help="1,000 resources, 40 queries")
    parser.add_argument("--rev", help="benchmark this git revision of the hub "
                        "(default: the working tree as it is at the start)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch data and database")
    parser.add_argument("--reuse", metavar="DIR", help="measure the library kept in DIR by an "
                        "earlier --keep run, grown to each size still above it (implies --keep)")
    parser.add_argument("--explain", action="store_true", help="print the query plans")
    parser.add_argument("--limit", type=float, help="cut off a service call after this many "
                        "seconds, counted as failed at that time (default: none)")
    parser.add_argument("--budget", type=float, help="seconds per measurement and size, after "
                        "which the run stops at the end of a round of the mix (default: none)")
    args = parser.parse_args(argv)
    sizes = [1000] if args.quick else sorted(int(s) for s in args.sizes.split(","))
    count = 40 if args.quick else args.queries
    pages = 20 if args.quick else count
    args.keep = args.keep or bool(args.reuse)
    scratch = configure(args.engine, args.rev, args.reuse)
    code = fingerprint(scratch / "code")
    server = None
    try:
        library = Library()
        orgs, contributors, member = cast()
        specs = query_mix(count)
        results = {}
        for size in sizes:
            build, indexing = grow(library, size, orgs, contributors, member)
            print(f"built {size} resources in {build:.1f} s (index {indexing:.1f} s)", flush=True)
            server = server or Server(scratch, member)
            results[str(size)] = {"build_seconds": round(build, 1),
                                  "index_seconds": round(indexing, 1),
                                  **measure(size, member, server, specs, pages,
                                                           args.budget, args.limit)}
            print(f"measured {size}: {json.dumps(results[str(size)])}", flush=True)
        if args.explain:
            explain(member, SAMPLE_QUERY)
            explain(member, "ombudsman")
            explain(member, "")
    finally:
        if server:
            server.stop()
        _clean_up(args, scratch)
    print_table(results)
    changed = not args.rev and fingerprint(ROOT) != code
    if changed:
        print("note: hub/library/search.py or hub/policy.py changed during the run; "
              "the figures are for the copy taken at the start")
    summary = {"engine": args.engine, "queries": count, "page_requests": pages,
               "code": {"rev": args.rev or "working tree", "sha1": code,
                        "changed_during_run": changed},
               "sizes": results, "targets": targets(results)}
    for name, target in summary["targets"].items():
        print(f"target {name}: {target['value']} (limit {target['limit']}) met={target['met']}")
    print(json.dumps(summary))


def fingerprint(root: Path) -> str:
    """Which search code ran: other people may change it while a long run goes on."""
    digest = hashlib.sha1()
    for name in ("hub/library/search.py", "hub/policy.py"):
        digest.update((root / name).read_bytes())
    return digest.hexdigest()[:12]


def _clean_up(args, scratch):
    from django.db import connections

    connections.close_all()
    if args.keep:
        print(f"kept {scratch}" + (f" and database {PG_NAME}" if args.engine == "postgresql"
                                   else ""))
        return
    if args.engine == "postgresql":
        _postgres(f"DROP DATABASE IF EXISTS {PG_NAME} WITH (FORCE)")
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
