"""Demo content for consultations and concerns: the demo police unit consulting on community
monitoring of stop and search (open, with responses from several sectors), a closed
consultation with its "you said, we did", and a few public and private concerns, some answered.
Every name, place and word is invented. Safe to run again: it adds nothing the second time."""

from datetime import timedelta

from django.utils import timezone

from hub.community import markdown
from hub.community.models import (
    Concern,
    ConcernReply,
    Consultation,
    ConsultationAnswer,
    ConsultationChange,
    ConsultationQuestion,
    ConsultationResponse,
)
from hub.members.demo import email_for
from hub.members.models import Organisation, Sector, User

POLICE, FORUM, YOUTH = ("northfield-police", "eastgate-community-forum",
                        "riverside-youth-association")

STOP_SEARCH = "Community monitoring of stop and search in Eastgate and Riverside"
STOP_SEARCH_BODY = (
    "We want residents to check how officers use stop and search, not just read our figures.\n\n"
    "### What we propose\n\n"
    "- A **community panel** of eight to twelve residents, half of them under 25, meeting "
    "every two months.\n"
    "- The panel sees anonymised records of every stop in the two wards, and watches a sample "
    "of body-worn video chosen by the panel, not by us.\n"
    "- The panel publishes its own summary, and we answer each of its questions in public.\n\n"
    "### What can still change\n\n"
    "How members are chosen, how often it meets, what it sees and how its findings are "
    "published. Nothing about individual people is shared with the panel.")
STOP_SEARCH_QUESTIONS = [
    ("Would you trust a panel like this? What would make you trust it more?", True),
    ("How should panel members be chosen?", True),
    ("What should the panel be able to see, and what should stay out of its reach?", False),
    ("Anything else we should know before we decide?", False),
]
STOP_SEARCH_ANSWERS = [
    ("forum.member", Sector.COMMUNITY, False,
     ["Only if the panel chooses the video clips itself and can ask follow-up questions.",
      "Open applications, with a place kept for people who have been stopped themselves.",
      "Anonymised records and the reason given for each stop. No names.", ""]),
    ("youth.admin", Sector.COMMUNITY, True,
     ["Young people will trust it if they see people their age on it and hear back.",
      "Half the places for 16–25s, recruited through youth groups, not only through the "
      "police.", "", "Pay travel costs, and meet in the evening, not during college hours."]),
    ("parents.member", Sector.COMMUNITY, False,
     ["Parents want to know what happens when the panel finds a problem.",
      "Ask the parents' network and the mosques to nominate people.",
      "The panel should see complaints about stops too.", ""]),
    ("researcher", Sector.RESEARCH, True,
     ["Trust grows when the panel's reports are published unedited and on a fixed timetable.",
      "A mix: open applications and nominations, with a short training session for everyone.",
      "Aggregate figures by age and ethnicity, so patterns show without exposing anyone.",
      "We can help evaluate the panel in its first year."]),
]

PATROLS = "Evening patrols around the Riverside youth centre"
PATROLS_BODY = (
    "After complaints about noise and damage near the Riverside youth centre we planned "
    "uniformed patrols every evening. Before deciding how, we asked the people who use the "
    "centre and live around it.")
PATROLS_QUESTIONS = [("Would evening patrols make the area feel safer or less safe?", True),
                     ("What would you prefer us to do instead, or as well?", False)]
PATROLS_ANSWERS = [
    ("youth.admin", Sector.COMMUNITY, True,
     ["Less safe for the young people: they will feel watched at their own centre.",
      "Come in and meet them at a session first; walk past at closing time only."]),
    ("forum.member", Sector.COMMUNITY, False,
     ["Safer for the older neighbours, if the officers are the same faces each week.", ""]),
    ("police.officer", Sector.POLICE, True,
     ["Depends on the approach: a friendly presence at closing time works better.",
      "Join the centre's Thursday session once a month."]),
]
PATROLS_CHANGES = [
    ("Nightly patrols would make young people feel watched at their own centre.",
     "We dropped nightly patrols. Officers now walk past at closing time on Fridays only.",
     "Closing time is when the complaints cluster; the rest of the evening is quiet."),
    ("Meet the young people first, and keep the same officers.",
     "PC Aaron Patel and one colleague attend the Thursday session once a month.",
     "Knowing the officers by name was the most common request."),
]

CONCERNS = [
    dict(key="stops", by="forum.member", org=POLICE, visibility="public", show_name=False,
         title="Stops outside the Eastgate mosque after Friday prayers",
         body="For three Fridays in a row officers have stood at the mosque gate as people "
              "leave. Nobody has explained why. It is making older members anxious. Can the "
              "unit say what the purpose is and whether it will continue?",
         days=20, answer=("police.admin", 3,
                          "Thank you for raising this. The officers were there after reports "
                          "of cars being damaged in the side street, not because of the "
                          "mosque. We should have said so. From this Friday they will stand "
                          "at the car park instead, and the inspector will speak at the "
                          "forum's next meeting."),
         followup="Thank you, that helps. Please do tell the mosque committee next time."),
    dict(key="youth-cards", by="youth.admin", org=POLICE, visibility="public", show_name=True,
         title="Young people not given a record after being stopped",
         body="Several young people at our sessions say they were stopped near the station "
              "and not offered the written record they are entitled to. They did not know "
              "they could ask for it.",
         days=6, answer=None),
    dict(key="private-worry", by="parents.member", org=POLICE, visibility="private",
         show_name=False, title="A worry I do not want to raise in public",
         body="Officers visited a family I support and the children were frightened. I would "
              "like to talk about how such visits are arranged, without naming the family here.",
         days=9, answer=("police.admin", 2,
                         "Thank you for trusting us with this. Could we meet at the parents' "
                         "network drop-in on Wednesday? Nothing you tell us will be recorded "
                         "against the family.")),
    dict(key="council-lights", by="forum.editor", org="northfield-council-safer-communities",
         visibility="public", show_name=True,
         title="Street lighting on the path behind Riverside Academy",
         body="Half the lights on the footpath behind the academy have been out since October. "
              "Parents and pupils use it after clubs in the dark.",
         days=30, answer=None),
]


def _people():
    return {user.email: user for user in User.objects.filter(email__endswith="demo.example.org")}


def _consultation(title, org, by, body, summary, questions, opened, closes, audience="public"):
    consultation = Consultation.objects.create(
        organisation=org, title=title, slug=_slug(title), summary=summary,
        body_markdown=body, body_html=markdown.render(body), audience=audience,
        status=Consultation.Status.OPEN, opened_at=opened, closes_at=closes, created_by=by)
    made = ConsultationQuestion.objects.bulk_create(
        ConsultationQuestion(consultation=consultation, position=n, text=text, required=req)
        for n, (text, req) in enumerate(questions, 1))
    return consultation, made


def _slug(title):
    from hub.community.consult import RESERVED_SLUGS
    from hub.community.models import Consultation
    from hub.core.services import unique_slug

    return unique_slug(Consultation, title, reserved=RESERVED_SLUGS)


def _responses(consultation, questions, answers, people, when):
    for n, (key, sector, show, texts) in enumerate(answers):
        person = people.get(email_for(key))
        if person is None:
            continue
        response = ConsultationResponse.objects.create(
            consultation=consultation, respondent=person, sector=sector, show_name=show)
        ConsultationResponse.objects.filter(pk=response.pk).update(
            submitted_at=when + timedelta(days=n), updated_at=when + timedelta(days=n))
        ConsultationAnswer.objects.bulk_create(
            ConsultationAnswer(response=response, question=question, text=text)
            for question, text in zip(questions, texts, strict=True) if text)


def _concern(spec, orgs, people, now):
    org = orgs.get(spec["org"])
    author = people.get(email_for(spec["by"]))
    if org is None or author is None:
        return
    raised = now - timedelta(days=spec["days"])
    concern = Concern.objects.create(
        organisation=org, author=author, show_name=spec["show_name"], title=spec["title"],
        body_markdown=spec["body"], body_html=markdown.render(spec["body"]),
        visibility=spec["visibility"])
    Concern.objects.filter(pk=concern.pk).update(created=raised, modified=raised)
    if not spec["answer"]:
        return
    key, after, text = spec["answer"]
    answered = raised + timedelta(days=after)
    reply = ConcernReply.objects.create(concern=concern, author=people.get(email_for(key)),
                                        on_behalf=org, body_markdown=text,
                                        body_html=markdown.render(text))
    ConcernReply.objects.filter(pk=reply.pk).update(created=answered)
    Concern.objects.filter(pk=concern.pk).update(status=Concern.Status.ANSWERED,
                                                 answered_at=answered)
    if spec.get("followup"):
        follow = ConcernReply.objects.create(
            concern=concern, author=author, body_markdown=spec["followup"],
            body_html=markdown.render(spec["followup"]))
        ConcernReply.objects.filter(pk=follow.pk).update(created=answered + timedelta(days=1))


def load() -> int:
    """Create the demo consultations and concerns once; return how many consultations exist."""
    if Consultation.objects.filter(title__in=[STOP_SEARCH, PATROLS]).exists():
        return Consultation.objects.count()
    orgs = {org.slug: org for org in Organisation.objects.filter(
        slug__in=[POLICE, FORUM, YOUTH, "northfield-council-safer-communities"])}
    police = orgs.get(POLICE)
    if police is None:  # the demo's people and organisations are not loaded
        return 0
    people = _people()
    admin = people.get(email_for("police.admin"))
    now = timezone.now().replace(second=0, microsecond=0)

    current, questions = _consultation(
        STOP_SEARCH, police, admin, STOP_SEARCH_BODY,
        "Should a community panel scrutinise stop and search in two wards? Tell us how it "
        "should work before we decide.", STOP_SEARCH_QUESTIONS,
        opened=now - timedelta(days=8), closes=now + timedelta(days=20))
    _responses(current, questions, STOP_SEARCH_ANSWERS, people, now - timedelta(days=7))

    closed, questions = _consultation(
        PATROLS, police, admin, PATROLS_BODY,
        "How should neighbourhood officers respond to complaints near the youth centre?",
        PATROLS_QUESTIONS, opened=now - timedelta(days=60), closes=now - timedelta(days=30),
        audience="members")
    _responses(closed, questions, PATROLS_ANSWERS, people, now - timedelta(days=55))
    closed.outcome_summary = (
        "Most answers came from the youth centre and the forum, and they pointed one way. We "
        "changed the plan: fewer patrols, at the time that matters, by officers people know.")
    closed.outcome_published_at = now - timedelta(days=20)
    closed.save(update_fields=["outcome_summary", "outcome_published_at"])
    ConsultationChange.objects.bulk_create(
        ConsultationChange(consultation=closed, position=n, you_said=said, we_did=did, why=why)
        for n, (said, did, why) in enumerate(PATROLS_CHANGES, 1))

    for spec in CONCERNS:
        _concern(spec, orgs, people, now)
    return Consultation.objects.count()
