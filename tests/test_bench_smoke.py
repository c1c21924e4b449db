"""The library search benchmark runs end to end in its quick form."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIGURES = {
    "build_seconds", "index_seconds", "service_p50_ms", "service_p95_ms", "raw_p50_ms",
    "raw_p95_ms", "ratio_p50", "ratio_p95", "page_p50_ms", "page_p95_ms", "page_failures",
    "sample_query", "sample_total_service", "sample_total_raw", "by_kind_p95_ms",
    "page_shared_p50_ms", "page_shared_p95_ms",
}
TARGETS = {"service_p95_vs_raw_p95", "page_p95_ms", "growth_service_p95_10k_to_100k"}


def test_bench_quick_run_ends_with_json_figures():
    """`bench/library_search.py --quick` exits cleanly and its last line holds every figure."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")
           and k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    result = subprocess.run([sys.executable, "bench/library_search.py", "--quick"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=110)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["engine"] == "sqlite"
    figures = summary["sizes"]["1000"]
    assert FIGURES <= set(figures)
    assert figures["service_count"] > 0 and figures["page_count"] > 0
    assert figures["page_failures"] == 0
    assert set(summary["targets"]) == TARGETS
    for target in summary["targets"].values():
        assert {"value", "limit", "met"} <= set(target)
