from django import forms
from django.utils import timezone

from hub import policy
from hub.assessment.models import ContextEvent, Initiative, Perspective, Programme, Round
from hub.members.models import Organisation

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class InitiativeForm(forms.ModelForm):
    class Meta:
        model = Initiative
        fields = ["name", "kind", "area", "country", "lead_organisation",
                  "partner_organisations", "description", "starts_on", "ends_on", "audience"]
        widgets = {"starts_on": DATE, "ends_on": DATE,
                   "partner_organisations": forms.CheckboxSelectMultiple,
                   "description": forms.Textarea(attrs={"rows": 6})}
        help_texts = {
            "description": "What the initiative does, with whom and why. Describe the work, "
                           "never a person.",
            "audience": "Results are shown to this audience once a round closes; single "
                        "answers are never shown to anyone.",
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = policy.lead_organisation_ids(user)
        leads = Organisation.objects.all()
        if allowed is not None:
            current = {self.instance.lead_organisation_id} if self.instance.pk else set()
            leads = leads.filter(pk__in=allowed | current)
        self.fields["lead_organisation"].queryset = leads.order_by("name")
        self.fields["partner_organisations"].queryset = Organisation.objects.order_by("name")

    def clean(self):
        data = super().clean()
        if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
            self.add_error("ends_on", "The end date is before the start date.")
        return data


class FacilitatorForm(forms.Form):
    email = forms.EmailField(label="Email address of a member to add as a facilitator")


class ContextEventForm(forms.ModelForm):
    class Meta:
        model = ContextEvent
        fields = ["happened_on", "kind", "title", "description"]
        widgets = {"happened_on": DATE, "description": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"title": "For example: a national change to counter-terrorism law, an "
                               "attack abroad reported widely here, a local arrest."}


class RoundForm(forms.ModelForm):
    class Meta:
        model = Round
        fields = ["title", "opens_at", "closes_at", "min_group", "divergence_threshold"]
        widgets = {"opens_at": DATETIME, "closes_at": DATETIME}
        help_texts = {
            "title": "For example: Spring 2027 review.",
            "divergence_threshold": "Where perspectives differ by more points than this on "
                                    "the 0–100 scale, the report flags the disagreement.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound and not self.instance.pk:
            now = timezone.localtime().replace(second=0, microsecond=0)
            self.initial.setdefault("opens_at", now)
            self.initial.setdefault("closes_at", now + timezone.timedelta(days=21))

    def clean(self):
        data = super().clean()
        opens, closes = data.get("opens_at"), data.get("closes_at")
        if opens and closes and closes <= opens:
            self.add_error("closes_at", "The round must close after it opens.")
        return data


class InviteForm(forms.Form):
    addresses = forms.CharField(
        label="Email addresses of members to invite", widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One or more, separated by commas, spaces or new lines. People without an "
                  "account can answer through a private link instead.")

    def clean_addresses(self):
        import re

        addresses = [a for a in re.split(r"[\s,;]+", self.cleaned_data["addresses"]) if a]
        validator = forms.EmailField()
        bad = []
        for address in addresses:
            try:
                validator.clean(address)
            except forms.ValidationError:
                bad.append(address)
        if bad:
            raise forms.ValidationError("These are not email addresses: " + ", ".join(bad))
        if len(addresses) > 200:
            raise forms.ValidationError("Invite at most 200 people at a time.")
        return addresses


class LinksForm(forms.Form):
    count = forms.IntegerField(label="How many private links", min_value=1, max_value=200,
                               initial=5)


class PerspectiveForm(forms.Form):
    perspective = forms.ChoiceField(
        label="You answer as", choices=Perspective.choices, widget=forms.RadioSelect,
        help_text="Choose the one closest to how you know this initiative. Results are shown "
                  "by perspective, never by person.")


class PublishInstrumentForm(forms.Form):
    source = forms.CharField(
        label="Instrument (YAML)", widget=forms.Textarea(attrs={"rows": 24, "spellcheck": "false"}),
        help_text="Start from the current version below and raise its version number.")


class ProgrammeForm(forms.ModelForm):
    class Meta:
        model = Programme
        fields = ["name", "area", "country", "organisation", "description", "initiatives",
                  "audience"]
        widgets = {"initiatives": forms.CheckboxSelectMultiple,
                   "description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = policy.lead_organisation_ids(user)
        organisations = Organisation.objects.all()
        if allowed is not None:
            current = {self.instance.organisation_id} if self.instance.pk else set()
            organisations = organisations.filter(pk__in=allowed | current)
        self.fields["organisation"].queryset = organisations.order_by("name")
        self.fields["initiatives"].queryset = policy.visible_initiatives(
            user, Initiative.objects.all()).order_by("name")
