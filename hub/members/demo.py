"""Fictional people and organisations for the demo. Every name and place here is invented.

All demo accounts use addresses at ``DEMO_DOMAIN`` and share ``DEMO_PASSWORD``. Those whose
role needs two-step sign-in are enrolled with a known secret, so ``manage.py demo_code EMAIL``
can print the current code for them.
"""

import base64
import hashlib
import hmac

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings

from hub.members.models import Application, Expertise, Membership, Organisation, Profile, User

DEMO_DOMAIN = "demo.example.org"
DEMO_PASSWORD = "northfield-demo-2026"

ORGANISATIONS = [
    {"slug": "northfield-police", "name": "Northfield Police – Neighbourhood Partnership Unit",
     "kind": Organisation.Kind.POLICE, "country": "GB", "is_partner": True,
     "description": "The neighbourhood policing team that leads the force's overt community "
                    "engagement on prevention, working with local forums, faith groups and "
                    "youth services."},
    {"slug": "eastgate-community-forum", "name": "Eastgate Community Forum",
     "kind": Organisation.Kind.COMMUNITY, "country": "GB", "is_partner": True,
     "description": "A residents' forum in the Eastgate ward that brings community members, "
                    "councillors and police together every month to raise and resolve local "
                    "concerns."},
    {"slug": "riverside-youth-association", "name": "Riverside Muslim Youth Association",
     "kind": Organisation.Kind.COMMUNITY, "country": "GB", "is_partner": True,
     "description": "Young volunteers running mentoring, sport and debate evenings for "
                    "16–25-year-olds, and speaking for young people in local partnerships."},
    {"slug": "northfield-somali-parents", "name": "Northfield Somali Parents' Network",
     "kind": Organisation.Kind.COMMUNITY, "country": "GB", "is_partner": False,
     "description": "Parents supporting one another and working with schools and services so "
                    "that families are heard."},
    {"slug": "northfield-university-ccsr",
     "name": "University of Northfield – Centre for Community Safety Research",
     "kind": Organisation.Kind.RESEARCH, "country": "GB", "is_partner": True,
     "description": "Researchers studying partnership between police and communities, and the "
                    "team behind the hub's engagement model."},
    {"slug": "northfield-youth-service", "name": "Northfield Youth Service",
     "kind": Organisation.Kind.YOUTH, "country": "GB", "is_partner": False,
     "description": "The council's youth workers, running open-access youth clubs and "
                    "detached youth work across the city."},
    {"slug": "northfield-council-safer-communities",
     "name": "Northfield City Council – Safer Communities Team",
     "kind": Organisation.Kind.LOCAL_AUTHORITY, "country": "GB", "is_partner": True,
     "description": "The local authority team that coordinates community safety and "
                    "prevention partnerships in the city."},
]

# key, display name, sector, organisation slug, role, visibility, powers, expertise, bio
PEOPLE = [
    ("staff", "Hub staff (Morgan Ellis)", "other", None, None, "members",
     {"is_staff": True, "is_superuser": True}, "curation, partnerships",
     "Looks after the hub: approving members and supporting partners."),
    ("moderator", "Sam Okafor", "practice", None, None, "members", {"is_moderator": True},
     "facilitation, conflict resolution", "Moderates the hub's discussion spaces."),
    ("police.admin", "Inspector Dana Whitfield", "police", "northfield-police", "admin",
     "public", {}, "neighbourhood policing, community engagement",
     "Leads the Neighbourhood Partnership Unit."),
    ("police.officer", "PC Aaron Patel", "police", "northfield-police", "member", "members",
     {}, "youth engagement, schools", "Neighbourhood officer for Eastgate and Riverside."),
    ("forum.admin", "Yasmin Haddad", "community", "eastgate-community-forum", "admin",
     "members", {}, "community organising, consultation",
     "Chair of the Eastgate Community Forum."),
    ("forum.editor", "Grace Mensah", "community", "eastgate-community-forum", "editor",
     "public", {}, "newsletters, events", "Keeps the forum's resources and news up to date."),
    ("forum.member", "Tariq Rahman", "community", "eastgate-community-forum", "member",
     "private", {}, "", ""),
    ("youth.admin", "Bilal Hussain", "community", "riverside-youth-association", "admin",
     "members", {}, "mentoring, youth voice", "Coordinates the association's volunteers."),
    ("parents.member", "Hodan Ali", "community", "northfield-somali-parents", "member",
     "members", {}, "family support, schools", "Volunteer with the parents' network."),
    ("researcher", "Dr Helen Price", "research", "northfield-university-ccsr", "approver",
     "public", {}, "qualitative research, counter-terrorism policy, evaluation",
     "Studies police–community partnership and leads the hub's research programme."),
    ("youthworker", "Jordan Blake", "practice", "northfield-youth-service", "approver",
     "members", {}, "detached youth work, mentoring",
     "Senior youth worker. Holds an approver role but has not yet set up two-step sign-in, "
     "so the hub asks for it before that role can be used."),
    ("council", "Priya Sharma", "statutory", "northfield-council-safer-communities", "admin",
     "members", {}, "multi-agency partnerships, policy",
     "Manages the council's community safety partnerships."),
]

APPLICANT = ("applicant", "Chris Morgan", "practice", "Youth mentor at a boxing club in "
             "Eastgate. I would like to find toolkits and join the discussion on youth work.",
             "eastgate-community-forum")
DEACTIVATED = ("former", "Former Member", "other")


def email_for(key: str) -> str:
    return f"{key}@{DEMO_DOMAIN}"


def demo_totp_secret(email: str) -> str:
    """A secret per demo account that this installation can work out again, so its codes can
    be printed on request. Keyed with the installation's secret key: knowing the demo's
    published password is not enough to sign in to someone else's copy."""
    digest = hmac.new(settings.SECRET_KEY.encode(), f"hub-demo-totp:{email}".encode(),
                      hashlib.sha256).digest()[:20]
    return base64.b32encode(digest).decode()


def is_demo_email(email: str) -> bool:
    return email.lower().endswith("@" + DEMO_DOMAIN)


def _user(key: str, **fields) -> User:
    email = email_for(key)
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=DEMO_PASSWORD, **fields)
    else:
        for name, value in fields.items():
            setattr(user, name, value)
        user.save()
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True})
    return user


def _enrol_mfa(user: User) -> None:
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, demo_totp_secret(user.email))
        RecoveryCodes.activate(user)


def load() -> list[dict]:
    """Create or refresh the demo people and organisations; return the sign-ins to print."""
    orgs = {}
    for data in ORGANISATIONS:
        fields = {k: v for k, v in data.items() if k != "slug"}
        orgs[data["slug"]], _ = Organisation.objects.update_or_create(
            slug=data["slug"], defaults=fields)
    sign_ins = []
    for key, name, sector, org_slug, role, visibility, powers, expertise, bio in PEOPLE:
        user = _user(key, standing=User.Standing.MEMBER, **powers)
        organisation = orgs.get(org_slug)
        profile, _ = Profile.objects.update_or_create(user=user, defaults={
            "display_name": name, "sector": sector, "organisation": organisation,
            "country": "GB", "bio": bio, "visibility": visibility})
        profile.expertise.set([Expertise.objects.get_or_create(name=e.strip())[0]
                               for e in expertise.split(",") if e.strip()])
        if organisation:
            Membership.objects.update_or_create(user=user, organisation=organisation,
                                                defaults={"role": role})
        needs_mfa = powers.get("is_staff") or powers.get("is_moderator") or role in (
            "approver", "admin")
        if needs_mfa and key != "youthworker":
            _enrol_mfa(user)
        sign_ins.append({"email": user.email, "who": f"{name}: " + _describe(
            sector, organisation, role, powers), "mfa": bool(needs_mfa and key != "youthworker")})
    key, name, sector, statement, org_slug = APPLICANT
    applicant = _user(key, standing=User.Standing.APPLICANT)
    Profile.objects.update_or_create(user=applicant, defaults={
        "display_name": name, "sector": sector, "country": "GB"})
    Application.objects.get_or_create(user=applicant, defaults={
        "statement": statement, "organisation": orgs[org_slug]})
    sign_ins.append({"email": applicant.email, "who": f"{name}: applicant, waiting for "
                     "approval", "mfa": False})
    key, name, sector = DEACTIVATED
    former = _user(key, standing=User.Standing.MEMBER, is_active=False)
    Profile.objects.update_or_create(user=former, defaults={"display_name": name,
                                                            "sector": sector})
    sign_ins.append({"email": former.email, "who": f"{name}: deactivated, cannot sign in",
                     "mfa": False})
    return sign_ins


def _describe(sector, organisation, role, powers) -> str:
    if powers.get("is_staff"):
        return "hub staff"
    if powers.get("is_moderator"):
        return "moderator"
    return f"{role} of {organisation.name}"
