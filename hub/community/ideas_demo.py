"""Demo content for the ideas board: ideas in every status, supported from several sectors,
with a few comments, one removed by a moderator, and an adopted idea linked to the event and
the library toolkit that came of it. Every idea, name and place is invented."""

from datetime import timedelta

from django.utils import timezone

from hub.community import markdown
from hub.community.models import Event, Idea, IdeaComment, IdeaSupport
from hub.library.models import Resource
from hub.members.demo import email_for
from hub.members.models import User

# title, author key, days ago, status, reason, supporters, body
IDEAS = [
    dict(title="Two residents' seats at the monthly ward tasking meeting", by="forum.admin",
         days=120, status=Idea.Status.ADOPTED,
         reason="Agreed with the Neighbourhood Partnership Unit after a trial in Eastgate: two "
                "residents, chosen by the forum in turn, now sit in on the open part of each "
                "meeting.",
         supporters=["police.admin", "forum.editor", "forum.member", "parents.member",
                     "researcher", "council", "youth.admin"],
         outcome_event="Eastgate spring listening session",
         outcome_resource="Listening Before Acting: A Toolkit for Open Community Safety Meetings",
         outcome_note="The forum now reports back from every meeting in its newsletter.",
         body="Residents hear about local priorities only after they are set. We propose that "
              "**two residents** attend the open part of the monthly tasking meeting, on a "
              "rota run by the forum, and report back to the next forum meeting.\n\n"
              "- nothing confidential is discussed while they are there;\n"
              "- the forum publishes a short note of what was agreed."),
    dict(title="A youth panel that reads the stop-and-search figures each quarter",
         by="youth.admin", days=60, status=Idea.Status.DISCUSSION,
         reason="The unit is checking which figures can be shared at ward level without "
                "identifying anyone, and will bring a proposal to the panel.",
         supporters=["forum.member", "parents.member", "youthworker", "researcher",
                     "police.officer", "moderator"],
         body="Young people are stopped most and asked least. A small panel of 16–25-year-olds "
              "could go through the published figures with an officer every quarter, ask "
              "questions and say what they see. The answers would be written up and shared."),
    dict(title="Say in writing how what we share at meetings is used",
         by="parents.member", days=45, status=Idea.Status.DISCUSSION, reason="",
         supporters=["forum.admin", "forum.member", "youth.admin", "researcher"],
         body="Parents tell us they hold back at meetings because they do not know where their "
              "words go. A one-page note, in plain language and in the main community "
              "languages, saying what is written down, who reads it and what is never done "
              "with it, would help everyone speak freely."),
    dict(title="Community organisations help run the induction day for new officers",
         by="forum.editor", days=12, status=Idea.Status.NEW, reason="",
         supporters=["police.officer", "youth.admin", "council"],
         body="New neighbourhood officers meet the community only when something goes wrong. "
              "Let local groups run a session of their induction: a walk round the ward, a "
              "meal at a community centre and an honest conversation about past tensions."),
    dict(title="Briefings translated into Somali, Urdu and Polish", by="council", days=5,
         status=Idea.Status.NEW, reason="",
         supporters=["parents.member"],
         body="Briefings reach people faster than rumours only if they can read them. Partner "
              "organisations could offer short translations of public briefings, checked by "
              "a community reviewer before they go out."),
    dict(title="An anonymous line on the hub for reporting worrying individuals",
         by="police.officer", days=30, status=Idea.Status.DECLINED,
         reason="The hub assesses initiatives and never people: it keeps no watch lists and "
                "takes no referrals or intelligence. Concerns about a person's safety belong "
                "with the established services, whose contact details are on the help page.",
         supporters=["staff"],
         body="People sometimes want to pass on a concern without giving their name. A simple "
              "form on the hub could collect these and send them to the right team."),
]

COMMENTS = [
    ("Two residents' seats at the monthly ward tasking meeting", "police.admin",
     "We tried this for three months in Eastgate and it changed the tone of the meeting. "
     "Happy to share how we set it up."),
    ("Two residents' seats at the monthly ward tasking meeting", "researcher",
     "It would be worth recording who takes the seats over a year, so the rota does not "
     "always fall to the same confident voices."),
    ("A youth panel that reads the stop-and-search figures each quarter", "police.officer",
     "I would gladly come to the first session. The figures need explaining, and so do we."),
    ("A youth panel that reads the stop-and-search figures each quarter", "forum.member",
     "Please make sure the panel meets somewhere young people already go, not the station."),
    ("Say in writing how what we share at meetings is used", "council",
     "The council's community safety team could draft this with the forum."),
]
REMOVED = ("Briefings translated into Somali, Urdu and Polish", "forum.member",
           "Everyone knows which family on Canal Street started the rumours last time.",
           "It points at a family. The board discusses ideas, never particular people.")


def load() -> int:
    """Create the demo ideas once; return how many there are."""
    titles = [spec["title"] for spec in IDEAS]
    if Idea.objects.filter(title__in=titles).exists():
        return Idea.objects.filter(title__in=titles).count()
    people = {user.email: user for user in User.objects.filter(
        email__endswith="demo.example.org").select_related("profile")}

    def person(key):
        return people.get(email_for(key))

    staff = person("staff")
    now = timezone.now().replace(second=0, microsecond=0)
    made = {}
    for spec in IDEAS:
        created = now - timedelta(days=spec["days"])
        idea = Idea.objects.create(
            title=spec["title"], body_markdown=spec["body"],
            body_html=markdown.render(spec["body"]), author=person(spec["by"]),
            status=spec["status"], status_reason=spec["reason"])
        if spec["status"] != Idea.Status.NEW:
            idea.status_changed_at, idea.status_changed_by = created + timedelta(days=9), staff
        if spec.get("outcome_event"):
            idea.outcome_event = Event.objects.filter(title=spec["outcome_event"]).first()
            idea.outcome_resource = Resource.objects.filter(
                title=spec["outcome_resource"]).first()
            idea.outcome_note = spec["outcome_note"]
        idea.save()
        # TimeStampedModel sets ``created`` on save; date the demo ideas as if made earlier.
        Idea.objects.filter(pk=idea.pk).update(created=created)
        for key in spec["supporters"]:
            user = person(key)
            if user is not None:
                IdeaSupport.objects.create(idea=idea, user=user, sector=user.profile.sector)
        made[spec["title"]] = idea
        made[spec["title"]].demo_created = created
    for n, (title, key, body) in enumerate(COMMENTS):
        comment = IdeaComment.objects.create(idea=made[title], author=person(key),
                                             body_markdown=body, body_html=markdown.render(body))
        IdeaComment.objects.filter(pk=comment.pk).update(
            created=made[title].demo_created + timedelta(days=2 + n, hours=3))
    title, key, body, reason = REMOVED
    comment = IdeaComment.objects.create(
        idea=made[title], author=person(key), body_markdown=body,
        body_html=markdown.render(body), removed_at=now - timedelta(days=1),
        removed_by=person("moderator"), removed_reason=reason)
    IdeaComment.objects.filter(pk=comment.pk).update(created=now - timedelta(days=2))
    return len(made)
