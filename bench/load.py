"""How many requests a second the hub serves, and how fast, with 32 connections at once.

Starts the hub as the README does (``manage.py serve``, two web workers) on a scratch copy of
the code, loads the demo plus more (2,000 library resources, 300 members, 200 events), and
drives it from a second process on loopback with wrk: a trivial view (``/ping``, no database,
no session), the home page, a member's library search (the search benchmark's queries in
turn, each also timed once before any load), a resource page and the events list,
one after another, the trivial view first and last. Each page's throughput is compared with
the trivial view's, served by the same server in the same run. Everything lives in a scratch
data directory and a scratch database; nothing of the developer's own data is touched.

    .venv/bin/python bench/load.py [--seconds 20] [--connections 32] [--resources 2000]
        [--members 300] [--events 200] [--engine sqlite|postgresql] [--quick] [--keep]

The last line printed is one JSON object with every figure and, for each page, whether it
met the targets: at least half the trivial view's throughput, and p95 under 150 ms.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import library_search  # the same generated library as the search benchmark
from hubserver import HubServer

ROOT = Path(__file__).resolve().parent.parent
PG_NAME = "hub_bench_load"  # not library_search's database, so both can run at once
WORKERS = 2  # what HubServer starts, as the README does
THREADS = 2  # wrk's threads: the machine the targets are set for has two CPUs
SEARCH_WORD = "community"  # among the commonest words of the generated library
P95_LIMIT_MS = 150
THROUGHPUT_SHARE = 0.5
LIST_PAGES = ("library_search", "events")
# The events list: the community area's front page lists events while it has nothing else.
EVENT_URL_NAMES = ("community:home",)
WARM_UP = 4  # requests per page before timing, so both web workers have loaded their code

# wrk's own report gives p50/75/90/99; this script prints p95 too, and counts the answers
# that are not 2xx (wrk alone counts only 4xx and 5xx). Each wrk thread counts in its own Lua
# state; done() adds the threads up.
WRK_SCRIPT = r"""
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  non2xx = 0
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local non2xx_total = 0
  for _, thread in ipairs(threads) do
    non2xx_total = non2xx_total + thread:get("non2xx")
  end
  local e = summary.errors
  io.write(string.format(
    "LOAD requests=%d duration_us=%d bytes=%d non2xx=%d connect=%d read=%d write=%d "
    .. "timeout=%d p50_us=%d p95_us=%d p99_us=%d max_us=%d mean_us=%d\n",
    summary.requests, summary.duration, summary.bytes, non2xx_total, e.connect, e.read,
    e.write, e.timeout, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, latency.mean))
end
"""
# A page driven through several addresses in turn: each wrk connection takes the next one.
ROTATE_SCRIPT = r"""
paths = {%s}
counter = 0

function request()
  counter = counter + 1
  return wrk.format(nil, paths[(counter %% #paths) + 1])
end
"""


def search_paths() -> list[str]:
    """The member's searches under load: every distinct query of the search benchmark's mix
    (common and rare words, two words, phrases, filters, the plain listing), in the mix's
    proportions, so the load is not one address answered from one copy."""
    seen, paths = set(), []
    for _, spec in library_search.query_mix(200):
        path = library_search.page_path(spec)
        if path not in seen:
            seen.add(path)
            paths.append(path)
    return paths


def rotation_script(work: Path, name: str, paths: list[str]) -> Path:
    script = work / f"{name}.lua"
    quoted = ", ".join('"' + p.replace("\\", "\\\\").replace('"', '\\"') + '"' for p in paths)
    script.write_text(WRK_SCRIPT + ROTATE_SCRIPT % quoted)
    return script


LOAD_LINE = re.compile(r"^LOAD ((?:\w+=\d+ ?)+)$", re.MULTILINE)


# --- The scratch hub and its data -----------------------------------------------------------

def configure(engine: str) -> Path:
    """The search benchmark's scratch hub (data directory, database, copy of the code,
    migrated), with a database of its own on PostgreSQL."""
    library_search.PG_NAME = PG_NAME
    return library_search.configure(engine, rev=None)


def populate(resources: int, members: int, events: int) -> dict:
    """The demo, then more: ``resources`` generated library resources, ``members`` people in
    all, ``events`` events when the community app can make them. Returns what was made."""
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("demo_load", stdout=io.StringIO())
    orgs, contributors, member = library_search.cast()
    library_search.grow(library_search.Library(), resources, orgs, contributors, member)
    made_members = _more_members(members, orgs)
    made_events = _events(events)
    from hub.library.models import Resource
    from hub.members.models import User

    return {"member": member, "resources": Resource.objects.count(),
            "generated_resources": resources, "members": User.objects.count(),
            "generated_members": made_members, "events": made_events,
            "build_seconds": round(time.perf_counter() - started, 1)}


def _more_members(total: int, orgs) -> int:
    """Plain members, each in one of the organisations, until the hub has ``total`` people."""
    from django.db import transaction

    from hub.members.models import Membership, Profile, User

    missing = max(0, total - User.objects.count())
    with transaction.atomic():
        for n in range(missing):
            person = User.objects.create_user(f"person{n}@bench.example", None,
                                              standing="member")
            Profile.objects.create(user=person, display_name=f"Bench Person {n}")
            Membership.objects.create(user=person, organisation=orgs[n % len(orgs)])
    return missing


def _events(count: int) -> int | None:
    """``count`` events from the community app's demo helper; None when there is no such app
    (or helper) in the code being measured."""
    try:
        from hub.community.demo import bulk_events
    except ImportError:
        return None
    bulk_events(count)
    return count


def events_url() -> tuple[str, str] | tuple[None, None]:
    """The events list's URL name and address, if the code being measured has one."""
    from django.urls import NoReverseMatch, reverse

    for name in EVENT_URL_NAMES:
        try:
            return name, reverse(name)
        except NoReverseMatch:
            continue
    return None, None


def pages(member) -> dict[str, tuple[str, bool]]:
    """Page name -> (path, signed in as the member). The events list may be missing."""
    from hub.library.models import Resource

    resource = (Resource.objects.filter(status="published", metadata_tier="members",
                                        organisation__slug__startswith="bench-")
                .order_by("pk").first())
    found = {"trivial": ("/ping", False), "trivial_member": ("/ping", True),
             "home": ("/", False),
             "library_search": (f"/library/?q={SEARCH_WORD}", True),
             "resource": (f"/library/{resource.pk}/", True)}
    events = events_url()[1]
    if events:
        found["events"] = (events, False)
    return found


def check(server, member, cookie, found):
    """Every page answers 200 before the load starts (a few times, to warm both workers), the
    member's pages are signed in, and the search shows the member's results."""
    for name, (path, signed_in) in found.items():
        for _ in range(WARM_UP):
            body = server.get(path, cookie if signed_in else None)
        if signed_in and not name.startswith("trivial") and "Sign out" not in body:
            raise RuntimeError(f"{name} ({path}) does not show a signed-in page")
    total = library_search.service_total(member, {"text": SEARCH_WORD}, None)
    if not total or f"{total:,} resource" not in server.get(found["library_search"][0], cookie):
        raise RuntimeError(f"the library search does not show the member's {total} results")


# --- Load -----------------------------------------------------------------------------------

def wrk_version() -> str:
    result = subprocess.run(["wrk", "--version"], capture_output=True, text=True)  # noqa: S607
    return (result.stdout + result.stderr).strip().splitlines()[0].split(" [")[0]


def drive(url, *, seconds, connections, script, cookie=None) -> dict:
    """One wrk run against ``url``: throughput, latency percentiles and every error."""
    command = ["wrk", f"-t{min(THREADS, connections)}", f"-c{connections}", f"-d{seconds}s",
               "--timeout", "10s", "--latency", "-s", str(script), url]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    result = subprocess.run(command, capture_output=True, text=True,  # noqa: S603
                            timeout=seconds + 60)
    match = LOAD_LINE.search(result.stdout)
    if result.returncode != 0 or not match:
        raise RuntimeError(f"wrk failed ({result.returncode}): {result.stdout}{result.stderr}")
    raw = {k: int(v) for k, v in (pair.split("=") for pair in match.group(1).split())}
    socket_errors = {k: raw[k] for k in ("connect", "read", "write", "timeout")}
    duration = raw["duration_us"] / 1e6
    return {
        "requests": raw["requests"], "seconds": round(duration, 2),
        "requests_per_second": round(raw["requests"] / duration, 1),
        "p50_ms": raw["p50_us"] / 1000, "p95_ms": raw["p95_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000, "max_ms": raw["max_us"] / 1000,
        "mean_ms": raw["mean_us"] / 1000, "bytes": raw["bytes"], "non_2xx": raw["non2xx"],
        "socket_errors": socket_errors,
        "errors": raw["non2xx"] + sum(socket_errors.values()),
    }


def settle(server, limit=30):
    """Wait until the server has worked through the requests still queued from the last run:
    wrk stops, but gunicorn still answers every request it had accepted. A request sent now
    waits behind them; settled when two in a row come back about as fast as the fastest so far
    (or after ``limit`` seconds), whatever else the machine is busy with."""
    deadline, times = time.monotonic() + limit, []
    while time.monotonic() < deadline:
        began = time.perf_counter()
        server.get("/ping")
        times.append(time.perf_counter() - began)
        quick = 2 * min(times) + 0.005
        if len(times) >= 3 and times[-1] < quick and times[-2] < quick:
            return
        time.sleep(0.02)


def cold(server, cookie, paths) -> dict:
    """Each search once, one after another, before any load: the first time a query is
    asked (for this kind of member) the server works it out and renders it; the figures
    under load then include the copies shared after that first time. Whichever worker
    answers keeps its copy; the other renders its own when first asked under load."""
    times = []
    for path in paths:
        began = time.perf_counter()
        server.get(path, cookie)
        times.append((time.perf_counter() - began) * 1000)
    again = []
    for path in paths:
        began = time.perf_counter()
        server.get(path, cookie)
        again.append((time.perf_counter() - began) * 1000)

    def summary(values):
        ordered = sorted(values)
        return {"p50_ms": round(ordered[len(ordered) // 2], 1),
                "p95_ms": round(ordered[max(0, -(-len(ordered) * 95 // 100) - 1)], 1),
                "max_ms": round(ordered[-1], 1)}

    return {"queries": len(paths), "first": summary(times), "second": summary(again)}


def measure(server, cookie, found, *, seconds, connections, script,
            scripts=None) -> tuple[dict, dict]:
    """wrk on each page in turn, the trivial view first and last, both as a visitor and
    signed in as the member (a signed-in request reads the session and the person, whatever
    the view). Returns (trivial runs, pages), each page with its throughput as a share of the
    trivial view's mean for the same kind of visitor, and of the visitor's trivial view."""
    base = f"http://127.0.0.1:{server.port}"

    def run(name):
        path, signed_in = found[name]
        settle(server)
        shown = "several addresses in turn" if name in (scripts or {}) else path
        print(f"loading {name} ({shown}) for {seconds} s...", flush=True)
        figures = drive(base + path, seconds=seconds, connections=connections,
                        script=(scripts or {}).get(name, script),
                        cookie=cookie if signed_in else None)
        return {"path": path, "signed_in": signed_in, **figures}

    trivial = {"first": run("trivial"), "member_first": run("trivial_member")}
    measured = {name: run(name) for name in found if not name.startswith("trivial")}
    trivial["member_last"] = run("trivial_member")
    trivial["last"] = run("trivial")
    mean = (trivial["first"]["requests_per_second"]
            + trivial["last"]["requests_per_second"]) / 2
    member_mean = (trivial["member_first"]["requests_per_second"]
                   + trivial["member_last"]["requests_per_second"]) / 2
    trivial["mean_requests_per_second"] = round(mean, 1)
    trivial["member_mean_requests_per_second"] = round(member_mean, 1)
    for figures in measured.values():
        same_kind = member_mean if figures["signed_in"] else mean
        figures["ratio_to_trivial"] = round(figures["requests_per_second"] / same_kind, 3)
        figures["ratio_to_visitor_trivial"] = round(figures["requests_per_second"] / mean, 3)
    measured.setdefault("events", None)
    return trivial, measured


def targets(measured: dict) -> list[dict]:
    """For every page, whether it met each target; a page with errors (or none) met none."""
    result = []
    for name, f in measured.items():
        clean = f is not None and f["errors"] == 0 and f["requests"] > 0
        result.append({
            "page": name, "list_page": name in LIST_PAGES,
            "throughput_half_of_trivial": clean and f["ratio_to_trivial"] >= THROUGHPUT_SHARE,
            "p95_under_150ms": clean and f["p95_ms"] < P95_LIMIT_MS,
        })
    return result


# --- Reporting ------------------------------------------------------------------------------

def print_table(trivial, measured, settings):
    print(f"\n{settings['engine']}, {settings['workers']} web workers, "
          f"{settings['connections']} connections, {settings['seconds']} s per page "
          f"({settings['wrk']})")
    print(f"{'page':<16} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
          f"{'errors':>7} {'ratio':>6}")
    rows = [("trivial (first)", trivial["first"]),
            ("trivial, member", trivial["member_first"]), *measured.items(),
            ("trivial, member", trivial["member_last"]), ("trivial (last)", trivial["last"])]
    for name, f in rows:
        if f is None:
            print(f"{name:<16} not available")
            continue
        ratio = f"{f['ratio_to_trivial']:.2f}" if "ratio_to_trivial" in f else ""
        print(f"{name:<16} {f['requests_per_second']:>8.1f} {f['p50_ms']:>8.1f} "
              f"{f['p95_ms']:>8.1f} {f['p99_ms']:>8.1f} {f['errors']:>7} {ratio:>6}")
    print(f"trivial view mean: {trivial['mean_requests_per_second']:.1f} req/s as a visitor, "
          f"{trivial['member_mean_requests_per_second']:.1f} req/s signed in (a page's ratio "
          "is to the trivial view for the same kind of visitor)")
    for name, f in rows:
        if f and f["errors"]:
            print(f"ERRORS on {name}: {f['non_2xx']} answers not 2xx, socket errors "
                  + ", ".join(f"{k} {v}" for k, v in f["socket_errors"].items()))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, help="load per page (default 20; 3 with --quick)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--resources", type=int, help="generated library resources "
                        "(default 2,000; 200 with --quick)")
    parser.add_argument("--members", type=int, default=300, help="people in all")
    parser.add_argument("--events", type=int, help="events (default 200; 20 with --quick)")
    parser.add_argument("--engine", choices=["sqlite", "postgresql"],
                        default=os.environ.get("HUB_DB_ENGINE", "sqlite"))
    parser.add_argument("--quick", action="store_true", help="small data, 3 s per page (CI)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch data and database")
    args = parser.parse_args(argv)
    seconds = args.seconds or (3 if args.quick else 20)
    resources = args.resources or (200 if args.quick else 2000)
    events = args.events if args.events is not None else (20 if args.quick else 200)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: make loadgen (Debian's wrk)")
    version = wrk_version()
    scratch = configure(args.engine)
    server, work = None, Path(tempfile.mkdtemp(prefix="hub-bench-load-wrk-"))
    try:
        data = populate(resources, args.members, events)
        print(f"built {data['resources']} resources, {data['members']} members, "
              f"{data['events'] if data['events'] is not None else 'no'} events "
              f"in {data['build_seconds']} s", flush=True)
        found, events_name = pages(data["member"]), events_url()[0]
        if "events" not in found:
            print("events list: not available", flush=True)
        elif data["events"] is None:
            print("events: no hub.community.demo.bulk_events, so the list shows the demo's "
                  "events only", flush=True)
        cookie = HubServer.cookie_for(data["member"])
        server = HubServer(scratch)
        check(server, data["member"], cookie, found)
        script = work / "report.lua"
        script.write_text(WRK_SCRIPT)
        searches = search_paths()
        first_searches = cold(server, cookie, searches)
        print(f"library search, {len(searches)} queries asked once each: first time p50 "
              f"{first_searches['first']['p50_ms']} ms, p95 {first_searches['first']['p95_ms']}"
              f" ms; second time p50 {first_searches['second']['p50_ms']} ms, p95 "
              f"{first_searches['second']['p95_ms']} ms", flush=True)
        rotations = {"library_search": rotation_script(work, "library_search", searches)}
        trivial, measured = measure(server, cookie, found, seconds=seconds,
                                    connections=args.connections, script=script,
                                    scripts=rotations)
        measured["library_search"].update(path=f"{len(searches)} searches in turn",
                                          paths=searches)
    finally:
        if server:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
        library_search._clean_up(args, scratch)
    settings = {"engine": args.engine, "workers": WORKERS, "connections": args.connections,
                "wrk_threads": min(THREADS, args.connections), "seconds": seconds,
                "quick": args.quick, "wrk": version}
    print_table(trivial, measured, settings)
    runs = [trivial[k] for k in ("first", "member_first", "member_last", "last")]
    errors = sum(f["errors"] for f in [*runs, *measured.values()] if f)
    summary = {
        "benchmark": "load", **settings,
        "rows": {k: data[k] for k in ("resources", "generated_resources", "members",
                                      "generated_members", "events")},
        "build_seconds": data["build_seconds"], "search_word": SEARCH_WORD,
        "library_search_queries": len(searches), "library_search_cold": first_searches,
        "events_url_name": events_name,
        "trivial": trivial, "pages": measured, "errors": errors,
        "targets": targets(measured),
        "limits": {"throughput_share_of_trivial": THROUGHPUT_SHARE, "p95_ms": P95_LIMIT_MS,
                   "list_pages": list(LIST_PAGES)},
    }
    for target in summary["targets"]:
        print(f"target {target['page']}{' (list page)' if target['list_page'] else ''}: "
              f"half of trivial throughput {target['throughput_half_of_trivial']}, "
              f"p95 under {P95_LIMIT_MS} ms {target['p95_under_150ms']}")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
