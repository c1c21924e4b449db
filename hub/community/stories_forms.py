"""The shape of story and funding input. The choices a form offers follow the policy (a writer
is offered only the initiatives and library items they can see, so no hidden title is shown);
the services decide the rest. Django's text fields refuse NUL characters already."""

from urllib.parse import urlsplit

from django import forms
from django.conf import settings

from hub import policy
from hub.assessment.models import Initiative
from hub.community.models import FundingOpportunity, Story
from hub.library.models import Resource
from hub.members.models import Organisation

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
Status = Story.Status
STATUS_CHOICES = [(Status.DRAFT, "Draft (only its writers see it)"),
                  (Status.PUBLISHED, "Published")]
TEXT = {"rows": 6}


class _StatusMixin:
    def _limit_status(self):
        if self.instance.pk and self.instance.status == Status.PUBLISHED:
            self.fields["status"].choices = [(Status.PUBLISHED, "Published")]


class StoryForm(_StatusMixin, forms.ModelForm):
    status = forms.ChoiceField(label="Status", choices=STATUS_CHOICES, widget=forms.RadioSelect,
                               initial=Status.DRAFT)

    class Meta:
        model = Story
        fields = ["title", "summary", "organisation", "context", "what_was_done", "partners",
                  "other_partners", "outcome", "evidence", "initiatives", "resources",
                  "status"]
        labels = {"organisation": "Told by", "partners": "Partners on the hub",
                  "initiatives": "Initiatives assessed on the hub",
                  "resources": "Library items"}
        help_texts = {
            "what_was_done": "The steps taken, by whom, and how the partners worked together.",
            "initiatives": "Link the initiative if its engagement was assessed here. You are "
                           "offered those you can see; each reader sees only those they may.",
            "resources": "Reports, toolkits or evaluations behind the story. Each reader sees "
                         "only the items they may open in the library.",
        }
        widgets = {name: forms.Textarea(attrs=TEXT)
                   for name in ("context", "what_was_done", "outcome", "evidence")} | {
            "partners": forms.CheckboxSelectMultiple,
            "initiatives": forms.CheckboxSelectMultiple,
            "resources": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = policy.story_organisation_ids(user)
        if self.instance.pk and self.instance.organisation_id:
            allowed = allowed | {self.instance.organisation_id}
        organisation = self.fields["organisation"]
        organisation.queryset = Organisation.objects.filter(pk__in=allowed).order_by("name")
        if policy.acts_as_staff(user):
            organisation.required = False
            organisation.empty_label = "The hub itself (staff)"
        else:
            organisation.required = True
            if len(allowed) == 1:
                organisation.empty_label = None
                organisation.initial = next(iter(allowed))
        self.fields["partners"].queryset = Organisation.objects.order_by("name")
        self.fields["initiatives"].queryset = policy.visible_initiatives(
            user, Initiative.objects.all()).order_by("name")
        self.fields["resources"].queryset = policy.visible_resources(
            user, Resource.objects.filter(status=Resource.Status.PUBLISHED)).order_by("title")
        self._limit_status()


class FundingForm(_StatusMixin, forms.ModelForm):
    status = forms.ChoiceField(label="Status", choices=STATUS_CHOICES, widget=forms.RadioSelect,
                               initial=Status.DRAFT)
    deadline = forms.DateTimeField(
        widget=DATETIME,
        help_text=f"When applications close, in the hub's time ({settings.TIME_ZONE}).")
    link = forms.URLField(max_length=500, assume_scheme="https",
                          help_text="Where to read more and apply: an https:// or http:// "
                                    "address.")

    class Meta:
        model = FundingOpportunity
        fields = ["title", "funder", "amount", "summary", "eligibility", "deadline", "link",
                  "status"]
        widgets = {"eligibility": forms.Textarea(attrs=TEXT)}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._limit_status()

    def clean_link(self):
        link = self.cleaned_data["link"]
        if urlsplit(link).scheme.lower() not in ("http", "https"):
            raise forms.ValidationError("Give a web address starting with https:// or "
                                        "http://.")
        return link


class FollowForm(forms.Form):
    action = forms.ChoiceField(choices=[("follow", "Follow"), ("unfollow", "Unfollow")])
