"""Demo content for success stories and funding opportunities. Every name, place, funder and
figure is invented. Safe to run again: what already exists (by title) is left alone."""

from datetime import timedelta

from django.utils import timezone

from hub.community.models import FundingOpportunity, Story
from hub.core.services import unique_slug

POLICE, FORUM, YOUTH = ("northfield-police", "eastgate-community-forum",
                        "riverside-youth-association")
UNIVERSITY, COUNCIL = "northfield-university-ccsr", "northfield-council-safer-communities"
PARENTS, YOUTH_SERVICE = "northfield-somali-parents", "northfield-youth-service"

STORIES = [
    dict(
        title="Debate evenings that turned into a youth advisory panel",
        by="youth.admin", org=YOUTH, partners=[POLICE, YOUTH_SERVICE], days=60,
        other="Riverside Sixth Form College; two local mosques",
        summary="Young people in Riverside argued with officers once a month for a year; "
                "now they sit on a panel that reviews how stop-and-account is explained "
                "to them.",
        context="After a run of tense street encounters in 2024, young people at the "
                "Riverside youth centre told us they had never once spoken to a police "
                "officer except when being stopped. Officers said much the same in reverse. "
                "Parents worried that any contact with the police would mark their children "
                "out.",
        done="We ran monthly debate evenings at the youth centre, chaired by young people "
             "themselves, with two neighbourhood officers who came out of uniform. The "
             "young people chose the motions. Ground rules were agreed at the first "
             "evening and read out at every one. After six months the group asked to keep "
             "meeting as an advisory panel; the neighbourhood team agreed to bring draft "
             "leaflets and briefings to it before they went out.",
        outcome="Eleven young people now sit on the panel. Two leaflets on stop-and-account "
                "were rewritten on their advice, and the team changed how it explains "
                "why an area has extra patrols. Young people report knowing officers by "
                "name.",
        evidence="Attendance records for twelve evenings (average 23 young people); a short "
                 "survey before and after (the share who said they would speak to an "
                 "officer about a worry rose from 18% to 41%); the panel's minutes; and the "
                 "short film the young people made.",
        initiatives=["Riverside Youth Mentoring Project"],
        resources=["Building a Youth Advisory Panel with Local Police (short film)",
                   "Youth Voice in Prevention Partnerships: Lessons from the Riverside Debate "
                   "Evenings"],
    ),
    dict(
        title="Listening sessions that changed how a forum reports back",
        by="forum.editor", org=FORUM, partners=[POLICE, COUNCIL], days=30,
        other="Eastgate residents' associations",
        summary="Open listening sessions in Eastgate gave residents a say in what the local "
                "partnership works on, and a promise to hear back within a month.",
        context="Eastgate residents had stopped coming to partnership meetings: they said "
                "decisions were taken elsewhere and nobody told them what happened to their "
                "concerns. Trust had fallen after incidents the year before.",
        done="The forum ran four open listening sessions in community venues, with "
             "councillors and neighbourhood officers listening first and answering after. "
             "Every concern raised was written on a public board, and the forum promised "
             "a written answer on each within a month. The toolkit we used is in the "
             "library.",
        outcome="Attendance went from a dozen regulars to around forty at each session. "
                "The partnership added evening youth provision to its plan, and the forum "
                "now publishes its notes and the answers it received.",
        evidence="Sign-in sheets; the public notes of each session; the partnership's "
                 "revised plan; and feedback cards (34 of 41 said they would come again).",
        initiatives=["Eastgate Security and Partnership Officers"],
        resources=["Listening Before Acting: A Toolkit for Open Community Safety Meetings",
                   "Eastgate Community Forum: Notes from the Spring Listening Sessions 2026"],
    ),
    dict(
        title="Parents' circles: talking about online hate at the kitchen table",
        by="parents.member", org=PARENTS, partners=[YOUTH, COUNCIL], days=18,
        other="Northfield Libraries",
        summary="Small circles of parents met with youth workers to learn how to talk "
                "with their teenagers about hateful content online, without fear of being "
                "reported for asking.",
        context="Parents told us they saw their children reading hateful material online "
                "but did not know how to raise it, and feared that asking for help would "
                "bring suspicion on their family.",
        done="We set up circles of six to eight parents, meeting in libraries and homes, "
             "facilitated by trained parents with a youth worker. The circles agreed "
             "that nothing said would be passed on, and no names were recorded. Together "
             "we wrote a plain-language guide in three languages.",
        outcome="Ninety parents took part in fourteen circles. Most said they had since "
                "talked with their child about something seen online. The guide is used by "
                "two schools and the library service.",
        evidence="Counts of circles and participants (no names kept); an anonymous "
                 "follow-up questionnaire (61 replies); the guide's download figures.",
        initiatives=["Parents' Safeguarding Circles"],
        resources=["Talking with Your Teenager about Online Hate: A Guide for Parents"],
    ),
    dict(
        title="Roundtables that gave residents a say in the partnership's priorities",
        by="researcher", org=UNIVERSITY, partners=[POLICE, COUNCIL, FORUM], days=5,
        other="",
        summary="A university evaluation found that community roundtables, held openly and "
                "reported back, shifted the local partnership towards community-focussed "
                "work.",
        context="Between 2017 and 2019 the local partnership held quarterly roundtables "
                "with community organisations. Nobody knew whether they changed anything "
                "or were only a place to be told decisions.",
        done="Researchers observed the roundtables, interviewed participants from every "
             "side, and traced each agreed action to what happened next. Community "
             "organisations helped design the questions and read the draft findings.",
        outcome="Two thirds of the actions agreed at roundtables were carried out, and the "
                "partnership adopted a rule that every roundtable reports back in writing. "
                "Participants described the work as more community-focussed by the end.",
        evidence="The published evaluation in the library, with its interview and document "
                 "analysis; the partnership's action log.",
        initiatives=[],
        resources=["Evaluation of the Northfield Community Roundtables, 2017–2019",
                   "Community-Focussed or Community-Targeted? A Practitioner's Guide to the "
                   "Engagement Continuum"],
    ),
]

# title, funder, amount, days until the deadline, summary, eligibility, link
FUNDING = [
    ("Neighbourhood Cohesion Small Grants", "Northfield Community Foundation",
     "£500 to £5,000", 12,
     "Small grants for projects that bring neighbours of different backgrounds together.",
     "Community groups, faith groups and charities in Northfield with an annual income "
     "under £250,000. Projects must involve at least two community groups.",
     "https://funding.example.org/northfield-cohesion"),
    ("Youth Voice in Public Services Fund", "The Harwell Trust", "Up to £15,000", 5,
     "Funds youth-led work that gives young people a say in how public services, including "
     "policing, are run.",
     "Youth organisations and partnerships led by young people aged 14 to 25. A statutory "
     "partner may join but not lead.",
     "https://funding.example.org/harwell-youth-voice"),
    ("Community Safety Partnership Innovation Awards", "Northfield City Council",
     "£10,000 to £40,000", 45,
     "Supports partnerships between community organisations and statutory services that "
     "test new ways of building trust.",
     "Partnerships of at least one community organisation and one statutory body in the "
     "council area. The community organisation must lead the bid.",
     "https://funding.example.org/nfc-innovation"),
    ("Research Partnerships with Communities", "Lindenfield Research Foundation",
     "Up to £60,000 over two years", 110,
     "Co-produced research on policing and community relations, designed with the "
     "communities it studies.",
     "Universities working with at least one community organisation as a full partner, "
     "with a budget line for the partner's time.",
     "https://funding.example.org/lindenfield-coproduction"),
    ("Women's Networks Seed Fund", "The Amberley Fund", "£1,000 to £3,000", 160,
     "Seed funding for women's networks that support one another and speak with local "
     "services.",
     "Informal groups and registered organisations led by women, anywhere in the region.",
     "https://funding.example.org/amberley-seed"),
    ("Winter Youth Provision Grants", "Northfield Community Foundation", "Up to £8,000", -20,
     "Evening and weekend youth activities through the winter months.",
     "Youth clubs and community centres in Northfield.",
     "https://funding.example.org/winter-youth"),
]


def load() -> int:
    """Create the demo stories and funding opportunities once; return how many there are."""
    from hub.assessment.models import Initiative
    from hub.community import stories as services
    from hub.library.models import Resource
    from hub.members.demo import email_for
    from hub.members.models import Organisation, User

    orgs = {org.slug: org for org in Organisation.objects.all()}
    people = {user.email: user for user in User.objects.filter(email__endswith="demo.example.org")}
    staff = User.objects.filter(is_staff=True, email__endswith="demo.example.org").first()
    now = timezone.now().replace(second=0, microsecond=0)
    for spec in STORIES:
        if Story.objects.filter(title=spec["title"]).exists():
            continue
        story = Story.objects.create(
            title=spec["title"], slug=unique_slug(
                Story, spec["title"], reserved=services.RESERVED_SLUGS),
            summary=spec["summary"], organisation=orgs.get(spec["org"]),
            context=spec["context"], what_was_done=spec["done"],
            other_partners=spec["other"], outcome=spec["outcome"], evidence=spec["evidence"],
            status=Story.Status.PUBLISHED, published_at=now - timedelta(days=spec["days"]),
            author=people.get(email_for(spec["by"])))
        story.partners.set([orgs[slug] for slug in spec["partners"] if slug in orgs])
        story.initiatives.set(Initiative.objects.filter(name__in=spec["initiatives"]))
        story.resources.set(Resource.objects.filter(title__in=spec["resources"]))
    for title, funder, amount, days, summary, eligibility, link in FUNDING:
        if FundingOpportunity.objects.filter(title=title).exists():
            continue
        deadline = (now + timedelta(days=days)).replace(hour=17, minute=0)
        FundingOpportunity.objects.create(
            title=title, slug=unique_slug(
                FundingOpportunity, title, reserved=services.RESERVED_SLUGS), funder=funder,
            amount=amount, summary=summary, eligibility=eligibility, deadline=deadline,
            link=link, status=FundingOpportunity.Status.PUBLISHED,
            published_at=min(now, deadline) - timedelta(days=30), created_by=staff)
    return (Story.objects.filter(title__in=[s["title"] for s in STORIES]).count()
            + FundingOpportunity.objects.filter(title__in=[f[0] for f in FUNDING]).count())
