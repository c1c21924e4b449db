"""The hostile corpus (tools/hostile_files.py) through upload typing and isolated extraction."""

import importlib.util
import os
import resource
import time
from pathlib import Path

import pytest

from hub.library.files import EXTRACTABLE, Refused, extract_isolated, sniff

_spec = importlib.util.spec_from_file_location(
    "hostile_files", Path(__file__).resolve().parents[3] / "tools" / "hostile_files.py")
hostile = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hostile)

MAX_SECONDS = 2.0
MAX_RSS_MB = 256


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    directory = tmp_path_factory.mktemp("hostile")
    started = time.perf_counter()
    cases = hostile.build(directory)
    built_in = time.perf_counter() - started
    size = sum(path.stat().st_size for path in directory.iterdir())
    return directory, cases, built_in, size


def run_case(data: bytes, name: str) -> dict:
    """Type the file as an upload would, then read it as the task worker would."""
    started = time.perf_counter()
    try:
        found = sniff(data, name)
    except Refused as refused:
        return dict(outcome="refused", message=refused.message,
                    seconds=time.perf_counter() - started, rss=0.0)
    if found.kind not in EXTRACTABLE:
        return dict(outcome="stored", message=found.mime,
                    seconds=time.perf_counter() - started, rss=0.0)
    sniffed_in = time.perf_counter() - started
    result = extract_isolated(data, found.kind)
    return dict(outcome=result.status, message=result.message, text=result.text,
                seconds=sniffed_in + result.seconds, rss=result.peak_rss_mb)


def test_hostile_corpus_is_small_and_quick_to_build(corpus):
    """At least 60 inputs, built in under 20 s into under 100 MB."""
    _, cases, built_in, size = corpus
    print(f"\n{len(cases)} hostile files, {size / 2**20:.1f} MB, built in {built_in:.1f} s")
    assert len(cases) >= 60
    assert len({case["name"] for case in cases}) == len(cases)
    assert built_in < 20 and size < 100 * 2**20
    assert {case["expect"] for case in cases} <= {"refused", "review", "failed", "done", "stored"}


def test_every_hostile_file_ends_safely_within_limits(corpus):
    """Each file is refused, or read in the child into review/failed (or harmless text),
    within 2 s and 256 MB, with a reason whenever it is not plain text."""
    directory, cases, _, _ = corpus
    fds_before = len(os.listdir("/proc/self/fd"))
    rows, problems = [], []
    for case in cases:
        row = dict(case, **run_case((directory / case["name"]).read_bytes(), case["name"]))
        rows.append(row)
        if row["outcome"] != case["expect"]:
            problems.append(f"{case['name']}: {row['outcome']} ({row['message']}), "
                            f"expected {case['expect']}")
        if row["outcome"] in ("refused", "review", "failed") and not row["message"].strip():
            problems.append(f"{case['name']}: {row['outcome']} without a message")
        if row["outcome"] == "done" and not row["text"]:
            problems.append(f"{case['name']}: done with no text")
        if row["seconds"] > MAX_SECONDS or row["rss"] > MAX_RSS_MB:
            problems.append(f"{case['name']}: {row['seconds']:.2f} s, {row['rss']:.0f} MB")

    counts = {}
    for row in rows:
        counts[row["outcome"]] = counts.get(row["outcome"], 0) + 1
    print(f"\n{len(rows)} inputs: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
    for key, label in (("seconds", "slowest"), ("rss", "most memory")):
        print(f"{label}:")
        for row in sorted(rows, key=lambda row: row[key], reverse=True)[:5]:
            print(f"  {row['name']:36} {row['outcome']:8} {row['seconds']:5.2f} s "
                  f"{row['rss']:6.1f} MB")
    assert not problems, "\n".join(problems)

    # The parent is unharmed: no children left behind, no descriptors leaked, still working.
    assert not _zombie_children(), "every child was reaped"
    # Other tests' threads may open a few descriptors; 110 leaked children would show.
    assert len(os.listdir("/proc/self/fd")) <= fds_before + 10
    assert extract_isolated(b"Still here", "text").text == "Still here"
    parent_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"parent peak RSS {parent_mb:.0f} MB")
    assert parent_mb < 1024


def _zombie_children() -> list[int]:
    zombies = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] == "Z" and int(fields[1]) == os.getpid():
            zombies.append(int(entry))
    return zombies


def test_a_child_over_its_time_limit_is_killed_and_reported():
    """A file that takes too long is stopped at the limit and ends as failed, with a reason."""
    slow = b"<html><body>" + b"<i>a</i>" * 3_000_000 + b"</body></html>"
    result = extract_isolated(slow, "html", seconds=1)
    assert result.status == "failed" and result.text == ""
    assert "took longer than 1 second" in result.message
    assert result.seconds < 2


def test_a_child_over_its_memory_limit_fails_with_a_reason(corpus):
    """Under a 64 MB ceiling a Flate bomb fails cleanly, while a small file still reads."""
    directory, _, _, _ = corpus
    bomb = (directory / "pdf_flate_bomb.pdf").read_bytes()
    result = extract_isolated(bomb, "pdf", memory_mb=64)
    assert (result.status, result.text) == ("failed", "")
    assert "memory" in result.message
    assert extract_isolated(b"Small file", "text", memory_mb=64).status == "done"
