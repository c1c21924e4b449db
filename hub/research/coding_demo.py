"""Demo content for the research workspace's analysis: codebook, codings and memos on the
demo study (``hub.research.demo.DEMO_STUDY``).

Loads the engagement model's starting codebook, then has two of the team code each source by
simple word rules (the second coder a little differently, so that agreement has something to
measure), and adds a few memos. Running it again adds nothing new.
"""

from __future__ import annotations

import re

from django.db import transaction

from hub.research import codebook
from hub.research.demo import DEMO_STUDY
from hub.research.models import Code, Coding, Memo, Study, StudyMember

# (words that mark a sentence, sub-code) in order of preference; the first rule that matches
# a sentence decides its code.
RULES = [
    (("not trust", "don't trust", "lost trust", "never trust", "distrust", "suspicio"),
     "Loss of trust"),
    (("trust",), "Building trust"),
    (("spy", "spying", "watched", "intelligence", "informant"), "Feeling watched"),
    (("told us what", "feedback", "what happens to"), "Openness about use"),
    (("asked us", "consult", "agreed", "consent"), "Community consent"),
    (("box-ticking", "for show", "already decided", "tick"), "Tokenism"),
    (("partner", "together", "equal"), "Equal footing"),
    (("complain", "challenge"), "Complaints and redress"),
    (("accountab", "answer to", "explain"), "Answering to communities"),
    (("moved on", "new officer", "changed again", "funding ended"), "Turnover and loss"),
    (("every week", "know them", "relationship"), "Long-term contact"),
    (("risk", "stigma", "reputation"), "Risk to community partners"),
]
SENTENCE = re.compile(r"[^.?!\n]+[.?!]?")

MEMOS = [
    ("Building trust", "Trust and time",
     "Several participants tie trust to officers staying long enough to be known. Compare "
     "with the sub-code on turnover before writing this up."),
    ("Feeling watched", "Engagement read as surveillance",
     "Young people in particular describe engagement events as information gathering. Check "
     "whether police participants mention this at all."),
    ("Tokenism", "Boundary with consent",
     "Draw the line between 'asked after the decision' (tokenism) and 'asked and it changed "
     "something' (community consent); discuss at the next coding meeting."),
]


def _rule_code(sentence: str, by_name: dict[str, Code]) -> Code | None:
    low = sentence.lower()
    for words, name in RULES:
        if name in by_name and any(w in low for w in words):
            return by_name[name]
    return None


def load() -> int:
    """Returns how many codings and memos it added."""
    study = Study.objects.filter(title=DEMO_STUDY).first()
    if study is None:
        return 0
    members = list(StudyMember.objects.filter(
        study=study, role__in=[StudyMember.Role.LEAD, StudyMember.Role.CODER]).select_related(
        "user").order_by("role", "id"))
    coders = [m.user for m in members if m.role == StudyMember.Role.CODER] or [
        m.user for m in members]
    lead = next((m.user for m in members if m.role == StudyMember.Role.LEAD), None)
    if not coders:
        return 0
    first = coders[0]
    second = coders[1] if len(coders) > 1 else (lead or first)
    added = 0
    with transaction.atomic():
        codebook.codebook_load_starter(study=study, actor=lead or first)
        by_name = {c.name: c for c in Code.objects.filter(study=study)}
        for source in study.sources.all():
            for n, match in enumerate(SENTENCE.finditer(source.text)):
                text = match.group()
                start = match.start() + len(text) - len(text.lstrip())
                end = match.end() - (len(text) - len(text.rstrip()))
                if end - start < 12:
                    continue
                code = _rule_code(text, by_name)
                if code is None:
                    continue
                _, made = Coding.objects.get_or_create(source=source, code=code, start=start,
                                                       end=end, coder=first)
                added += made
                if n % 3 == 2:
                    continue  # the second coder misses some
                other = code
                if n % 5 == 0 and code.parent_id:
                    other = by_name.get("Loss of trust", code) if code.name == "Building trust" \
                        else code.parent  # and sometimes codes at the broader level
                _, made = Coding.objects.get_or_create(source=source, code=other, start=start,
                                                       end=end, coder=second)
                added += made
        for code_name, title, text in MEMOS:
            code = by_name.get(code_name)
            if code is not None:
                _, made = Memo.objects.get_or_create(study=study, code=code, title=title,
                                                     defaults={"text": text,
                                                               "author": lead or first})
                added += made
        source = study.sources.first()
        if source is not None:
            _, made = Memo.objects.get_or_create(
                study=study, source=source, title="First reading",
                defaults={"text": "Rich on relationships with neighbourhood officers; little on "
                          "governance. Worth a second coder's eye.", "author": first})
            added += made
    return added
