"""How retrieval and analysis hold up for a large study.

Builds a study of 100 interview transcripts of about 8,000 words each (speaker turns alternating
between the interviewer and one of 62 participants in six groups), the engagement model's
starting codebook, and 20,000 codings by two coders spread over the sources; plus one
50,000-word transcript with 500 codings for the coding page. Then it times, in process with
Django's test client (so the figures are the hub's own work: no network, no web server), signed
in as a coder of the team:

- the retrieval page for a mix of queries (one code; a code "and" another; "or … but not" with
  a group filter; sub-codes included with an attribute filter);
- the co-occurrence matrix page;
- the analysis page (frequencies by group with chart, and the matrix);
- the coding page of the 50,000-word transcript.

Everything lives in a scratch data directory and SQLite database; nothing of the developer's
own data is touched.

    .venv/bin/python bench/research_queries.py [--sources 100] [--words 8000]
        [--codings 20000] [--requests 60] [--quick] [--keep]

The last line printed is one JSON object with every figure and, for each target, whether it
was met.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
P95_LIMIT_MS = 300

SENTENCES = [
    "We used to see the same officer at the community centre every week.",
    "Nobody asked us before the project started, it was already decided.",
    "Trust takes years to build and a single raid to lose.",
    "The partnership board now has two residents on it.",
    "Some people think the events are a way of gathering information.",
    "I would complain, but I do not know who to complain to.",
    "The police explained what they did with what we told them.",
    "Young people do not feel safe talking to officers in uniform.",
    "Our organisation took a risk by being seen with the police.",
    "When the funding ended the whole thing stopped.",
    "They listened, and the plan changed because of what we said.",
    "It felt like box-ticking rather than real consultation.",
]
GROUPS = ["police", "community_org", "community_member", "young_person", "practitioner",
          "stakeholder"]


def configure() -> Path:
    for name in [n for n in os.environ if n.startswith("HUB_")]:
        del os.environ[name]
    scratch = Path(tempfile.mkdtemp(prefix="hub-bench-research-"))
    os.environ.update({"HUB_DATA_DIR": str(scratch), "DJANGO_SETTINGS_MODULE": "hub.settings",
                       "HUB_LOG_LEVEL": "WARNING",
                       "HUB_DB_NAME": str(scratch / "hub.sqlite3")})
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    return scratch


def transcript(rng, words: int, participants) -> tuple[str, list[tuple[int, int, str, object]]]:
    """A text of about ``words`` words in alternating turns, and its turns."""
    parts, turns, length, count = [], [], 0, 0
    speaker_pool = rng.sample(participants, k=min(3, len(participants)))
    while count < words:
        for label, participant, n in (("Interviewer", None, 1),
                                      (None, rng.choice(speaker_pool), rng.randint(3, 8))):
            label = label or participant.code
            body = " ".join(rng.choice(SENTENCES) for _ in range(n))
            chunk = f"{label}: {body}\n"
            turns.append((length, length + len(chunk), label, participant))
            parts.append(chunk)
            length += len(chunk)
            count += len(chunk.split())
    return "".join(parts), turns


def build(*, sources: int, words: int, codings: int, long_words: int, seed: int = 7) -> dict:
    from hub.members.models import Profile, User
    from hub.research import codebook
    from hub.research.models import (
        Code,
        Coding,
        Participant,
        Source,
        SpeakerTurn,
        Study,
        StudyMember,
    )

    rng = random.Random(seed)
    people = []
    for email, name in (("lead@bench.example", "Bench Lead"), ("coder@bench.example",
                                                                 "Bench Coder")):
        person = User.objects.create_user(email, None, standing="member")
        Profile.objects.create(user=person, display_name=name)
        people.append(person)
    lead, coder = people
    study = Study.objects.create(title="Bench study", slug="bench-study")
    StudyMember.objects.create(study=study, user=lead, role="lead")
    StudyMember.objects.create(study=study, user=coder, role="coder")
    participants = [Participant.objects.create(
        study=study, code=f"P{n:02d}", group=GROUPS[n % len(GROUPS)],
        attributes={"area": rng.choice(["north", "south", "east"])}) for n in range(62)]
    codebook.codebook_load_starter(study=study, actor=lead)
    codes = list(Code.objects.filter(study=study).values_list("pk", flat=True))

    made_sources = []
    for n in range(sources + 1):
        size = long_words if n == sources else words
        text, turns = transcript(rng, size, participants)
        source = Source.objects.create(study=study, title=f"Interview {n + 1}", text=text,
                                       word_count=len(text.split()))
        SpeakerTurn.objects.bulk_create([SpeakerTurn(source=source, start=s, end=e, speaker=lbl,
                                                     participant=p) for s, e, lbl, p in turns])
        made_sources.append((source, len(text)))
    rows = []
    long_source, long_len = made_sources[-1]
    for i in range(codings + 500):
        source, length = (long_source, long_len) if i >= codings else \
            made_sources[i % sources]
        start = rng.randrange(0, length - 400)
        rows.append(Coding(source=source, code_id=rng.choice(codes), start=start,
                           end=start + rng.randint(40, 400), coder=rng.choice(people)))
    Coding.objects.bulk_create(rows, batch_size=2000)
    return {"study": study, "coder": coder, "codes": codes, "long": long_source}


def timed(client, url: str, params: dict | None, requests: int) -> dict:
    times, failures = [], 0
    for _ in range(2):  # warm up
        client.get(url, params or {})
    for _ in range(requests):
        began = time.perf_counter()
        response = client.get(url, params or {})
        times.append((time.perf_counter() - began) * 1000)
        if response.status_code != 200:
            failures += 1
    times.sort()
    p95 = times[min(len(times) - 1, max(0, round(0.95 * len(times)) - 1))]
    return {"p50_ms": round(statistics.median(times), 1), "p95_ms": round(p95, 1),
            "max_ms": round(times[-1], 1), "count": len(times), "failures": failures}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sources", type=int, default=100)
    parser.add_argument("--words", type=int, default=8000)
    parser.add_argument("--codings", type=int, default=20000)
    parser.add_argument("--long-words", type=int, default=50000)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--quick", action="store_true",
                        help="10 sources of 1,000 words, 1,000 codings, 8 requests per page")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = parser.parse_args(argv)
    if args.quick:
        args.sources, args.words, args.codings, args.requests = 10, 1000, 1000, 8
        args.long_words = 10000
    scratch = configure()
    try:
        from django.test import Client
        from django.urls import reverse

        began = time.perf_counter()
        data = build(sources=args.sources, words=args.words, codings=args.codings,
                     long_words=args.long_words)
        build_s = round(time.perf_counter() - began, 1)
        study, codes = data["study"], data["codes"]
        client = Client(HTTP_HOST="localhost")
        client.force_login(data["coder"])
        slug = study.slug
        retrieve = reverse("research:retrieve", args=[slug])
        queries = [
            {"code": codes[1]},
            {"code": codes[0], "children": "on"},
            {"code": codes[2], "op1": "and", "code1": codes[5]},
            {"code": codes[3], "op1": "or", "code1": codes[8], "op2": "not",
             "code2": codes[12], "groups": ["police", "young_person"]},
            {"code": codes[0], "children": "on", "attribute": "area", "value": "north"},
        ]
        pages = {}
        per_query = [timed(client, retrieve, q, max(2, args.requests // len(queries)))
                     for q in queries]
        all_times = {"count": sum(p["count"] for p in per_query),
                     "failures": sum(p["failures"] for p in per_query),
                     "p50_ms": round(statistics.median([p["p50_ms"] for p in per_query]), 1),
                     "p95_ms": max(p["p95_ms"] for p in per_query),
                     "max_ms": max(p["max_ms"] for p in per_query)}
        pages["retrieve"] = all_times
        pages["cooccurrence"] = timed(client, reverse("research:cooccurrence", args=[slug]),
                                      None, args.requests)
        pages["analysis"] = timed(client, reverse("research:analysis", args=[slug]), None,
                                  max(2, args.requests // 3))
        pages["coding_page_long"] = timed(
            client, reverse("research:source_code", args=[slug, data["long"].pk]), None,
            max(2, args.requests // 3))
        pages["export_csv"] = timed(client, reverse("research:retrieve_export",
                                                    args=[slug, "csv"]), queries[1], 3)
        summary = {
            "benchmark": "research_queries",
            "method": "in-process Django test client, SQLite",
            "size": {"sources": args.sources, "words_per_source": args.words,
                     "codings": args.codings, "long_source_words": args.long_words,
                     "codes": len(codes)},
            "build_s": build_s,
            "pages": pages,
            "retrieve_queries": per_query,
            "targets": {
                "retrieve_p95_under_300ms": pages["retrieve"]["p95_ms"] < P95_LIMIT_MS
                and not pages["retrieve"]["failures"],
                "cooccurrence_p95_under_300ms": pages["cooccurrence"]["p95_ms"] < P95_LIMIT_MS
                and not pages["cooccurrence"]["failures"],
            },
        }
        for name, figures in pages.items():
            print(f"{name:18} p50 {figures['p50_ms']:8.1f} ms  p95 {figures['p95_ms']:8.1f} ms"
                  f"  ({figures['count']} requests, {figures['failures']} failed)")
        print(json.dumps(summary))
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
