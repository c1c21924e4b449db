"""Fictional events for the demo: the hub's launch conference (hybrid, with an agenda and
access information), past events with notes and library items, and a small workshop that is
full with people waiting. Every name and place is invented."""

import uuid
from datetime import timedelta

from django.utils import timezone

from hub.community import caching, consult_demo, ideas_demo, markdown, stories_demo
from hub.community.models import AgendaItem, Event, Registration
from hub.core import fragments
from hub.core.services import unique_slug
from hub.library.models import Resource
from hub.members.demo import email_for
from hub.members.models import Organisation, User

POLICE, FORUM, YOUTH = ("northfield-police", "eastgate-community-forum",
                        "riverside-youth-association")
UNIVERSITY, COUNCIL = "northfield-university-ccsr", "northfield-council-safer-communities"

LAUNCH = "Launch conference: Police and Communities in Partnership"
LAUNCH_AGENDA = [
    ("09:30", "Arrival, coffee and registration", ""),
    ("10:00", "Welcome and why the hub exists", "Priya Sharma, Northfield City Council"),
    ("10:20", "Community-focussed or community-targeted? The research behind the model",
     "Dr Helen Price, University of Northfield"),
    ("11:15", "Panel: what partnership looks like from the neighbourhood",
     "Yasmin Haddad, Inspector Dana Whitfield and Bilal Hussain"),
    ("12:30", "Lunch (vegetarian and halal options, labelled)", ""),
    ("13:30", "Workshops: the library, engagement assessment, and running events", ""),
    ("15:00", "What next, together", "Morgan Ellis, hub staff"),
]

# title, organisation, organiser key, days from now, hours long, format, audience, capacity
EVENTS = [
    dict(title=LAUNCH, org=COUNCIL, by="council", days=21, hours=6, format="hybrid",
         audience="public", capacity=120,
         summary="A day to open the hub: the research, the people, and how to use it together.",
         venue="Northfield Central Library, Lecture Theatre",
         address="1 Market Square\nNorthfield NF1 2AB",
         link="https://meet.example.org/hub-launch",
         accessibility="Step-free entrance from Market Square and lifts to every floor. Hearing "
                       "loop in the lecture theatre; live captions for the online stream. A "
                       "quiet room is on the first floor and a prayer room on the ground floor. "
                       "Accessible toilets on every floor. Tell us anything else you need when "
                       "you register."),
    dict(title="Youth voice workshop: building an advisory panel", org=YOUTH, by="youth.admin",
         days=10, hours=2, format="in_person", audience="members", capacity=3,
         summary="A small, hands-on session on setting up a youth advisory panel with local "
                 "police.",
         venue="Riverside Youth Centre, Room 2", address="14 Canal Street\nNorthfield NF4 7QR",
         accessibility="Ground floor, step-free. Accessible toilet next to the room."),
    dict(title="Online briefing: sharing restricted material through the library",
         org=UNIVERSITY, by="researcher", days=35, hours=1, format="online",
         audience="members", capacity=None,
         summary="How partners decide together who may open sensitive files.",
         link="https://meet.example.org/library-briefing",
         accessibility="Live captions; slides sent beforehand on request."),
    dict(title="Eastgate spring listening session", org=FORUM, by="forum.editor", days=-40,
         hours=2, format="in_person", audience="public", capacity=60,
         summary="Residents, councillors and officers talked through local concerns.",
         venue="Eastgate Community Hall", address="3 Eastgate Road\nNorthfield NF2 3CD",
         accessibility="Step-free access; hearing loop.",
         notes="Around forty residents came. The main themes were trust after last year's "
               "incidents, more youth provision in the evenings, and how the forum reports "
               "back. The forum agreed to publish its notes and to hold the next session in "
               "Riverside.",
         resources=["Eastgate Community Forum: Notes from the Spring Listening Sessions 2026",
                    "Listening Before Acting: A Toolkit for Open Community Safety Meetings"]),
    dict(title="Partnership review seminar: the Eastgate schools programme", org=POLICE,
         by="police.admin", days=-75, hours=3, format="hybrid", audience="members",
         capacity=40, summary="Findings of the review, discussed with partners.",
         venue="Northfield Police Community Room", address="20 Station Road\nNorthfield NF1 5EF",
         link="https://meet.example.org/schools-review",
         accessibility="Step-free access via the side entrance; captions online.",
         notes="The review's recommendations were discussed with schools and parents. Partners "
               "asked for the data tables, which are in the library for members of partner "
               "organisations.",
         resources=["Partnership Review of the Eastgate Schools Programme, 2023–2025",
                    "Community-Focussed or Community-Targeted? A Practitioner's Guide to the "
                    "Engagement Model"]),
]


def load() -> int:
    """Create the demo events once; return how many there are."""
    orgs = {org.slug: org for org in Organisation.objects.filter(
        slug__in=[POLICE, FORUM, YOUTH, UNIVERSITY, COUNCIL])}
    people = {user.email: user for user in User.objects.filter(email__endswith="demo.example.org")}
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    for spec in EVENTS:
        if Event.objects.filter(title=spec["title"]).exists():
            continue
        _build(spec, orgs, people, now)
    load_spaces()
    load_news()
    ideas_demo.load()
    stories_demo.load()
    consult_demo.load()
    return Event.objects.filter(title__in=[spec["title"] for spec in EVENTS]).count()


def _build(spec, orgs, people, now) -> Event:
    from hub.community.services import RESERVED_SLUGS

    organiser = people[email_for(spec["by"])]
    starts = (now + timedelta(days=spec["days"])).replace(hour=10)
    event = Event.objects.create(
        title=spec["title"], slug=unique_slug(
            Event, spec["title"], reserved=RESERVED_SLUGS), summary=spec["summary"],
        description=spec["summary"], format=spec["format"], starts_at=starts,
        ends_at=starts + timedelta(hours=spec["hours"]), venue=spec.get("venue", ""),
        address=spec.get("address", ""), joining_link=spec.get("link", ""),
        accessibility=spec["accessibility"], capacity=spec["capacity"],
        audience=spec["audience"], organisation=orgs[spec["org"]],
        status=Event.Status.PUBLISHED, notes=spec.get("notes", ""), created_by=organiser)
    event.organisers.add(organiser)
    if spec["title"] == LAUNCH:
        AgendaItem.objects.bulk_create(
            AgendaItem(event=event, position=n, time=at, title=title, speaker=speaker)
            for n, (at, title, speaker) in enumerate(LAUNCH_AGENDA, 1))
        _register(event, people, ["forum.member", "police.officer", "parents.member"])
    if spec["capacity"] == 3:
        # Full, with two people waiting in order.
        _register(event, people, ["forum.member", "police.officer", "parents.member",
                                  "youthworker", "forum.admin"])
    if spec.get("resources"):
        event.resources.set(Resource.objects.filter(title__in=spec["resources"]))
    if spec["days"] < 0:
        _register(event, people, ["forum.member", "parents.member"])
    return event


def _register(event, people, keys) -> None:
    confirmed = event.registrations.filter(status=Registration.Status.CONFIRMED).count()
    for n, key in enumerate(keys):
        room = event.capacity is None or confirmed < event.capacity
        Registration.objects.create(
            event=event, user=people[email_for(key)],
            status=Registration.Status.CONFIRMED if room else Registration.Status.WAITING,
            requested_at=timezone.now() - timedelta(hours=len(keys) - n),
            confirmed_at=timezone.now() if room else None)
        confirmed += room


def bulk_events(count: int) -> None:
    """``count`` published, public events in the coming year, for load tests. Needs at least
    one organisation."""
    organisation = Organisation.objects.order_by("pk").first()
    if organisation is None:
        organisation = Organisation.objects.create(name="Bulk events organisation",
                                                   slug=f"bulk-events-{uuid.uuid4().hex[:8]}",
                                                   kind=Organisation.Kind.OTHER, country="GB")
    now = timezone.now().replace(second=0, microsecond=0)
    run = uuid.uuid4().hex[:8]
    formats = list(Event.Format.values)
    batch = []
    for n in range(count):
        starts = now + timedelta(days=1 + n % 365, hours=n % 9)
        fmt = formats[n % len(formats)]
        batch.append(Event(
            title=f"Partnership meeting {n + 1}", slug=f"bulk-{run}-{n + 1}",
            summary="A regular meeting of police and community partners.",
            format=fmt, starts_at=starts, ends_at=starts + timedelta(hours=2),
            venue="" if fmt == Event.Format.ONLINE else "Community centre",
            joining_link="https://meet.example.org/bulk" if fmt != Event.Format.IN_PERSON else "",
            capacity=None if n % 3 == 0 else 50, audience=Event.Audience.PUBLIC,
            organisation=organisation, status=Event.Status.PUBLISHED, published_at=now))
        if len(batch) >= 1000:
            Event.objects.bulk_create(batch)
            batch = []
    Event.objects.bulk_create(batch)
    fragments.bump(caching.EVENTS)  # bulk_create sends no signals


# --- Discussion spaces ------------------------------------------------------------------------

FORUM_SPACE = "Community safety forum"
HARD_SPACE = "Difficult conversations"
FORUM_RULES = """1. Be respectful: criticise ideas, not people.
2. No personal details of anyone who is not here to speak for themselves.
3. Officers post as officers; say when you speak for your organisation.
4. Flag what breaks these rules rather than replying to it."""
HARD_RULES = """This space is for saying what is hard to say: about trust, about policing, about
what happens in our neighbourhoods.

1. **Chatham House rule**: use what you learn here, but never say who said it.
2. Everyone posts under a pseudonym. Do not try to work out who is behind one.
3. No names of people who are not here, no addresses, no accusations against individuals.
4. Disagree without contempt. Moderators may hide posts that break these rules; every
   decision is in the moderation log."""

# space, thread title, [(author key, body)]
SPACE_THREADS = [
    (FORUM_SPACE, "Street lighting on the canal path", [
        ("forum.member", "Since the lights went out on the canal path, parents tell me their "
                         "children take the long way home. Who can we ask about it?"),
        ("police.officer", "We raised it with the council last month. @Tariq Rahman, could "
                           "the forum collect where people feel unsafe? A map would help."),
        ("council", "Thank you both. The repair is booked; I will post the date here."),
    ]),
    (HARD_SPACE, "Stop and search after the festival", [
        ("forum.member", "Several young people felt they were searched because of how they "
                         "look. They will not go to the police about it. How do we even "
                         "start that conversation?"),
        ("police.admin", "I want to hear this. What would make it feel safe to tell us, "
                         "without anyone being named?"),
        ("parents.member", "Honestly, a space like this one. And seeing that something "
                           "changes afterwards."),
    ]),
]


def load_spaces() -> int:
    """The demo's two spaces: an open forum, and an invitation-only, pseudonymous space under
    the Chatham House rule with a post hidden after flags waiting for the moderators."""
    from hub.community import spaces
    from hub.community.models import Post, Space, SpaceMembership, Thread

    if Space.objects.filter(name__in=[FORUM_SPACE, HARD_SPACE]).exists():
        return Space.objects.filter(name__in=[FORUM_SPACE, HARD_SPACE]).count()
    people = {user.email: user for user in User.objects.filter(email__endswith="demo.example.org")}

    def person(key):
        return people[email_for(key)]

    def space(name, **fields):
        made = Space.objects.create(name=name, slug=unique_slug(
            Space, name, reserved=spaces.RESERVED_SLUGS),
                                    created_by=person("moderator"), **fields)
        return made

    def join(made, key, role=SpaceMembership.Role.MEMBER):
        return SpaceMembership.objects.create(
            space=made, user=person(key), role=role, pseudonym=spaces.pseudonym_new(made),
            accepted_rules_at=timezone.now())

    forum = space(FORUM_SPACE, description="Residents, officers and the council on everyday "
                                           "safety in Northfield.", ground_rules=FORUM_RULES,
                  organisation=Organisation.objects.filter(slug=FORUM).first())
    hard = space(HARD_SPACE, description="Trust, grievance and policing, said plainly and "
                                         "safely.", ground_rules=HARD_RULES,
                 visibility=Space.Visibility.INVITATION, chatham_house=True, pseudonymous=True,
                 flag_threshold=2)
    members = {}
    for made, keys in ((forum, ["forum.member", "police.officer", "council", "forum.admin"]),
                       (hard, ["forum.member", "police.admin", "parents.member",
                               "youthworker"])):
        members[made.pk] = {"moderator": join(made, "moderator", SpaceMembership.Role.MODERATOR)}
        for key in keys:
            members[made.pk][key] = join(made, key)
    by_name = {FORUM_SPACE: forum, HARD_SPACE: hard}
    when = timezone.now() - timedelta(days=6)
    for space_name, title, posts in SPACE_THREADS:
        made = by_name[space_name]
        thread = Thread.objects.create(space=made, title=title,
                                       created_by=members[made.pk][posts[0][0]], created=when)
        for key, body in posts:
            when += timedelta(hours=5)
            Post.objects.create(thread=thread, author=members[made.pk][key], body_markdown=body,
                                body_html=markdown.render(body), created=when,
                                approved_at=when)
        thread.last_post_at = when
        thread.save(update_fields=["last_post_at"])
    # A post that two members flagged, hidden and waiting in the moderation queue.
    thread = hard.threads.get()
    flagged = Post.objects.create(
        thread=thread, author=members[hard.pk]["youthworker"],
        body_markdown="Nothing will change. Anyone who trusts them is naive.",
        body_html=markdown.render("Nothing will change. Anyone who trusts them is naive."),
        created=when + timedelta(hours=1), approved_at=when + timedelta(hours=1))
    spaces.post_flag(actor=person("forum.member"), post=flagged, reason="offensive",
                     note="Calls people naive; not what this space is for.")
    spaces.post_flag(actor=person("parents.member"), post=flagged, reason="offensive")
    return 2


LAUNCH_NEWS = "The Engagement Hub is open"
STATION_ROAD = "Station Road on Saturday evening: what we know"
YOUTH_BRIEFING = "Patrols near Riverside schools next week"

NEWS_ITEMS = [
    dict(kind="news", title=LAUNCH_NEWS, by="staff", days=10,
         summary="Police, community organisations, researchers and the council now share one "
                 "place to meet, find evidence and plan together.",
         body="Today the hub opens to its first members.\n\n"
              "- **The library** holds toolkits, evaluations and research, with access decided "
              "by the partners who gave them.\n"
              "- **Events** and **discussion spaces** bring people together, in person and "
              "online.\n"
              "- **Engagement assessment** helps partnerships see where they stand.\n\n"
              "Come to the launch conference, or "
              "[subscribe to the weekly news](/community/news-by-email/)."),
    dict(kind="briefing", title=STATION_ROAD, by="police.admin", days=2, audience="public",
         summary="The facts of an arrest on Station Road, shared early so that rumours do not "
                 "fill the gap.",
         body="On Saturday at about 19:40 officers were called to Station Road after a report "
              "of a fight outside a shop. One man, aged 24, was arrested on suspicion of "
              "assault and has since been released on bail while enquiries continue.\n\n"
              "### What we know\n\n"
              "- Nobody was seriously hurt; one person was treated at the scene.\n"
              "- There is **no evidence** that the incident was linked to the mosque or to any "
              "community group, whatever is being said online.\n\n"
              "### What happens next\n\n"
              "Neighbourhood officers will be on Station Road this week. If you saw what "
              "happened, or are worried, talk to us at the Tuesday surgery.",
         update="Added that the man arrested has been released on bail."),
    dict(kind="briefing", title=YOUTH_BRIEFING, by="police.admin", days=1,
         audience="organisations", named=[FORUM, YOUTH],
         summary="Why there will be more officers near two schools, so youth workers and "
                 "parents hear it from us first.",
         body="After reports of older teenagers waiting outside Riverside Academy at the end "
              "of the school day, neighbourhood officers will walk the area between 15:00 and "
              "16:30 from Monday to Friday next week.\n\n"
              "This is **not** a stop-and-search operation. Officers are there to reassure "
              "pupils and parents. Please pass this on to the young people and families you "
              "work with, and tell us what you hear."),
]


def load_news() -> int:
    """The demo's news: the hub's launch, a public police briefing about an incident (to
    counter rumours) and a briefing for two named community organisations. All invented."""
    from hub.community import news as news_services
    from hub.community.models import Briefing, NewsItem

    titles = [spec["title"] for spec in NEWS_ITEMS]
    if NewsItem.objects.filter(title__in=titles).exists() or \
            Briefing.objects.filter(title__in=titles).exists():
        return len(titles)
    people = {user.email: user for user in User.objects.filter(email__endswith="demo.example.org")}
    police = Organisation.objects.filter(slug=POLICE).first()
    now = timezone.now().replace(second=0, microsecond=0)
    for spec in NEWS_ITEMS:
        when = now - timedelta(days=spec["days"])
        fields = dict(title=spec["title"], summary=spec["summary"], body_markdown=spec["body"],
                      body_html=markdown.render(spec["body"]), status="published",
                      published_at=when, author=people.get(email_for(spec["by"])))
        if spec.get("update"):
            fields.update(updated_at=when + timedelta(hours=20), update_note=spec["update"])
        if spec["kind"] == "news":
            NewsItem.objects.create(slug=unique_slug(
                NewsItem, spec["title"], reserved=news_services.RESERVED_SLUGS),
                                    **fields)
            continue
        briefing = Briefing.objects.create(
            slug=unique_slug(
                Briefing, spec["title"], reserved=news_services.RESERVED_SLUGS),
            organisation=police, audience=spec["audience"], **fields)
        briefing.audience_organisations.set(
            Organisation.objects.filter(slug__in=spec.get("named", [])))
    return len(titles)
