"""Demo content for engagement assessment: four fictional initiatives in the fictional town of
Northfield, a programme that holds them, rounds over two years with answers from several
perspectives, a context timeline, and an open round that demo members are invited to.

The answers are generated from a seeded random source around a leaning per perspective, so the
same demo is built every time. Every name, place and event here is invented.
"""

import random

from django.utils import timezone

from hub.assessment import services
from hub.assessment.models import (
    Answer,
    Audience,
    ContextEvent,
    Initiative,
    Perspective,
    Programme,
    Response,
    Round,
    RoundInvitation,
    new_token,
)
from hub.members.demo import email_for
from hub.members.models import Organisation, User

P = Perspective

INITIATIVES = [
    {
        "name": "Eastgate Security and Partnership Officers",
        "kind": Initiative.Kind.SECURITY_PARTNERSHIP, "area": "Eastgate, Northfield",
        "lead": "northfield-police",
        "partners": ["eastgate-community-forum", "northfield-council-safer-communities"],
        "audience": Audience.MEMBERS, "facilitator": "police.admin",
        "description": "Two counter-terrorism officers based at Eastgate station who say openly "
                       "what their role is. They hold a monthly open meeting at the community "
                       "centre, brief the Community Forum after incidents, and work with the "
                       "council on hate-crime reporting.",
        # perspective: (respondents, leaning 1–5) for each closed round, oldest first
        "rounds": [
            ("Baseline, spring 2025", 600, {P.POLICE: (6, 4.1), P.COMMUNITY_MEMBER: (9, 2.4),
                                             P.COMMUNITY_ORG: (4, 2.9), P.YOUNG_PERSON: (5, 1.9),
                                             P.STATUTORY: (3, 3.6), P.RESEARCHER: (2, 3.0)}),
            ("One year on, spring 2026", 240, {P.POLICE: (5, 4.0), P.COMMUNITY_MEMBER: (11, 3.1),
                                                P.COMMUNITY_ORG: (4, 3.5), P.YOUNG_PERSON: (6, 2.6),
                                                P.STATUTORY: (3, 3.7), P.POLICY_MAKER: (1, 3.5)}),
        ],
        "open_round": "Autumn 2026 review",
        "events": [
            (560, ContextEvent.Kind.CRISIS_INTERNATIONAL, "Attack abroad reported for weeks",
             "Heavy national coverage; several Eastgate families described being stared at "
             "and questioned on public transport."),
            (420, ContextEvent.Kind.POLICY, "New national prevention guidance",
             "Referral thresholds were changed and schools received new training."),
            (300, ContextEvent.Kind.CRISIS_LOCAL, "Arrest in Eastgate",
             "The officers briefed Forum members the same morning, before the press."),
            (150, ContextEvent.Kind.MEDIA, "Local paper series on 'hidden extremism'",
             "Criticised by the Forum as stigmatising the whole neighbourhood."),
        ],
    },
    {
        "name": "Riverside Youth Mentoring Project",
        "kind": Initiative.Kind.MENTORING, "area": "Riverside, Northfield",
        "lead": "riverside-youth-association", "partners": ["northfield-youth-service"],
        "audience": Audience.PUBLIC, "facilitator": "youth.admin",
        "description": "Trained volunteers, some with lived experience, mentor young people who "
                       "ask for support. The association sets its own aims; police and the "
                       "youth service attend a quarterly review as guests.",
        "rounds": [
            ("First review, 2026", 120, {P.YOUNG_PERSON: (8, 4.2), P.PRACTITIONER: (4, 4.0),
                                          P.COMMUNITY_MEMBER: (5, 3.9), P.POLICE: (3, 3.4)}),
        ],
        "events": [],
    },
    {
        "name": "Northfield Multi-agency Prevention Panel",
        "kind": Initiative.Kind.MULTI_AGENCY, "area": "Northfield",
        "lead": "northfield-council-safer-communities", "partners": ["northfield-police"],
        "audience": Audience.TEAM, "facilitator": "council",
        "description": "A monthly panel of council, police, health and education staff that "
                       "decides on support offered to people referred to it. Community "
                       "organisations are not represented on the panel.",
        "rounds": [
            ("Annual review, 2026", 90, {P.STATUTORY: (6, 3.6), P.POLICE: (4, 3.4),
                                          P.COMMUNITY_ORG: (4, 1.8), P.PRACTITIONER: (3, 2.3)}),
        ],
        "events": [],
    },
    {
        "name": "Parents' Safeguarding Circles",
        "kind": Initiative.Kind.COMMUNITY_LED, "area": "North Ward, Northfield",
        "lead": "northfield-somali-parents", "partners": [],
        "audience": Audience.MEMBERS, "facilitator": "parents.member",
        "description": "Parents meet in each other's homes to talk about online harms and "
                       "where to find help, in their own language and on their own terms.",
        "rounds": [],
        "events": [],
    },
]

NOTES = {
    "low": ["We heard about it only after it had started.",
            "Meetings feel like they are there to collect information from us.",
            "People worry about being seen talking to the officers.",
            "Decisions are announced, not discussed."],
    "high": ["The Forum helped write the terms of reference.",
             "They told us straight away what had happened and why.",
             "We asked for the meetings to move and they did.",
             "Young people sit on the steering group and chair some sessions."],
}


def _value(rng: random.Random, leaning: float) -> int | None:
    if rng.random() < 0.07:
        return None  # don't know
    return max(1, min(5, round(rng.gauss(leaning, 0.8))))


def _answers(rng, round_, plan) -> None:
    indicators = list(round_.instrument.indicators)
    for perspective, (count, leaning) in plan.items():
        for _ in range(count):
            response = Response.objects.create(
                round=round_, perspective=perspective, resume_hash=new_token()[1],
                submitted_at=round_.closes_at - timezone.timedelta(days=rng.randint(1, 10)))
            rows = []
            for indicator in indicators:
                value = _value(rng, leaning)
                note = ""
                if rng.random() < 0.04:
                    note = rng.choice(NOTES["low" if leaning < 3 else "high"])
                rows.append(Answer(response=response, indicator=indicator, value=value,
                                   dont_know=value is None, note=note))
            Answer.objects.bulk_create(rows)
    services.retally(round_)


def load() -> dict:
    """Load the demo's initiatives, rounds and programme. Safe to run again."""
    rng = random.Random(2026)
    orgs = {org.slug: org for org in Organisation.objects.all()}
    people = {user.email: user for user in User.objects.all()}
    instrument = services.current_instrument()
    now = timezone.now()
    made = []
    link = None
    for spec in INITIATIVES:
        if Initiative.objects.filter(name=spec["name"]).exists():
            made.append(Initiative.objects.get(name=spec["name"]))
            continue
        facilitator = people[email_for(spec["facilitator"])]
        initiative = Initiative.objects.create(
            name=spec["name"], kind=spec["kind"], area=spec["area"], country="GB",
            lead_organisation=orgs[spec["lead"]], description=spec["description"],
            audience=spec["audience"], starts_on=(now - timezone.timedelta(days=900)).date(),
            created_by=facilitator)
        initiative.partner_organisations.set([orgs[slug] for slug in spec["partners"]])
        initiative.facilitators.add(facilitator)
        for days_ago, kind, title, description in spec["events"]:
            ContextEvent.objects.create(
                initiative=initiative, kind=kind, title=title, description=description,
                happened_on=(now - timezone.timedelta(days=days_ago)).date(),
                added_by=facilitator)
        for title, days_ago, plan in spec["rounds"]:
            closes = now - timezone.timedelta(days=days_ago)
            round_ = Round.objects.create(
                initiative=initiative, instrument=instrument, title=title,
                opens_at=closes - timezone.timedelta(days=28), closes_at=closes,
                created_by=facilitator)
            _answers(rng, round_, plan)
        if spec.get("open_round"):
            round_ = Round.objects.create(
                initiative=initiative, instrument=instrument, title=spec["open_round"],
                opens_at=now - timezone.timedelta(days=3),
                closes_at=now + timezone.timedelta(days=25), created_by=facilitator)
            for key in ("forum.member", "police.officer", "youth.admin", "researcher"):
                RoundInvitation.objects.create(round=round_, user=people[email_for(key)],
                                               invited_by=facilitator)
            link = services.create_links(facilitator, round_, 1)[0]
        made.append(initiative)
    programme, _ = Programme.objects.get_or_create(
        name="Northfield prevention partnership programme",
        defaults={"area": "Northfield", "country": "GB",
                  "organisation": orgs["northfield-council-safer-communities"],
                  "audience": Audience.MEMBERS,
                  "description": "The council's partnership programme: everything in Northfield "
                                 "that brings police and communities together on preventing "
                                 "violent extremism.",
                  "created_by": people[email_for("council")]})
    programme.initiatives.set(made)
    return {"initiatives": len(made), "link": link}
