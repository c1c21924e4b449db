import zoneinfo
from datetime import datetime

from django import forms
from django.utils import timezone

from hub import policy
from hub.community.models import Event
from hub.members.models import Organisation, User

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
TIME_FIELDS = ["starts_at", "ends_at", "registration_opens_at", "registration_closes_at"]
TIMEZONES = sorted(zoneinfo.available_timezones() - {"localtime", "Factory"})


class EventForm(forms.ModelForm):
    """Times are typed in the event's own time zone, whatever the hub's is."""

    agenda = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 6}),
        help_text="One item a line: “10:00 Welcome — Chief Inspector Lee”. The time and the "
                  "speaker are optional.")
    organiser_emails = forms.CharField(
        label="Other organisers", required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Email addresses of members who help run the event, one a line. They see "
                  "the registrations and can edit the event.")
    joining_link = forms.URLField(
        required=False, max_length=500, assume_scheme="https",
        help_text="An https address. Shown only to people with a confirmed place and to the "
                  "organisers.")
    timezone = forms.ChoiceField(label="Time zone", choices=[(z, z) for z in TIMEZONES],
                                 help_text="The times above are in this time zone.")

    class Meta:
        model = Event
        fields = ["title", "summary", "description", "format", "starts_at", "ends_at",
                  "timezone", "venue", "address", "joining_link", "accessibility", "capacity",
                  "registration_opens_at", "registration_closes_at", "audience",
                  "organisation", "status"]
        widgets = {name: DATETIME for name in TIME_FIELDS} | {
            "description": forms.Textarea(attrs={"rows": 6}),
            "address": forms.Textarea(attrs={"rows": 3}),
            "accessibility": forms.Textarea(attrs={"rows": 4}),
            "format": forms.RadioSelect,
        }

    def __init__(self, *args, user, agenda: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        allowed = policy.event_organisation_ids(user)
        organisations = Organisation.objects.all()
        if allowed is not None:
            current = {self.instance.organisation_id} if self.instance.pk else set()
            organisations = organisations.filter(pk__in=allowed | current)
        self.fields["organisation"].queryset = organisations.order_by("name")
        status_choices = [(Event.Status.DRAFT, "Draft (only organisers see it)"),
                          (Event.Status.PUBLISHED, "Published")]
        if self.instance.status == Event.Status.CANCELLED:
            status_choices = [(Event.Status.CANCELLED, "Cancelled")]
        self.fields["status"].choices = status_choices
        self.fields["timezone"].initial = self.instance.timezone
        if not self.is_bound:
            self.initial["agenda"] = agenda
            if self.instance.pk:
                emails = self.instance.organisers.order_by("email").values_list("email",
                                                                                flat=True)
                self.initial["organiser_emails"] = "\n".join(emails)
                tz = self.instance.tz
                for name in TIME_FIELDS:
                    value = getattr(self.instance, name)
                    if value:
                        self.initial[name] = timezone.localtime(value, tz).replace(tzinfo=None)

    def clean_organiser_emails(self):
        import re

        wanted = {a.lower() for a in re.split(r"[\s,;]+", self.cleaned_data["organiser_emails"])
                  if a}
        people = list(User.objects.filter(is_active=True, standing=User.Standing.MEMBER,
                                          email__in=wanted))
        found = {person.email.lower() for person in people}
        for address in wanted - found:
            person = User.objects.filter(is_active=True, standing=User.Standing.MEMBER,
                                         email__iexact=address).first()
            if person:
                people.append(person)
                found.add(address)
        missing = sorted(wanted - found)
        if missing:
            raise forms.ValidationError("No member of the hub has these addresses: "
                                        + ", ".join(missing))
        return people

    def clean(self):
        data = super().clean()
        name = data.get("timezone")
        if name:
            tz = zoneinfo.ZoneInfo(name)
            for field in TIME_FIELDS:
                value = data.get(field)
                if isinstance(value, datetime):
                    # The browser sent a wall-clock time; read it in the event's zone.
                    naive = timezone.make_naive(value) if timezone.is_aware(value) else value
                    data[field] = naive.replace(tzinfo=tz)
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", "The event must end after it starts.")
        if starts and not self.instance.pk and starts <= timezone.now():
            self.add_error("starts_at", "The start is already past.")
        return data


class RegisterForm(forms.Form):
    accessibility_needs = forms.CharField(
        label="Anything the organisers should know to make the event accessible to you "
              "(optional)",
        required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For example: step-free access, a sign language interpreter, captions. Only "
                  "the organisers read it, and it is deleted 30 days after the event.")


class FollowupForm(forms.Form):
    notes = forms.CharField(label="Notes after the event", required=False, max_length=10000,
                            widget=forms.Textarea(attrs={"rows": 8}),
                            help_text="What was discussed and agreed, and what happens next. "
                                      "Everyone who can see the event reads these.")
    resources = forms.ModelMultipleChoiceField(
        label="Library items to link", required=False, queryset=None,
        widget=forms.CheckboxSelectMultiple,
        help_text="Each reader sees only the items they may see in the library.")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        from hub.library.models import Resource

        self.fields["resources"].queryset = policy.visible_resources(
            user, Resource.objects.filter(status=Resource.Status.PUBLISHED)).order_by("title")
