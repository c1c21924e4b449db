"""The assessment report benchmark runs end to end in its quick form."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIMING = {"p50_ms", "p95_ms", "max_ms", "count", "failures"}
PAGES = {"programme", "report"}
PEOPLE = {"member", "facilitator"}
SIZES = {"main", "responses", "initiatives"}
TARGETS = {"programme_p95_under_300ms", "queries_independent_of_responses"}


def test_bench_assessment_quick_run_ends_with_json_figures():
    """`bench/assessment_report.py --quick` exits cleanly and its last line holds every figure
    and every target, whether or not the targets are met."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")
           and k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    result = subprocess.run([sys.executable, "bench/assessment_report.py", "--quick"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=170)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["benchmark"] == "assessment_report"
    assert summary["size"] == {"initiatives": 20, "rounds": 3, "responses": 10,
                               "answers": summary["size"]["answers"]}
    assert summary["size"]["answers"] > 0
    assert set(summary["pages"]) == PAGES
    for page in summary["pages"].values():
        assert set(page) == PEOPLE
        for timing in page.values():
            assert TIMING <= set(timing)
            assert timing["count"] > 0 and timing["failures"] == 0
    assert set(summary["in_process_ms"]) == PAGES
    assert set(summary["queries"]) == PEOPLE
    for counts in summary["queries"].values():
        assert set(counts) == SIZES
        assert all(set(pages) == PAGES and all(n > 0 for n in pages.values())
                   for pages in counts.values())
    assert set(summary["queries_depend_on_initiatives"]) == PAGES
    assert set(summary["targets"]) == TARGETS
    for target in summary["targets"].values():
        assert {"value", "limit", "met"} <= set(target)
        assert isinstance(target["met"], bool)
