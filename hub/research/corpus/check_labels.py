"""The labelled transcripts: check their labels, and measure the pseudonymiser on them.

Each transcript ``tNN.txt`` has ``tNN.json`` beside it: the study it belongs to, that study's
registry (what the researcher typed into the form, in order) and every identifier in the text
as ``{start, end, text, kind, registered}``. README.md gives the labelling conventions.

    .venv/bin/python hub/research/corpus/check_labels.py     # exits 1 if a label is off

``measure()`` is the measurement that ``bench/pseudonymise.py`` prints and the tests assert:
one registry per study, built from the study's registry list and persisted between its
transcripts with ``dump()``/``load()`` (hashes only), so labels must carry across transcripts.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from hub.research.pseudonymise import KINDS, PEOPLE, STRUCTURED, Proposal, Registry, propose

CORPUS = Path(__file__).resolve().parent
LABEL_KINDS = ("person", "place", "organisation", *STRUCTURED)
MIN_WORDS, MAX_WORDS = 300, 900
TARGETS = {"registered": 1.0, **{kind: 1.0 for kind in STRUCTURED}, "overall": 0.95}


def load(directory: Path = CORPUS) -> list[dict]:
    transcripts = []
    for labels in sorted(directory.glob("t*.json")):
        data = json.loads(labels.read_text(encoding="utf-8"))
        data["name"] = labels.stem
        data["text"] = labels.with_suffix(".txt").read_text(encoding="utf-8")
        transcripts.append(data)
    return transcripts


def check(transcripts: list[dict]) -> list[str]:
    """Every problem with the labels: offsets that do not hold their text, overlaps, kinds."""
    problems = []
    for t in transcripts:
        words = len(t["text"].split())
        if not MIN_WORDS <= words <= MAX_WORDS:
            problems.append(f"{t['name']}: {words} words")
        last_end = -1
        for label in sorted(t["labels"], key=lambda lab: lab["start"]):
            where = f"{t['name']} {label['start']}-{label['end']} {label['text']!r}"
            if t["text"][label["start"]:label["end"]] != label["text"]:
                problems.append(f"{where}: offsets hold {t['text'][label['start']:label['end']]!r}")
            if label["kind"] not in LABEL_KINDS:
                problems.append(f"{where}: unknown kind {label['kind']}")
            if label["start"] < last_end:
                problems.append(f"{where}: overlaps the label before it")
            last_end = label["end"]
        for entry in t["registry"]:
            if entry["kind"] not in KINDS:
                problems.append(f"{t['name']}: registry kind {entry['kind']}")
    return problems


def family(kind: str) -> str:
    return "person" if kind in PEOPLE else kind


def _overlap(a0: int, a1: int, b0: int, b1: int) -> int:
    return max(0, min(a1, b1) - max(a0, b0))


def score(labels: list[dict], proposals: list[Proposal]) -> tuple[list[bool], list[bool]]:
    """Which labels were found, and which proposals were right.

    A label is found when one proposal of the same family (participants and likely names of
    people are people) covers at least 80% of it. A proposal is right when it finds a label, or
    lies at least 80% inside labels of its family (part of a longer name).
    """
    def finds(p, lab):
        return family(p.kind) == family(lab["kind"]) and _overlap(
            p.start, p.end, lab["start"], lab["end"]) >= 0.8 * (lab["end"] - lab["start"])

    found = [any(finds(p, lab) for p in proposals) for lab in labels]
    right = []
    for p in proposals:
        inside = sum(_overlap(p.start, p.end, lab["start"], lab["end"]) for lab in labels
                     if family(lab["kind"]) == family(p.kind))
        right.append(any(finds(p, lab) for lab in labels) or inside >= 0.8 * (p.end - p.start))
    return found, right


def measure(transcripts: list[dict] | None = None, key: bytes = b"labelled-set-key" * 2) -> dict:
    """Recall per kind of label, precision per kind of proposal, overall, and the targets."""
    transcripts = load() if transcripts is None else transcripts
    dumps: dict[str, str] = {}
    labels_seen, labels_found = Counter(), Counter()
    proposed, proposed_right = Counter(), Counter()
    missed = []
    for t in transcripts:
        registry = _registry(t, key, dumps.get(t["study"]))
        proposals = propose(t["text"], registry)
        dumps[t["study"]] = registry.dump()
        found, right = score(t["labels"], proposals)
        for label, ok in zip(t["labels"], found, strict=True):
            groups = [label["kind"], "overall"]
            groups += ["registered"] if label["registered"] else []
            groups += ["structured"] if label["kind"] in STRUCTURED else []
            for group in groups:
                labels_seen[group] += 1
                labels_found[group] += ok
            if not ok:
                missed.append({"transcript": t["name"], "start": label["start"],
                               "text": label["text"], "kind": label["kind"],
                               "registered": label["registered"]})
        for p, ok in zip(proposals, right, strict=True):
            for group in (family(p.kind), f"source:{p.source}", "overall"):
                proposed[group] += 1
                proposed_right[group] += ok
    recall = {g: _ratio(labels_found[g], labels_seen[g]) for g in labels_seen}
    precision = {g: _ratio(proposed_right[g], proposed[g]) for g in proposed}
    targets = {g: {"value": recall.get(g, 0.0), "limit": limit,
                   "met": recall.get(g, 0.0) >= limit} for g, limit in TARGETS.items()}
    return {"transcripts": len(transcripts), "labels": dict(labels_seen),
            "found": dict(labels_found), "proposals": dict(proposed),
            "proposals_right": dict(proposed_right), "recall": recall,
            "precision": precision, "targets": targets, "missed": missed}


def _registry(transcript: dict, key: bytes, dumped: str | None) -> Registry:
    if dumped is not None:
        return Registry.load(key, dumped)
    registry = Registry(key)
    for entry in transcript["registry"]:
        registry.register(entry["text"], entry["kind"], entry["entity"])
    return registry


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


if __name__ == "__main__":
    found_problems = check(load())
    for problem in found_problems:
        print(problem)
    print(f"{len(found_problems)} problems")
    sys.exit(1 if found_problems else 0)
