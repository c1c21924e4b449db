"""Demo content for the research workspace: a study with its team, participants and sources.

Everything is invented. The transcripts are written already pseudonymised (codes and
bracketed labels), as they would be stored after review; the registry holds the keyed hashes
of a few invented names, so an import of a new transcript shows the same labels.
"""
# ruff: noqa: E501 (the transcripts keep one paragraph per line, as a transcript file does)

from hub.members.demo import email_for
from hub.members.models import User
from hub.research import services
from hub.research.models import Participant, Source, Study

DEMO_STUDY = "Trust and engagement in Riverside (demo)"

DESCRIPTION = (
    "How police officers, community organisations and young people in Riverside describe "
    "trust between them, and what builds or breaks it. Semi-structured interviews and one "
    "focus group, coded against the hub's engagement model.")
QUESTIONS = (
    "How do police and community members describe trust, and do they mean the same thing?\n"
    "Which practices make an initiative feel done with a community rather than to it?\n"
    "Who bears the risk when partnership work goes wrong?")

G = Participant.Group
PARTICIPANTS = [
    ("P01", G.POLICE, "Northfield", {"role": "neighbourhood officer", "years in role": "6-10",
                                     "age band": "35-44"}),
    ("P02", G.POLICE, "Northfield", {"role": "prevent officer", "years in role": "0-5",
                                     "age band": "25-34"}),
    ("C01", G.COMMUNITY_ORG, "Riverside", {"role": "youth project coordinator",
                                           "years in role": "6-10", "age band": "35-44"}),
    ("C02", G.COMMUNITY_MEMBER, "Riverside", {"role": "parent", "age band": "45-54"}),
    ("Y01", G.YOUNG_PERSON, "Riverside", {"age band": "16-18"}),
    ("Y02", G.YOUNG_PERSON, "Riverside", {"age band": "19-21"}),
    ("Y03", G.YOUNG_PERSON, "Eastgate", {"age band": "16-18"}),
    ("S01", G.PRACTITIONER, "Northfield", {"role": "detached youth worker",
                                           "years in role": "11+", "age band": "45-54"}),
]

# Invented names registered for the demo, so their hashes give these labels on a new import.
NAMES = [("P01", ["Daniel Mercer", "Dan Mercer", "PC Mercer"]),
         ("C01", ["Rukhsana Bibi", "Rukhsana"]),
         ("Y01", ["Kayden Ashworth", "Kayden"])]
PLACES = [["Millrace Estate", "the Millrace"], ["Cobden Street Mosque"]]

SOURCES = [
    ("Interview 1, neighbourhood officer", Source.Kind.INTERVIEW, """\
Interview 1. Neighbourhood officer, recorded at the station.

Interviewer: How would you describe trust between your team and people on [Place 1]?

[P01]: Patchy, honestly. With the older residents it's good, because they've known me for years and they've seen me come back when I said I would. With the young lads it's different. They see the uniform first. One stop and search that goes badly undoes about six months of football on a Thursday.

Interviewer: What builds it, in your experience?

[P01]: Turning up when nothing's wrong. Telling people what we did with what they told us, even if the answer is "we couldn't do anything yet". When the residents' forum asked us to stop parking the van outside [Place 2] at prayer times, we stopped, and we told them we'd stopped. That mattered more than any leaflet.

Interviewer: And what breaks it?

[P01]: Surprises. If people find out about something from the news before they hear it from us. And when another unit comes in, does something heavy-handed, and leaves us to pick up the pieces. People don't separate us; why would they?

Interviewer: Do communities have a say in how you work here?

[P01]: Some. The forum sets two of our priorities each quarter. But the bigger decisions, the counter-terrorism side, that's not something I can open up, and I think people know that. I'd rather be honest that there's a line than pretend there isn't.
"""),
    ("Interview 2, youth project coordinator", Source.Kind.INTERVIEW, """\
Interview 2. Community organisation, recorded at the project's office.

Interviewer: Could you start by saying what the project does?

[C01]: We run mentoring and sport for young people, fourteen to twenty-one, mostly from [Place 1]. We've been going about nine years. The police approached us about a partnership three years ago.

Interviewer: How did that feel at the start?

[C01]: Suspicious, if I'm honest. Parents asked me straight out whether we were passing names on. The first thing I did was ask the inspector to come and answer that question himself, in front of the parents, not to me in an office. He did, and he said what they would and wouldn't share, in plain words. That's when it started to work.

Interviewer: Do you feel the partnership is equal?

[C01]: More equal than it was. We now decide together which sessions officers come to and which they don't. Some spaces stay ours. But the money still comes with their targets attached, and when there's a national incident the tone changes overnight. Suddenly it's all about risk, and we're the ones the young people look at.

Interviewer: Who carries the risk, then?

[C01]: We do. If it goes wrong, it's our reputation on the estate. The police can move an officer; we can't move the project.
"""),
    ("Interview 3, detached youth worker", Source.Kind.INTERVIEW, """\
Interview 3. Youth worker, recorded at a community centre.

Interviewer: Where do you see trust between young people and the police?

[S01]: In small moments. An officer who remembers a name, who says sorry when they got it wrong. Young people are very good at spotting when something is a tick-box exercise, and they walk away from those.

Interviewer: Are young people asked what they think?

[S01]: Asked, yes, all the time. Listened to, less often. They fill in the consultation, and then nobody tells them what happened next. I keep saying: close the loop. "You said, we did." If you can't do what they asked, say why.

Interviewer: Is there healthy scepticism?

[S01]: There should be. I tell them trust isn't the same as agreeing with everything the police do. You can work with someone and still question them. That's what a grown-up relationship looks like.
"""),
    ("Focus group, young people and a parent", Source.Kind.FOCUS_GROUP, """\
Focus group with young people, with a parent present. Recorded at the youth project.

Facilitator: What comes to mind when I say "the police" round here?

[Y01]: Depends which ones. The ones who play football with us are alright. The ones in the cars, no.

[Y02]: My cousin got stopped three times in one week. Nobody ever said why. That's what people remember.

[Y03]: I don't think about them much, to be honest. I only see them when something has already happened.

Facilitator: Has anything made you trust them more?

[Y01]: When [Person 1] came to the mosque open day and just listened. He didn't give a speech. He asked what we wanted.

[C02]: As a parent I want to know what happens to what my son tells people. If he talks to a mentor, does it go to the police? Nobody has ever explained that to me properly.

[Y02]: Yeah, that. You don't know who's writing things down.

Facilitator: What would you change?

[Y03]: Let us be on the panel that decides what they focus on. Not just fill in a survey.

[C02]: And tell us afterwards what you did with it. Even if it's nothing.
"""),
]


def _user(key: str):
    return User.objects.filter(email=email_for(key)).first()


def load() -> int:
    """Create the demo study once; later runs change nothing. Returns the sources created."""
    lead, coder, viewer = _user("researcher"), _user("youth.admin"), _user("council")
    if lead is None or Study.objects.filter(title=DEMO_STUDY).exists():
        return 0
    study = services.study_create(actor=lead, title=DEMO_STUDY, description=DESCRIPTION,
                                  research_questions=QUESTIONS, listed=True)
    for user, role in ((coder, "coder"), (viewer, "viewer")):
        if user is not None:
            services.team_add(actor=lead, study=study, email=user.email, role=role)
    participants = {}
    for n, (code, group, location, attributes) in enumerate(PARTICIPANTS):
        participants[code] = services.participant_create(
            actor=lead, study=study, code=code, group=group, location=location,
            attributes=attributes, consent_date=f"2026-0{1 + n % 3}-1{n}",
            consent_quotation=True, consent_archiving=n % 3 != 2, consent_sharing=False)
    for code, names in NAMES:
        services.registry_add(actor=lead, study=study, kind="person", names=names,
                              participant=participants[code])
    for names in PLACES:
        services.registry_add(actor=lead, study=study, kind="place", names=names)
    for title, kind, text in SOURCES:
        study.refresh_from_db()
        # Written already pseudonymised: every proposal is declined, the text kept as it is.
        _, proposals, _, _ = services.review_build(study=study, text=text.strip(),
                                                   rejected=set(), marks=[])
        services.source_confirm(actor=lead, study=study, title=title, kind=kind, origin="paste",
                                text=text, rejected={f"{p.start}-{p.end}" for p in proposals},
                                marks=[], speakers={})
    return len(SOURCES)
