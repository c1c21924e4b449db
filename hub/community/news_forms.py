"""The shape of news and briefing input; the services decide the rest (who may write for
which organisation, and that a named-organisations briefing names some)."""

from django import forms

from hub import policy
from hub.community.models import Briefing, NewsItem, Publication
from hub.members.models import Organisation

STATUS_CHOICES = [(Publication.Status.DRAFT, "Draft (only its writers see it)"),
                  (Publication.Status.PUBLISHED, "Published")]
TEXTAREAS = {"body_markdown": forms.Textarea(attrs={"rows": 14}),
             "status": forms.RadioSelect}


class _PublicationForm(forms.ModelForm):
    status = forms.ChoiceField(label="Status", choices=STATUS_CHOICES, widget=forms.RadioSelect,
                               initial=Publication.Status.DRAFT)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not (self.instance.pk and self.instance.is_published):
            # "What changed" means something only once readers have seen a version.
            del self.fields["update_note"]
        else:
            self.initial["update_note"] = ""
            self.fields["status"].choices = [(Publication.Status.PUBLISHED, "Published")]


class NewsForm(_PublicationForm):
    class Meta:
        model = NewsItem
        fields = ["title", "summary", "body_markdown", "status", "update_note"]
        widgets = TEXTAREAS


class BriefingForm(_PublicationForm):
    class Meta:
        model = Briefing
        fields = ["title", "summary", "body_markdown", "organisation", "audience",
                  "audience_organisations", "status", "update_note"]
        widgets = TEXTAREAS | {"audience": forms.RadioSelect,
                               "audience_organisations": forms.CheckboxSelectMultiple}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = policy.briefing_organisation_ids(user)
        if self.instance.pk:
            allowed = allowed | {self.instance.organisation_id}
        self.fields["organisation"].queryset = Organisation.objects.filter(
            pk__in=allowed).order_by("name")
        if len(allowed) == 1:
            # Most writers give briefings for one organisation: choose it for them.
            self.fields["organisation"].empty_label = None
            self.fields["organisation"].initial = next(iter(allowed))
        self.fields["audience_organisations"].queryset = Organisation.objects.order_by("name")
        self.fields["audience_organisations"].required = False
