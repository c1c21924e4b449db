"""The load benchmark runs end to end in its quick form."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = {"home", "library_search", "resource", "events"}
FIGURES = {"path", "requests", "seconds", "requests_per_second", "p50_ms", "p95_ms", "p99_ms",
           "max_ms", "non_2xx", "socket_errors", "errors"}
SETTINGS = {"engine", "workers", "connections", "seconds", "wrk", "rows"}


@pytest.mark.skipif(shutil.which("wrk") is None,
                    reason="wrk is not installed (make loadgen installs Debian's wrk)")
def test_bench_load_quick_run_ends_with_json_figures():
    """`bench/load.py --quick --seconds 1` exits cleanly and its last line holds a figure for
    every page, every target (met or not), and no errors. The targets are never asserted."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")
           and k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    result = subprocess.run([sys.executable, "bench/load.py", "--quick", "--seconds", "1"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=170)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["benchmark"] == "load"
    assert SETTINGS <= set(summary)
    assert summary["engine"] == "sqlite" and summary["workers"] == 2
    assert set(summary["pages"]) == PAGES
    runs = [summary["trivial"][k] for k in ("first", "member_first", "member_last", "last")]
    runs += list(summary["pages"].values())
    for figures in runs:
        assert FIGURES <= set(figures)
        assert figures["requests"] > 0
        assert figures["errors"] == 0, figures
        assert set(figures["socket_errors"].values()) == {0}
    assert summary["library_search_queries"] > 1  # several searches in turn, not one address
    assert len(summary["pages"]["library_search"]["paths"]) == summary["library_search_queries"]
    assert summary["library_search_cold"]["first"]["p95_ms"] > 0
    assert summary["trivial"]["mean_requests_per_second"] > 0
    assert summary["trivial"]["member_mean_requests_per_second"] > 0
    for figures in summary["pages"].values():
        assert figures["ratio_to_trivial"] > 0 and figures["ratio_to_visitor_trivial"] > 0
    assert {t["page"] for t in summary["targets"]} == PAGES
    for target in summary["targets"]:
        assert isinstance(target["throughput_half_of_trivial"], bool)
        assert isinstance(target["p95_under_150ms"], bool)
