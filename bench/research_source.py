"""How a 50,000-word transcript fares: the import's review page, the confirm, the reading page.

In process, with Django's test client, in a scratch data directory and SQLite database (the
developer's data is not touched). The transcript is the labelled corpus
(``hub/research/corpus``) repeated to 50,000 words, with the corpus's names registered, so
the review page carries thousands of proposals. Timed:

- ``review_ms``: posting the pasted transcript and rendering the review page (reading, every
  proposal of the pseudonymiser, the page with the original carried in it);
- ``update_ms``: posting the review back once (the server proposes again);
- ``confirm_ms``: confirming (proposing again, applying, storing text and turns);
- ``read_p95_ms``: the reading page, every part of the transcript, p95.

    .venv/bin/python bench/research_source.py [--words 50000] [--keep]

The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
READ_P95_TARGET_MS = 300


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=50_000)
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="hub-bench-research-"))
    os.environ["HUB_DATA_DIR"] = str(scratch)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
    sys.path.insert(0, str(ROOT))
    try:
        print(json.dumps(run(args.words)))
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)


def transcript(words: int) -> str:
    corpus = sorted((ROOT / "hub/research/corpus").glob("t*.txt"))
    texts = [path.read_text() for path in corpus]
    out, n = [], 0
    while n < words:
        for text in texts:
            out.append(text)
            n += len(text.split())
            if n >= words:
                break
    return "\n\n".join(out)


def registered_names() -> list[tuple[str, str]]:
    names = []
    for path in sorted((ROOT / "hub/research/corpus").glob("t*.json")):
        for entry in json.loads(path.read_text()).get("registry", []):
            kind = "person" if entry["kind"] == "participant" else entry["kind"]
            names.append((entry["text"], kind))
    return names[:200]


def run(words: int) -> dict:
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    from hub.members.tests.factories import UserFactory
    from hub.research import services
    from hub.research.models import Source

    setup_test_environment()
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    lead = UserFactory(profile__display_name="Bench Lead")
    study = services.study_create(actor=lead, title="Bench study")
    for text, kind in registered_names():
        services.registry_add(actor=lead, study=study, kind=kind, names=[text])
    client = Client()
    client.force_login(lead)
    text = transcript(words)

    started = time.perf_counter()
    review = client.post(reverse("research:source_import", args=[study.slug]),
                         {"title": "Long interview", "kind": "interview", "pasted": text})
    review_ms = (time.perf_counter() - started) * 1000
    assert review.status_code == 200, review.status_code
    html = review.content.decode()
    fields = {name: re.search(rf'name="{name}" value="([^"]*)"', html, re.S).group(1)
              for name in ("origin", "registry_version")}
    keys = re.findall(r'name="keep" value="([^"]+)"', html)
    # the researcher keeps a handful of guesses as written; the rest is replaced
    data = {"title": "Long interview", "kind": "interview", "original": text,
            "keep": keys[::200], **fields}
    started = time.perf_counter()
    client.post(reverse("research:source_review", args=[study.slug]),
                {**data, "action": "update"})
    update_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    done = client.post(reverse("research:source_review", args=[study.slug]),
                       {**data, "action": "confirm"})
    confirm_ms = (time.perf_counter() - started) * 1000
    assert done.status_code == 302, done.status_code
    source = Source.objects.get(study=study)
    url = source.get_absolute_url()
    first = client.get(url)
    parts = first.context["page"].paginator.num_pages
    timings = []
    for _ in range(3):
        for part in range(1, parts + 1):
            started = time.perf_counter()
            client.get(url, {"page": part})
            timings.append((time.perf_counter() - started) * 1000)
    read_p95 = statistics.quantiles(timings, n=20)[-1]
    return {"words": len(text.split()), "characters": len(text), "proposals": len(keys),
            "review_page_bytes": len(review.content), "review_ms": round(review_ms),
            "update_ms": round(update_ms), "confirm_ms": round(confirm_ms),
            "turns": source.turns.count(), "reading_parts": parts,
            "read_p95_ms": round(read_p95, 1),
            "read_target_ms": READ_P95_TARGET_MS,
            "read_target_met": read_p95 < READ_P95_TARGET_MS,
            "load_average": round(os.getloadavg()[0], 1)}


if __name__ == "__main__":
    main()
