"""The research queries benchmark runs end to end in its quick form."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIMING = {"p50_ms", "p95_ms", "max_ms", "count", "failures"}
PAGES = {"retrieve", "cooccurrence", "analysis", "coding_page_long", "export_csv"}
TARGETS = {"retrieve_p95_under_300ms", "cooccurrence_p95_under_300ms"}


def test_bench_research_quick_run_ends_with_json_figures():
    """`bench/research_queries.py --quick` exits cleanly and its last line holds every figure
    and every target, whether or not the targets are met."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")
           and k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    result = subprocess.run([sys.executable, "bench/research_queries.py", "--quick"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["benchmark"] == "research_queries"
    assert summary["size"]["sources"] == 10 and summary["size"]["codings"] == 1000
    assert set(summary["pages"]) == PAGES
    for timing in summary["pages"].values():
        assert TIMING <= set(timing)
        assert timing["count"] > 0 and timing["failures"] == 0
    assert set(summary["targets"]) == TARGETS
    assert all(isinstance(v, bool) for v in summary["targets"].values())
