"""A fictional library for the demo. Every title, author, organisation and file is invented.

The resources cover every type, tier and status, and the access examples show the whole
governance cycle: a consultation of partners still waiting for decisions, an approved request,
a refused one, a direct grant to an organisation and a revoked grant. Everything goes through
``hub.library.services``, so the files are checked and stored as an upload would be and the
audit trail holds the same entries the real work would leave.

The file bodies live in ``demo_files/``; the PDF, the Word document and the audio are made
here, on the fly, from those bodies.
"""

import io
import math
import re
import struct
import textwrap
import wave
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile

from hub import policy
from hub.library import files, services
from hub.library.models import AccessRule, Audience, Decision, Resource, Theme, Tier
from hub.members import demo as members_demo
from hub.members.models import Organisation, User

FILES = Path(__file__).with_name("demo_files")
ASPECTS = ["accountability", "relationships", "intelligence", "partnership", "risk", "trust"]

POLICE, FORUM, YOUTH = ("northfield-police", "eastgate-community-forum",
                        "riverside-youth-association")
PARENTS, UNIVERSITY, COUNCIL = ("northfield-somali-parents", "northfield-university-ccsr",
                                "northfield-council-safer-communities")

# Who publishes for each organisation; "staff" where an organisation has no editor or admin.
CURATORS = {POLICE: "police.admin", FORUM: "forum.editor", YOUTH: "youth.admin",
            COUNCIL: "council"}

P, M, PT, R = Tier.PUBLIC, Tier.MEMBERS, Tier.PARTNERS, Tier.RESTRICTED
T = Resource.Type
L = Resource.Licence


def _r(title, type, org, by, tiers, year, licence, authors, themes, audiences, abstract,
       uploads=(), *, country="GB", language="en", publisher="", url="",
       status="published", access=None):
    return dict(title=title, type=type, org=org, by=by, tiers=tiers, year=year, licence=licence,
                authors=authors, themes=themes, audiences=audiences, abstract=abstract,
                uploads=uploads, country=country, language=language, publisher=publisher,
                url=url, status=status, access=access)


RESOURCES = [
    _r("Community-Focussed or Community-Targeted? A Practitioner's Guide to the Engagement "
       "Continuum", T.GUIDE, UNIVERSITY, "researcher", (P, P), 2024, L.CC_BY,
       ["Helen Price", "Kwame Asante-Boyd"], [*ASPECTS, "evaluation"],
       ["police", "community", "practice", "statutory", "policy"],
       "A short, practical introduction to the hub's engagement model. It explains the "
       "continuum between community-focussed and community-targeted work, walks through the six "
       "aspects (accountability, relationships, intelligence, partnership, risk and trust) and "
       "offers questions a planning group can ask, with each group's answers kept apart.",
       [("engagement-continuum-guide.md", "continuum-guide.md")]),
    _r("Northfield Neighbourhood Partnership Annual Review 2025", T.REPORT, POLICE,
       "police.admin", (P, P), 2025, L.OGL, ["Dana Whitfield"],
       ["accountability", "trust", "partnership", "relationships"],
       ["public", "community", "statutory"],
       "What the Neighbourhood Partnership Unit did in a year of open community engagement, "
       "what residents and partners told it, and what it changed as a result: reporting back "
       "after every forum meeting, discussing new activity with ward forums first, and writing "
       "down how information shared at meetings is used.",
       [("annual-review-2025.pdf", "annual-review-2025.txt")]),
    _r("Listening Before Acting: A Toolkit for Open Community Safety Meetings", T.TOOLKIT, FORUM,
       "forum.editor", (P, P), 2023, L.CC_BY_SA, ["Grace Mensah", "Yasmin Haddad"],
       ["relationships", "trust", "partnership", "accountability"],
       ["community", "police", "practice"],
       "Checklists and tips for residents' groups, faith venues and youth clubs hosting meetings "
       "where community members and police talk as equals: before, during and after the "
       "meeting, and the signs that a partnership is working.",
       [("listening-before-acting-toolkit.docx", "open-meetings-toolkit.md")]),
    _r("Trust, Scepticism and Local Policing: Findings from Three Cities", T.PAPER, UNIVERSITY,
       "researcher", (P, M), 2019, L.CC_BY_NC,
       ["Helen Price", "Rosa Lindqvist-Shaw", "Tobias Ekwenzi"],
       ["trust", "intelligence", "accountability", "evaluation"],
       ["research", "police", "policy"],
       "A comparison of neighbourhood engagement on prevention in three English cities, based "
       "on sixty interviews and thirty observed meetings. Trust grew from lasting relationships "
       "rather than structures; open scepticism was a sign of commitment; and partners were "
       "most confident where police explained in writing how shared information is used.",
       [("trust-scepticism-three-cities.txt", "trust-scepticism-paper.txt")],
       publisher="Northfield Papers in Community Safety"),
    _r("Youth Voice in Prevention Partnerships: Lessons from the Riverside Debate Evenings",
       T.REPORT, YOUTH, "youth.admin", (M, M), 2022, L.CC_BY_NC,
       ["Bilal Hussain", "Amina Rahimzai-Cole"], ["youth", "relationships", "trust", "partnership"],
       ["practice", "community", "police"],
       "Volunteers from the Riverside Muslim Youth Association describe two years of debate "
       "evenings where young people questioned officers, councillors and youth workers: what "
       "made the evenings work, the tensions along the way, and advice for other youth groups.",
       [("youth-voice-debate-evenings.html", "youth-voice-report.html")]),
    _r("Trust on the Doorstep, Episode 3: What Residents and Officers Mean by Trust", T.AUDIO,
       POLICE, "police.officer", (P, P), 2024, L.CC_BY_NC_ND,
       ["Aaron Patel", "Marcia Dunleavy"], ["trust", "relationships", "media"],
       ["public", "community", "police"],
       "An episode of the unit's podcast: a neighbourhood officer and a community forum "
       "volunteer talk about honesty about roles, healthy scepticism and coming back to report "
       "what was done. With full captions.",
       [("trust-on-the-doorstep-ep3.wav", "wav"),
        ("trust-on-the-doorstep-ep3.vtt", "trust-on-the-doorstep.vtt", "transcript")]),
    _r("Information Sharing Protocol: Northfield Police and Community Partners", T.POLICY,
       POLICE, "police.admin", (PT, PT), 2021, L.OGL, ["Dana Whitfield"],
       ["intelligence", "accountability", "multi-agency", "partnership"],
       ["police", "community", "statutory"],
       "The agreed protocol on what the Neighbourhood Partnership Unit and community partners "
       "share with each other, what they never share, and how each side is told what happens "
       "to information. For partner organisations.",
       [("information-sharing-protocol-v2.md", "information-sharing-protocol.md")]),
    _r("Northfield Safer Communities Partnership Strategy 2026–2029", T.POLICY, COUNCIL,
       "council", (P, P), 2026, L.OGL, ["Priya Sharma"],
       ["multi-agency", "accountability", "evaluation", "youth"],
       ["statutory", "policy", "public", "community"],
       "The city's three-year strategy for community safety and prevention, drafted with ward "
       "forums, youth and faith organisations, the police and the university. Five commitments, "
       "how progress will be judged, and how partners will answer to residents.",
       [("safer-communities-strategy-2026-2029.html", "strategy-2026.html")]),
    _r("Facilitating Difficult Conversations: A Training Pack for Community Facilitators",
       T.TRAINING, FORUM, "forum.editor", (M, PT), 2020, L.CC_BY_NC,
       ["Yasmin Haddad", "Samuel Achterberg"], ["faith", "relationships", "trust", "risk"],
       ["community", "practice"],
       "A one-day course for people who host meetings where grievance, fear or anger may come "
       "up: ground rules, faith and identity, officers in the room, and safeguarding without "
       "surveillance. The session plan is open to members; the full pack to partners.",
       [("difficult-conversations-training-pack.md", "difficult-conversations-training.md")]),
    _r("Partnership Review of the Eastgate Schools Programme, 2023–2025", T.REPORT, POLICE,
       "police.admin", (R, R), 2025, L.RESERVED, ["Dana Whitfield", "Owen Castellan"],
       ["intervention", "youth", "accountability", "partnership"],
       ["police", "statutory", "practice"],
       "A review of how the schools programme on online safety and misinformation was planned, "
       "governed and delivered, with recommendations for involving parents and young people. "
       "It assesses the programme, not pupils or families.",
       [("eastgate-schools-programme-review.txt", "schools-programme-review.txt")],
       access="org_grant"),
    _r("Prevention Partnership Case Review: Lessons from the 2023 Tensions in Eastgate",
       T.REPORT, POLICE, "police.admin", (P, R), 2024, L.RESERVED,
       ["Dana Whitfield", "Yasmin Haddad", "Bilal Hussain"],
       ["risk", "trust", "media", "relationships", "multi-agency"],
       ["police", "community", "statutory", "policy"],
       "How the prevention partnership responded over eight weeks of raised tension in Eastgate "
       "after damage to a community centre and misleading posts online. The files are "
       "restricted; access is decided by the three partners who wrote it.",
       [("eastgate-2023-case-review.md", "eastgate-case-review.md")], access="consultation"),
    _r("Partnership Study 2018–2020: Coding Frame and Aggregate Tables", T.DATASET, UNIVERSITY,
       "researcher", (M, R), 2020, L.CC_BY_NC, ["Helen Price", "Tobias Ekwenzi"],
       ["evaluation", "trust", "intelligence", "partnership"], ["research"],
       "The coding frame of the university's partnership study and counts of coded segments by "
       "participant group. No transcripts and no row about any person. Access is granted for a "
       "set period for research or partnership planning.",
       [("partnership-study-coding-frame.md", "partnership-study-coding-frame.md")],
       access="approved"),
    _r("Reported Hate Incidents by Ward, 2019–2024: Aggregated Tables", T.DATASET, COUNCIL,
       "council", (M, R), 2024, L.RESERVED, ["Priya Sharma", "Felix Adeyemi-Hart"],
       ["risk", "evaluation", "multi-agency"], ["statutory", "police", "research"],
       "Counts of reported hate incidents by ward, year and recorded motivation, for "
       "multi-agency planning. The ward tables are restricted because small numbers could point "
       "to particular places; the citywide totals are in the open data portal.",
       [("hate-incidents-by-ward-2019-2024.md", "ward-trends-tables.md")], access="refused"),
    _r("Riverside Mentoring Programme Evaluation: Interim Findings", T.REPORT, YOUTH,
       "youth.admin", (M, R), 2025, L.RESERVED, ["Amina Rahimzai-Cole", "Helen Price"],
       ["youth", "intervention", "evaluation", "trust"], ["practice", "research", "community"],
       "Interim findings from a peer mentoring programme run by young volunteers, evaluated "
       "with the university: what mentees valued, what mentors asked for, and why the steering "
       "group kept the programme independent of referral pathways.",
       [("mentoring-interim-findings.txt", "mentoring-interim-findings.txt")],
       access="revoked"),
    _r("Evaluation of the Northfield Community Roundtables, 2017–2019", T.PAPER, UNIVERSITY,
       "researcher", (P, PT), 2020, L.CC_BY_NC_ND, ["Kwame Asante-Boyd", "Helen Price"],
       ["evaluation", "partnership", "accountability", "relationships"],
       ["research", "policy", "statutory"],
       "An evaluation of eighteen prevention roundtables against the six aspects of the "
       "engagement model. Relationships were the clearest benefit; agenda setting and reporting "
       "back were weak, and police and council participants placed the roundtables further "
       "towards the focussed end than community participants did. The full report is for "
       "partner organisations.",
       [("community-roundtables-evaluation.md", "roundtables-evaluation.md")]),
    _r("Building a Youth Advisory Panel with Local Police (short film)", T.VIDEO, YOUTH,
       "youth.admin", (P, P), 2021, L.CC_BY, ["Riverside Muslim Youth Association"],
       ["youth", "trust", "accountability"], ["practice", "police", "public"],
       "A seven-minute film in which young people, a sergeant and a youth worker explain how "
       "Riverside's youth advisory panel questions and advises the neighbourhood police team. "
       "The film is hosted online; the captions are here.",
       [("youth-advisory-panel-captions.vtt", "youth-panel-film.vtt")],
       url="https://video.riverside-youth.example/youth-advisory-panel"),
    _r("Northfield Open Data: Community Safety Statistics", T.LINK, COUNCIL, "council", (P, P),
       2026, L.CC0, ["Northfield City Council"], ["evaluation", "multi-agency"],
       ["public", "research", "statutory"],
       "The council's open data portal for community safety: citywide counts of reported "
       "incidents, partnership meetings held and consultation responses, updated every quarter.",
       url="https://data.northfield.example/community-safety"),
    _r("Samen veilig: lessen uit wijkgerichte samenwerking tussen politie en buurtorganisaties",
       T.REPORT, UNIVERSITY, "researcher", (P, P), 2018, L.CC_BY,
       ["Marloes Vandenbroek-Smit", "Jeroen ter Haarveld"], ["partnership", "trust", "youth"],
       ["police", "community", "policy"],
       "Vier jaar samenwerking tussen wijkagenten en buurtorganisaties in drie wijken: hoe "
       "vertrouwen groeide, waarom bewoners wilden weten wat er met hun informatie gebeurt, en "
       "waarom projecten van bovenaf weinig steun kregen.",
       [("samen-veilig.txt", "samen-veilig.txt")], country="NL", language="nl",
       publisher="Kenniscentrum Wijkveiligheid Lindendam"),
    _r("Förtroende och dialog: polisens samverkan med lokala föreningar", T.PAPER, UNIVERSITY,
       "researcher", (P, P), 2016, L.CC_BY, ["Ingrid Mårtensdotter", "Elias Brandqvist"],
       ["trust", "relationships", "accountability"], ["research", "police"],
       "En studie av hur lokala föreningar och polisen samarbetar kring förebyggande arbete: "
       "förtroende bygger på kontinuitet, öppenhet om polisens uppdrag och att föreningarna "
       "får vara med och bestämma.",
       country="SE", language="sv", publisher="Högskolan Väststrand",
       url="https://research.vaststrand.example/fortroende-och-dialog"),
    _r("Community Safety Fora in Practice: A Review of Local Partnerships", T.REPORT, COUNCIL,
       "council", (P, P), 2017, L.CC_BY_SA, ["Siobhán Ní Fhearghail", "Ciarán Mulvenna"],
       ["multi-agency", "accountability", "partnership"], ["statutory", "community", "policy"],
       "A review of twelve local community safety fora over three years. Independent community "
       "chairs, small budgets the forum controls and public reporting back kept fora trusted "
       "through difficult periods; fora led by one agency faded.",
       [("community-safety-fora-review.txt", "safety-fora-ireland.txt")], country="IE",
       publisher="Western Seaboard Community Safety Network"),
    _r("Co-designing Prevention with Communities: A Toolkit", T.TOOLKIT, UNIVERSITY,
       "researcher", (P, P), 2020, L.CC_BY_SA, ["Naomi Whitecrow-Bell", "Arjun Mehta-Lowry"],
       ["partnership", "youth", "evaluation"], ["practice", "police", "statutory"],
       "Five steps for designing a prevention initiative with the people it affects, warning "
       "signs of tokenism, and templates for a partnership agreement and decision log.",
       [("co-design-toolkit.md", "co-design-toolkit.md")], country="CA",
       publisher="Prairie Partnership Lab, Cedar Plains University",
       url="https://partnership-lab.example/co-design"),
    _r("Media Coverage and Community Confidence after Critical Incidents", T.PAPER, UNIVERSITY,
       "researcher", (M, M), 2015, L.RESERVED, ["Lachlan Merriweather", "Farah Siddiqui-Owens"],
       ["media", "trust", "risk"], ["research", "police", "policy"],
       "How news and social media coverage of three critical incidents affected confidence in "
       "police engagement, and why early joint statements and support for community spokespeople "
       "made partnerships more resilient.",
       [("media-and-community-confidence.txt", "media-confidence-paper.txt")], country="AU",
       publisher="Southern Journal of Policing and Society"),
    _r("Eastgate Community Forum: Notes from the Spring Listening Sessions 2026", T.REPORT,
       FORUM, "forum.member", (M, M), 2026, L.CC_BY, ["Tariq Rahman"],
       ["relationships", "accountability", "intelligence", "youth"],
       ["community", "police", "statutory"],
       "Themes from four informal listening sessions: feeling safe at night, online hate and "
       "rumours, being told what happens next, a youth slot on the agenda, and a plain "
       "explanation of what officers record at meetings.",
       [("spring-listening-sessions-2026.md", "spring-listening-notes.md")],
       status="submitted"),
    _r("Safety Walkabouts at Places of Worship: A Guide for Forum Volunteers", T.GUIDE, FORUM,
       "forum.member", (P, P), 2026, L.CC_BY, ["Tariq Rahman"], ["faith", "risk", "partnership"],
       ["community", "police"],
       "How to run a short safety walk around a place of worship with its volunteers, a "
       "neighbourhood officer and a council officer, noting issues about places, never people.",
       [("safety-walkabouts-guide.md", "faith-walkabouts-guide.md")], status="returned"),
    _r("Talking with Your Teenager about Online Hate: A Guide for Parents", T.GUIDE, PARENTS,
       "parents.member", (P, P), 2025, L.CC_BY_SA, ["Hodan Ali", "Northfield Somali Parents' "
       "Network"], ["youth", "media", "trust"], ["public", "community"],
       "Written by parents for parents and carers: starting the conversation, what to do if a "
       "child is targeted or drawn to violent content, and where to find support.",
       [("talking-about-online-hate.md", "parents-online-hate-guide.md")]),
]

SEND_BACK_REASON = (
    "Thank you, this is useful. Before we publish: please add the month and ward of each "
    "walkabout you describe, and check with the three places of worship that they are happy to "
    "be mentioned. Then send it again.")


def load() -> int:
    """Create the demo library once; return how many demo resources it holds."""
    keys = ["staff", "police.admin", "police.officer", "forum.admin", "forum.editor",
            "forum.member", "youth.admin", "parents.member", "researcher", "council"]
    people = {key: User.objects.get(email=members_demo.email_for(key)) for key in keys}
    orgs = {org.slug: org for org in Organisation.objects.filter(
        slug__in=[POLICE, FORUM, YOUTH, PARENTS, UNIVERSITY, COUNCIL])}
    titles = [spec["title"] for spec in RESOURCES]
    existing = set(Resource.objects.filter(title__in=titles).values_list("title", flat=True))
    for spec in RESOURCES:
        if spec["title"] not in existing:
            _build(spec, people, orgs)
    return Resource.objects.filter(title__in=titles).count()


def _build(spec: dict, people: dict, orgs: dict) -> Resource:
    contributor = people[spec["by"]]
    metadata_tier, file_tier = spec["tiers"]
    resource = services.resource_create(
        actor=contributor, organisation=orgs[spec["org"]],
        themes=Theme.objects.filter(slug__in=spec["themes"]),
        audiences=Audience.objects.filter(slug__in=spec["audiences"]),
        title=spec["title"], abstract=spec["abstract"], authors="\n".join(spec["authors"]),
        year=spec["year"], publisher=spec["publisher"], country=spec["country"],
        language=spec["language"], type=spec["type"], licence=spec["licence"],
        external_url=spec["url"], metadata_tier=metadata_tier, file_tier=file_tier)
    stored, media = [], None
    for name, source, *role in spec["uploads"]:
        data = _body(name, source)
        item = services.file_add(resource=resource, actor=contributor,
                                 upload=SimpleUploadedFile(name, data),
                                 transcript_for=media if role == ["transcript"] else None)
        media = item if item.is_media else media
        stored.append((item, data))
    _curate(resource, spec["status"], contributor, people)
    # Read the text now, so the demo is searchable before any worker runs; the queued task
    # will read it again harmlessly.
    for item, data in stored:
        if item.kind in files.EXTRACTABLE:
            services.file_record_extraction(item=item, outcome=files.extract_text(data, item.kind))
    if spec["access"]:
        ACCESS[spec["access"]](resource, people, orgs)
    return resource


def _curate(resource: Resource, status: str, contributor: User, people: dict) -> None:
    services.resource_submit(resource=resource, actor=contributor)
    curator = people[CURATORS.get(resource.organisation.slug, "staff")]
    if policy.can_curate_resource(contributor, resource):
        curator = contributor
    if status == "published":
        services.resource_publish(resource=resource, actor=curator)
    elif status == "returned":
        services.resource_send_back(resource=resource, actor=curator, reason=SEND_BACK_REASON)


# --- Access governance examples -------------------------------------------------------------

def _consultation(resource, people, orgs):
    """Three partners decide together; two approvals open the files. One has approved."""
    services.access_rule_set(resource=resource, actor=people["police.admin"],
                             mode=AccessRule.Mode.CONSULT,
                             consulted=[orgs[POLICE], orgs[FORUM], orgs[YOUTH]],
                             approvals_needed=2, grant_days=180)
    request = services.request_create(
        resource=resource, actor=people["researcher"],
        reason="I am preparing a comparative paper on how prevention partnerships respond to "
               "local tensions. I would quote only the lessons, anonymised, and send the draft "
               "to the three partners before submitting it.")
    services.request_decide(access_request=request, actor=people["forum.admin"],
                            outcome=Decision.Outcome.APPROVE,
                            reason="Happy to share for this purpose, with the draft sent to us.")


def _approved(resource, people, orgs):
    """The university's own approver decides; grants last ninety days."""
    services.access_rule_set(resource=resource, actor=people["researcher"],
                             mode=AccessRule.Mode.OWN, grant_days=90)
    request = services.request_create(
        resource=resource, actor=people["forum.member"],
        reason="The forum is planning its listening sessions and wants to see which themes "
               "community participants raised most, to shape our questions.")
    services.request_decide(access_request=request, actor=people["researcher"],
                            outcome=Decision.Outcome.APPROVE)


def _refused(resource, people, orgs):
    services.access_rule_set(resource=resource, actor=people["council"],
                             mode=AccessRule.Mode.OWN, grant_days=30)
    request = services.request_create(
        resource=resource, actor=people["parents.member"],
        reason="Our parents' network would like to know how many incidents happen near the "
               "schools our children attend, so we can plan a safe-routes project.")
    services.request_decide(
        access_request=request, actor=people["council"], outcome=Decision.Outcome.REFUSE,
        reason="The ward tables include very small numbers that could identify particular "
               "places. The citywide figures in the open data portal may help, and we would be "
               "glad to meet the network to plan the safe-routes project together.")


def _org_grant(resource, people, orgs):
    """The unit names the council's team, which sits on the programme's board."""
    services.access_rule_set(resource=resource, actor=people["police.admin"],
                             mode=AccessRule.Mode.OWN)
    services.grant_create(resource=resource, actor=people["police.admin"],
                          organisation=orgs[COUNCIL])


def _revoked(resource, people, orgs):
    """The evaluating university keeps access; an officer's access for one visit ended."""
    admin = people["youth.admin"]
    services.access_rule_set(resource=resource, actor=admin, mode=AccessRule.Mode.OWN,
                             grant_days=60)
    services.grant_create(resource=resource, actor=admin, organisation=orgs[UNIVERSITY])
    grant = services.grant_create(resource=resource, actor=admin, user=people["police.officer"])
    services.grant_revoke(grant=grant, actor=admin)


ACCESS = {"consultation": _consultation, "approved": _approved, "refused": _refused,
          "org_grant": _org_grant, "revoked": _revoked}


# --- File bodies ----------------------------------------------------------------------------

def _body(name: str, source: str) -> bytes:
    if source == "wav":
        return _wav()
    text = (FILES / source).read_text(encoding="utf-8")
    if name.endswith(".pdf"):
        return _pdf(text)
    if name.endswith(".docx"):
        return _docx(text)
    return text.encode("utf-8")


def _wav(seconds: float = 2.0, rate: int = 8000) -> bytes:
    """A soft two-note chime: a real, tiny WAV file standing in for the episode's audio."""
    frames = bytearray()
    count = int(seconds * rate)
    for n in range(count):
        pitch = 523.25 if n < count // 2 else 659.25
        fade = min(1.0, (count - n) / (rate * 0.5))
        frames += struct.pack("<h", int(6000 * fade * math.sin(2 * math.pi * pitch * n / rate)))
    out = io.BytesIO()
    with wave.open(out, "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(rate)
        sound.writeframes(bytes(frames))
    return out.getvalue()


def _pdf(text: str) -> bytes:
    """A plain text PDF with the standard Helvetica fonts, one line per text operator."""
    title, _, rest = text.strip().partition("\n")
    lines = [("F2", 14, title), ("F1", 10, "")]
    for paragraph in rest.strip().split("\n"):
        for line in textwrap.wrap(paragraph, 92) or [""]:
            lines.append(("F1", 10, line))
    pages = [lines[i:i + 52] for i in range(0, len(lines), 52)]
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", "",
               "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
               "/Encoding /WinAnsiEncoding >>",
               "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold "
               "/Encoding /WinAnsiEncoding >>"]
    kids = []
    for page in pages:
        ops = ["BT", "72 770 Td", "14 TL"]
        for font, size, line in page:
            escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            ops.append(f"/{font} {size} Tf ({escaped}) Tj T*")
        ops.append("ET")
        stream = "\n".join(ops)
        objects.append(f"<< /Length {len(stream.encode('cp1252'))} >>\nstream\n{stream}\n"
                       "endstream")
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                       f"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> "
                       f"/Contents {len(objects)} 0 R >>")
        kids.append(f"{len(objects)} 0 R")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>"
    escaped_title = title.replace("(", "\\(").replace(")", "\\)")
    objects.append(f"<< /Title ({escaped_title}) /Producer (Northfield demo) >>")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("cp1252")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info {len(objects)} 0 R >>\n"
            f"startxref\n{xref}\n%%EOF\n").encode()
    return bytes(out)


def _docx(markdown: str) -> bytes:
    """A Word document from the small Markdown used in demo_files: headings, lists, bold."""
    import docx

    document = docx.Document()
    document.core_properties.author = "Eastgate Community Forum"
    blocks, current = [], None
    for line in markdown.splitlines():
        stripped = line.strip()
        if not stripped:
            current = None
        elif stripped.startswith("#"):
            level = len(stripped) - len(stripped.lstrip("#"))
            blocks.append(("heading", level, stripped.lstrip("# ")))
            current = None
        elif stripped.startswith("- ") or re.match(r"\d+\. ", stripped):
            style = "List Bullet" if stripped.startswith("- ") else "List Number"
            current = [style, 0, stripped.split(" ", 1)[1]]
            blocks.append(current)
        elif current is not None:
            current[2] += " " + stripped
        else:
            current = ["Normal", 0, stripped]
            blocks.append(current)
    for style, level, text in blocks:
        if style == "heading":
            document.add_heading(text, level=min(level - 1, 3))
            continue
        paragraph = document.add_paragraph(style=style)
        for index, part in enumerate(text.split("**")):
            paragraph.add_run(part).bold = index % 2 == 1
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
