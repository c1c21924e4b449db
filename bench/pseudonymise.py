"""How well the transcript pseudonymiser finds identifiers, on the labelled set.

Runs ``hub.research.pseudonymise.propose`` over the synthetic transcripts in
``hub/research/corpus/`` (20 interviews and focus groups, every identifier labelled), with one
registry per study that is kept between its transcripts as hashes only. Prints recall per kind
of identifier (and for registered names, structured identifiers and overall), precision per
kind of proposal and per source, the identifiers missed, and the targets: recall 1.0 for
registered names and for each structured kind (email, phone, postcode, address, url), overall
recall at least 0.95. Precision has no target; it is reported. Offline; touches no data.

    .venv/bin/python bench/pseudonymise.py

The last line printed is one JSON object with every figure and the targets.
"""

from __future__ import annotations

import json
import time

from hub.research.corpus.check_labels import LABEL_KINDS, check, load, measure


def main() -> int:
    transcripts = load()
    problems = check(transcripts)
    if problems:
        print("\n".join(problems))
        return 1
    started = time.perf_counter()
    run = measure(transcripts)
    seconds = time.perf_counter() - started
    words = sum(len(t["text"].split()) for t in transcripts)
    print(f"{run['transcripts']} transcripts, {words} words, {run['labels']['overall']} labelled "
          f"identifiers, {run['proposals']['overall']} proposals, {seconds:.2f} s")
    print(f"{'labels':<22}{'found':>8}{'of':>6}{'recall':>9}")
    for group in (*LABEL_KINDS, "registered", "structured", "overall"):
        if group in run["labels"]:
            print(f"{group:<22}{run['found'][group]:>8}{run['labels'][group]:>6}"
                  f"{run['recall'][group]:>9.3f}")
    print(f"{'proposals':<22}{'right':>8}{'of':>6}{'precision':>10}")
    for group in sorted(run["proposals"], key=lambda g: (g == "overall", g)):
        print(f"{group:<22}{run['proposals_right'][group]:>8}{run['proposals'][group]:>6}"
              f"{run['precision'][group]:>10.3f}")
    for miss in run["missed"]:
        registered = " (registered)" if miss["registered"] else ""
        print(f"missed {miss['transcript']} {miss['kind']}{registered}: {miss['text']!r}")
    for name, target in run["targets"].items():
        print(f"target recall {name}: {target['value']} (limit {target['limit']}) "
              f"met={target['met']}")
    summary = {"benchmark": "pseudonymise", "words": words, "seconds": round(seconds, 3),
               **{k: v for k, v in run.items() if k != "missed"},
               "missed": run["missed"]}
    print(json.dumps(summary))
    return 0 if all(t["met"] for t in run["targets"].values()) else 2


if __name__ == "__main__":
    raise SystemExit(main())
