"""Builders of small studies for the codebook, coding and analysis tests (no tests here).

The text is written so that spans can be worked out by hand: ``TEXT`` has three turns, one by
the interviewer (no participant), one by P1 (police) and one by P2 (young person).
"""

from hub.members.tests.factories import UserFactory
from hub.research.models import (
    Code,
    Coding,
    Participant,
    Source,
    SpeakerTurn,
    Study,
    StudyMember,
)

TEXT = ("Interviewer: How do you see trust here?\n"        # 0..40
        "P1: Trust grows slowly. Partnership helps us.\n"  # 40..86
        "P2: I do not trust them. Nobody asked us.\n")     # 86..128


def make_study(*, slug="s1", blind=False, title="Study one"):
    study = Study.objects.create(title=title, slug=slug, blind=blind)
    lead = UserFactory(profile__display_name="Lead Person")
    coder = UserFactory(profile__display_name="Coder One")
    coder2 = UserFactory(profile__display_name="Coder Two")
    viewer = UserFactory(profile__display_name="Viewer Person")
    outsider = UserFactory(profile__display_name="Outside Person")
    for user, role in ((lead, "lead"), (coder, "coder"), (coder2, "coder"), (viewer, "viewer")):
        StudyMember.objects.create(study=study, user=user, role=role)
    p1 = Participant.objects.create(study=study, code="P1", group="police",
                                    attributes={"area": "north"})
    p2 = Participant.objects.create(study=study, code="P2", group="young_person",
                                    attributes={"area": "south"})
    source = Source.objects.create(study=study, title="Interview A", text=TEXT,
                                   word_count=len(TEXT.split()))
    SpeakerTurn.objects.create(source=source, start=0, end=40, speaker="Interviewer")
    SpeakerTurn.objects.create(source=source, start=40, end=86, speaker="P1", participant=p1)
    SpeakerTurn.objects.create(source=source, start=86, end=128, speaker="P2", participant=p2)
    return {"study": study, "lead": lead, "coder": coder, "coder2": coder2, "viewer": viewer,
            "outsider": outsider, "p1": p1, "p2": p2, "source": source}


def code(study, name, parent=None, colour="#1f6feb"):
    return Code.objects.create(study=study, name=name, parent=parent, colour=colour)


def coded(source, code_, start, end, coder):
    return Coding.objects.create(source=source, code=code_, start=start, end=end, coder=coder)
