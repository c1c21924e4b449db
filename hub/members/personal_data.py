"""Everything the hub holds about one person: what their data export contains and what erasure
does to it.

Every field in the hub that points at a person is listed in ``HOLDINGS`` once, with what an
export includes and what erasure does; ``tests/test_personal_data.py`` fails when a model
gains such a field without an entry here. Erasure keeps the account's row as an empty shell
(no email, name, password or powers), so records others rely on — decisions, the audit trail,
resources given to the library — stay whole but point at nobody.

Research material (studies, once the research workspace lands) is the exception the issue
allows: it stays pseudonymised under the study's consent terms, and is listed in ``EXEMPT``
with that reason.
"""

import hashlib
import secrets
from dataclasses import dataclass, field
from enum import StrEnum

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.db.models import Value
from django.db.models.functions import Replace
from django.utils import timezone

ERASED_LABEL = "[erased member]"
FORMAT = "hub-personal-data/1"


class Fate(StrEnum):
    """What erasure does to the records one holding finds."""

    DELETE = "deleted"
    UNLINK = "unlinked from you"
    KEEP = "kept, pointing to the erased account"
    ANONYMISE = "kept without anything that leads back to you"
    FOLLOWS = "goes with the record it belongs to"


@dataclass(frozen=True)
class Holding:
    """Records of ``model`` whose ``field`` points at the person (``field`` may be a lookup
    path through another holding, for records that hang off one)."""

    model: str
    field: str
    export: tuple[str, ...]
    fate: Fate
    why: str
    # Free text the person wrote that is blanked when the record itself is kept.
    scrub: tuple[str, ...] = field(default=())

    @property
    def model_class(self) -> type[models.Model]:
        return apps.get_model(self.model)

    def rows(self, user) -> models.QuerySet:
        # People without an account are known by an email address (a mailing list, say).
        first = self.model_class._meta.get_field(self.field.split("__")[0])
        if isinstance(first, models.EmailField):
            return self.model_class._default_manager.filter(**{
                f"{self.field}__iexact": user.email})
        return self.model_class._default_manager.filter(**{self.field: user})


HOLDINGS: tuple[Holding, ...] = (
    # People and organisations
    Holding("account.EmailAddress", "user", ("email", "verified", "primary"), Fate.DELETE,
            "Your sign-in addresses."),
    Holding("mfa.Authenticator", "user", ("type", "created_at", "last_used_at"), Fate.DELETE,
            "Your two-step sign-in methods (the export names them; it never holds their "
            "secrets)."),
    Holding("members.Profile", "user",
            ("display_name", "sector", "organisation__name", "country", "bio", "visibility",
             "created", "modified"), Fate.DELETE, "Your profile."),
    Holding("members.Membership", "user", ("organisation__name", "role", "created"),
            Fate.DELETE, "Your memberships of organisations."),
    Holding("members.Application", "user",
            ("statement", "organisation__name", "status", "decided_at", "reason", "created"),
            Fate.DELETE, "Your application to join and the decision on it."),
    Holding("members.Application", "decided_by", ("id", "status", "decided_at"), Fate.KEEP,
            "Applications you decided: the decision stands, for the applicant's record."),
    Holding("members.Invitation", "invited_by",
            ("organisation__name", "role", "note", "created", "used_at"), Fate.KEEP,
            "Invitations you sent on an organisation's behalf."),
    Holding("members.Invitation", "used_by", ("organisation__name", "role", "used_at"),
            Fate.KEEP, "The invitation you joined with."),
    # Audit trail and the admin's own history
    Holding("core.AuditEvent", "actor",
            ("action", "target_type", "target_label", "outcome", "created"), Fate.KEEP,
            "What you did that others may need to account for. The trail cannot be changed; "
            "your name is taken out of its labels and the entries point to the erased "
            "account."),
    Holding("admin.LogEntry", "user", ("action_time", "object_repr", "action_flag"),
            Fate.KEEP, "Changes you made in the staff administration pages."),
    # Library
    Holding("library.Resource", "contributor", ("title", "status", "created"), Fate.KEEP,
            "Resources you contributed: they belong to the contributing organisation and stay "
            "in the library."),
    Holding("library.AccessRequest", "requester",
            ("resource__title", "reason", "status", "created", "decided_at"), Fate.ANONYMISE,
            "Your requests to read restricted files: the organisations' decisions stay, your "
            "reason is blanked.", scrub=("reason",)),
    Holding("library.Decision", "decided_by",
            ("request__resource__title", "organisation__name", "outcome", "reason", "created"),
            Fate.KEEP, "Decisions you made on access requests for your organisation."),
    Holding("library.Grant", "user", ("resource__title", "expires_at", "revoked_at", "created"),
            Fate.DELETE, "Permissions given to you to read restricted files."),
    Holding("library.Grant", "granted_by", ("resource__title", "created"), Fate.KEEP,
            "Permissions you gave."),
    Holding("library.Grant", "revoked_by", ("resource__title", "revoked_at"), Fate.KEEP,
            "Permissions you took back."),
    # Engagement assessment
    Holding("assessment.Instrument", "published_by", ("version", "published_at"), Fate.KEEP,
            "Instrument versions you published."),
    Holding("assessment.Initiative", "created_by", ("name", "created"), Fate.KEEP,
            "Initiatives you recorded: they belong to their organisations."),
    Holding("assessment.Initiative", "facilitators", ("name",), Fate.UNLINK,
            "Initiatives you facilitate."),
    Holding("assessment.Programme", "created_by", ("name", "created"), Fate.KEEP,
            "Programmes you recorded."),
    Holding("assessment.ContextEvent", "added_by",
            ("initiative__name", "kind", "title", "happened_on"), Fate.KEEP,
            "Context events you added beside results."),
    Holding("assessment.Round", "created_by",
            ("initiative__name", "title", "opens_at", "closes_at"), Fate.KEEP,
            "Assessment rounds you opened."),
    Holding("assessment.RoundInvitation", "user",
            ("round__initiative__name", "round__title", "invited_at"), Fate.DELETE,
            "Invitations you received to answer a round."),
    Holding("assessment.RoundInvitation", "invited_by",
            ("round__initiative__name", "round__title", "invited_at"), Fate.KEEP,
            "Invitations you sent to answer a round."),
    Holding("assessment.ResponseLink", "created_by",
            ("round__initiative__name", "round__title", "created_at"), Fate.KEEP,
            "Private answering links you made (the links themselves are never stored)."),
    Holding("assessment.Response", "user",
            ("id", "round__initiative__name", "round__title", "perspective", "submitted_at"),
            Fate.ANONYMISE,
            "Your answers to assessments. Sent answers already count in results, which are "
            "only ever shown as group totals, so they stay without any link to you; unsent "
            "drafts are deleted."),
    # Community
    Holding("community.Event", "created_by", ("title", "starts_at", "created"), Fate.KEEP,
            "Events you created: they belong to their organisation."),
    Holding("community.Event", "organisers", ("title", "starts_at"), Fate.UNLINK,
            "Events you were named as an organiser of."),
    Holding("community.Registration", "user",
            ("event__title", "event__starts_at", "status", "requested_at", "confirmed_at",
             "cancelled_at", "accessibility_needs"), Fate.DELETE,
            "Your places at events and on waiting lists, with any access needs you gave; a "
            "place at an event still to come goes to the first person waiting."),
    Holding("community.CalendarFeed", "user", ("created",), Fate.DELETE,
            "Your private calendar address (the export never holds the address itself)."),
    Holding("community.Subscription", "email", ("email", "status", "asked_at",
                                                "confirmed_at"), Fate.DELETE,
            "Your subscription to the weekly news, if your sign-in address is on the list."),
    # Community: discussion spaces. Posts hang off the person's membership of a space, so
    # deleting the membership leaves each post in place, written by "[erased member]".
    Holding("community.Space", "created_by", ("name", "created"), Fate.KEEP,
            "Discussion spaces you created: they stay for their members."),
    Holding("community.SpaceMembership", "user",
            ("space__name", "role", "pseudonym", "joined_at", "left_at", "accepted_rules_at"),
            Fate.DELETE,
            "Your places in discussion spaces, with your pseudonym in each. Your flags go with "
            "them."),
    Holding("community.SpaceMembership", "invited_by", ("space__name", "joined_at"),
            Fate.KEEP, "Members who joined a discussion space at your invitation."),
    Holding("community.SpaceInvitation", "user", ("space__name", "created"), Fate.DELETE,
            "Invitations you received to discussion spaces."),
    Holding("community.SpaceInvitation", "invited_by", ("space__name", "created"), Fate.KEEP,
            "Invitations to discussion spaces you sent."),
    Holding("community.Thread", "created_by__user", ("space__name", "title", "created"),
            Fate.ANONYMISE,
            "Threads you started: they stay in their space, started by “[erased member]”."),
    Holding("community.Post", "author__user",
            ("thread__space__name", "thread__title", "body_markdown", "state", "created"),
            Fate.ANONYMISE,
            "Your posts in discussion spaces: others replied to them, so they stay, shown as "
            "written by “[erased member]”, with no link to you."),
    Holding("community.Flag", "flagger__user", ("post_id", "reason", "note", "created"),
            Fate.FOLLOWS, "Posts you flagged for the moderators, with your reasons."),
    Holding("community.ModerationAction", "moderator",
            ("space__name", "action", "reason", "created"), Fate.KEEP,
            "Your decisions as a moderator: the space's log keeps them (it names the role, "
            "never the person)."),
    Holding("community.IdentityReveal", "revealed_by", ("space__name", "reason", "created"),
            Fate.KEEP, "Pseudonyms you revealed as hub staff, with the reasons you gave."),
    Holding("community.IdentityReveal", "membership__user",
            ("space__name", "reason", "created"), Fate.ANONYMISE,
            "Times hub staff revealed who is behind your pseudonym, and why: the record stays "
            "for accountability, without any link to you."),
    Holding("community.Notification", "user",
            ("kind", "space__name", "thread__title", "created", "read_at"), Fate.DELETE,
            "Your notifications from discussion spaces."),
    # Community: news and briefings belong to the hub or to the organisation that gave them.
    Holding("community.NewsItem", "author", ("title", "status", "published_at", "created"),
            Fate.KEEP, "News you wrote as hub staff: it belongs to the hub."),
    Holding("community.Briefing", "author",
            ("organisation__name", "title", "status", "published_at", "created"), Fate.KEEP,
            "Briefings you wrote: they belong to the organisation that gave them."),
    # Community: ideas, stories, funding, consultations and concerns.
    Holding("community.Idea", "author", ("title", "body_markdown", "status", "created"),
            Fate.KEEP, "Ideas you put forward: others supported and discussed them, so they "
                       "stay, shown as from “[erased member]”."),
    Holding("community.Idea", "status_changed_by", ("title", "status", "status_changed_at"),
            Fate.KEEP, "Ideas whose status you set as hub staff."),
    Holding("community.IdeaSupport", "user", ("idea__title", "sector", "created"), Fate.DELETE,
            "Ideas you supported."),
    Holding("community.IdeaComment", "author", ("idea__title", "body_markdown", "created"),
            Fate.KEEP, "Your comments on ideas, shown as from “[erased member]”."),
    Holding("community.IdeaComment", "removed_by", ("idea__title", "removed_reason",
                                                    "removed_at"), Fate.KEEP,
            "Comments you removed as a moderator."),
    Holding("community.Story", "author",
            ("organisation__name", "title", "status", "published_at", "created"), Fate.KEEP,
            "Success stories you wrote: they belong to the organisation that told them."),
    Holding("community.FundingOpportunity", "created_by", ("title", "deadline", "created"),
            Fate.KEEP, "Funding opportunities you listed."),
    Holding("community.FundingFollow", "user",
            ("opportunity__title", "opportunity__deadline", "created", "reminded_at"),
            Fate.DELETE, "Funding opportunities you follow, and the reminders sent to you."),
    Holding("community.Consultation", "created_by",
            ("organisation__name", "title", "closes_at", "created"), Fate.KEEP,
            "Consultations you opened: they belong to their organisation."),
    Holding("community.ConsultationResponse", "respondent",
            ("consultation__title", "sector", "show_name", "submitted_at"), Fate.UNLINK,
            "Your responses to consultations: they count in what the organisation heard, so "
            "they stay, with no link to you."),
    Holding("community.ConsultationAnswer", "response__respondent",
            ("response__consultation__title", "question__text", "text"), Fate.FOLLOWS,
            "Each answer in your responses."),
    Holding("community.Concern", "author",
            ("organisation__name", "title", "body_markdown", "visibility", "status",
             "created"), Fate.KEEP,
            "Concerns you raised: the organisation answered them, so they stay, shown as from "
            "“[erased member]”."),
    Holding("community.ConcernReply", "author",
            ("concern__title", "on_behalf__name", "body_markdown", "created"), Fate.KEEP,
            "Your replies on concerns."),
    # Research: the team's work stays with the study, pseudonymised under its consent terms;
    # the person's place in the team goes.
    Holding("research.Study", "created_by", ("title", "created"), Fate.KEEP,
            "Studies you started: they belong to their team."),
    Holding("research.StudyMember", "user", ("study__title", "role", "created"), Fate.DELETE,
            "Your places in research teams."),
    Holding("research.StudyMember", "added_by", ("study__title", "role", "created"),
            Fate.KEEP, "People you added to research teams."),
    Holding("research.Source", "created_by", ("study__title", "title", "created"), Fate.KEEP,
            "Sources you imported: pseudonymised research material kept under the study's "
            "consent terms."),
    Holding("research.Code", "created_by", ("study__title", "name", "created"), Fate.KEEP,
            "Codes you added to a study's codebook."),
    Holding("research.Coding", "coder", ("source__study__title", "code__name", "start", "end",
                                         "created"), Fate.KEEP,
            "Your codings: part of the study's analysis, kept with the study."),
    Holding("research.Memo", "author", ("study__title", "title", "text", "created"),
            Fate.KEEP, "Your memos in studies: part of the study's analysis."),
    Holding("assessment.Answer", "response__user",
            ("response_id", "indicator", "value", "dont_know", "note", "resource__title",
             "saved_at"), Fate.FOLLOWS, "Each answer and its evidence."),
)

# Fields that point at a person but hold nothing to export or erase, with the reason.
EXEMPT: dict[tuple[str, str], str] = {
    ("account.EmailAddress", "email"):
        "The address itself; the holding on its user field exports and deletes it.",
    ("members.Organisation", "members"):
        "Goes through memberships, which the holding on Membership.user covers.",
}

# The person's own account is handled apart: exported as "person", emptied by erasure.
ACCOUNT_FIELDS = ("email", "standing", "is_staff", "is_moderator", "is_active", "date_joined",
                  "last_login")


def _value(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _rows(holding: Holding, user) -> list[dict]:
    fields = holding.export
    return [{name: _value(row[name]) for name in fields}
            for row in holding.rows(user).order_by("pk").values(*fields)]


def export(user) -> dict:
    """Everything the hub holds about ``user``, as plain data (for ``json.dumps``)."""
    from hub.core.models import AuditEvent

    records: dict[str, dict[str, list[dict]]] = {}
    for holding in HOLDINGS:
        rows = _rows(holding, user)
        if rows:
            records.setdefault(holding.model, {})[holding.field] = rows
    about_you = AuditEvent.objects.filter(_about_q(user)).order_by("created").values(
        "action", "target_type", "target_label", "outcome", "created")
    return {
        "format": FORMAT,
        "generated_at": timezone.now().isoformat(),
        "person": {name: _value(getattr(user, name)) for name in ACCOUNT_FIELDS},
        "records": records,
        "audit_events_about_you": [
            {key: _value(value) for key, value in event.items()} for event in about_you],
        "queued_mail_to_you": _queued_mail(user).count(),
    }


def _about_q(user) -> models.Q:
    """Audit events whose target is this person, their profile, application or memberships."""
    from hub.members.models import Application, Membership, Profile

    q = models.Q(target_type="members.user", target_id=str(user.pk))
    for model in (Profile, Application, Membership):
        ids = [str(pk) for pk in model.objects.filter(user=user).values_list("pk", flat=True)]
        if ids:
            q |= models.Q(target_type=model._meta.label_lower, target_id__in=ids)
    return q


def _queued_mail(user):
    from hub.core.models import OutgoingEmail

    # Mail waits here only until the worker sends it; the JSON list of recipients cannot be
    # searched the same way on every database, so match in Python over this short queue.
    ids = [email.pk for email in OutgoingEmail.objects.only("pk", "to")
           if user.email.lower() in (address.lower() for address in email.to)]
    return OutgoingEmail.objects.filter(pk__in=ids)


def _anonymise_responses(user) -> None:
    from hub.assessment.models import Response

    Response.objects.filter(user=user, submitted_at__isnull=True).delete()
    for response in Response.objects.filter(user=user):
        # A response must have an owner: give it a resume key nobody holds.
        response.user = None
        response.resume_hash = hashlib.sha256(secrets.token_bytes(32)).hexdigest()
        response.save(update_fields=["user", "resume_hash"])


def _release_registrations(user) -> None:
    from hub.community.services import registrations_release

    registrations_release(user=user)


CUSTOM_ERASE = {
    ("assessment.Response", "user"): _anonymise_responses,
    ("community.Registration", "user"): _release_registrations,
}


@transaction.atomic
def erase(user) -> dict[str, int]:
    """Remove or anonymise everything the hub holds about ``user``; return counts by holding.

    The account stays as an empty shell that cannot sign in, so records that others rely on
    keep their shape. Running it twice does no harm.
    """
    from hub.core.models import AuditEvent

    user = get_user_model().objects.select_for_update().get(pk=user.pk)
    profile = getattr(user, "profile", None)
    name = profile.display_name if profile else ""
    # Labels in the audit trail were written with the person's name at the time; they are
    # the one thing in the append-only trail that erasure may change.
    AuditEvent.objects.filter(_about_q(user)).update(target_label=ERASED_LABEL)
    if len(name) >= 3:
        AuditEvent.objects.filter(target_label__contains=name).update(
            target_label=Replace("target_label", Value(name), Value(ERASED_LABEL)))

    counts: dict[str, int] = {}
    for holding in HOLDINGS:
        key = f"{holding.model}.{holding.field}"
        rows = holding.rows(user)
        counts[key] = rows.count()
        if (holding.model, holding.field) in CUSTOM_ERASE:
            CUSTOM_ERASE[(holding.model, holding.field)](user)
        elif holding.fate == Fate.DELETE:
            rows.delete()
        elif holding.fate == Fate.UNLINK:
            related = holding.model_class._meta.get_field(holding.field)
            if related.many_to_many:
                for obj in rows:
                    getattr(obj, holding.field).remove(user)
            else:
                rows.update(**{holding.field: None})
        elif holding.scrub:
            rows.update(**{name: "" for name in holding.scrub})
    counts["core.OutgoingEmail.to"] = _queued_mail(user).delete()[0]

    user.email = f"erased-{user.pk}@erased.invalid"
    user.set_unusable_password()  # also ends every session the person still has open
    user.is_active = False
    user.is_staff = user.is_superuser = user.is_moderator = False
    user.standing = user.Standing.APPLICANT
    user.last_login = None
    user.save()
    user.groups.clear()
    user.user_permissions.clear()
    # Rendered search results kept for someone with their own view of the library hold the
    # words they searched for: drop every kept copy.
    from hub.library import caching as library_caching

    library_caching.changed()
    return counts


def summary() -> dict[Fate, list[Holding]]:
    """The holdings grouped by what erasure does to them, for the page that explains it."""
    grouped: dict[Fate, list[Holding]] = {fate: [] for fate in Fate}
    for holding in HOLDINGS:
        grouped[holding.fate].append(holding)
    return {fate: items for fate, items in grouped.items() if items}
