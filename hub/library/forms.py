from django import forms
from django.conf import settings

from hub.library import files as filetypes
from hub.library.models import LANGUAGES, AccessRule, Decision, Resource, Tier
from hub.library.search import SORTS
from hub.members.models import Organisation, User


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={
            "accept": ",".join(filetypes.ACCEPTED_EXTENSIONS)}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


def limits_text() -> str:
    mb = settings.LIBRARY_MAX_FILE_BYTES // (1024 * 1024)
    kinds = "PDF, Word (.docx), OpenDocument (.odt), plain text, Markdown, HTML, captions " \
            "(WebVTT or SRT), audio and video"
    return (f"Up to {settings.LIBRARY_MAX_FILES} files, each up to {mb} MB. Accepted: {kinds}. "
            "We check what each file really is, whatever its name says.")


class ResourceForm(forms.ModelForm):
    files = MultipleFileField(required=False, label="Files")
    external_url = forms.URLField(
        required=False, max_length=500, assume_scheme="https", label="Web link",
        help_text="Where the resource lives, if it is on another site.")

    class Meta:
        model = Resource
        fields = ["organisation", "title", "abstract", "authors", "year", "publisher",
                  "country", "language", "type", "audiences", "themes", "licence",
                  "external_url", "metadata_tier", "file_tier"]
        labels = {
            "organisation": "Contributed for",
            "external_url": "Web link",
            "metadata_tier": "Who may see the description",
            "file_tier": "Who may open the files",
            "type": "Type of resource",
        }
        help_texts = {
            "abstract": "A few sentences on what it is and who it is for.",
            "external_url": "Where the resource lives, if it is on another site.",
            "metadata_tier": "The title, authors and abstract.",
            "file_tier": "Restricted files are opened only by the organisations and people "
                         "your organisation names, or who ask and are approved.",
        }
        widgets = {
            "abstract": forms.Textarea(attrs={"rows": 6}),
            "authors": forms.Textarea(attrs={"rows": 3}),
            "audiences": forms.CheckboxSelectMultiple,
            "themes": forms.CheckboxSelectMultiple,
            "metadata_tier": forms.RadioSelect,
            "file_tier": forms.RadioSelect,
        }

    def __init__(self, *args, organisations=None, tiers_editable=True, **kwargs):
        super().__init__(*args, **kwargs)
        if not tiers_editable:
            del self.fields["metadata_tier"]
            del self.fields["file_tier"]
        self.fields["organisation"].queryset = organisations
        self.fields["organisation"].empty_label = None
        self.fields["language"].choices = LANGUAGES
        self.fields["year"].widget.attrs.update({"min": 1900, "max": 2100})
        self.fields["files"].help_text = limits_text()
        if self.instance.pk:
            # The organisation a resource belongs to does not change after it is made.
            del self.fields["organisation"]

    def clean_year(self):
        year = self.cleaned_data.get("year")
        if year is not None and not 1900 <= year <= 2100:
            raise forms.ValidationError("Give a year between 1900 and 2100.")
        return year

    def clean_files(self):
        uploads = self.cleaned_data.get("files") or []
        existing = self.instance.files.count() if self.instance.pk else 0
        if existing + len(uploads) > settings.LIBRARY_MAX_FILES:
            raise forms.ValidationError(
                f"A resource may have up to {settings.LIBRARY_MAX_FILES} files.")
        for upload in uploads:
            if upload.size > settings.LIBRARY_MAX_FILE_BYTES:
                raise forms.ValidationError(f"“{upload.name}” is too large. {limits_text()}")
        return uploads


class FileForm(forms.Form):
    file = forms.FileField(label="File", widget=forms.ClearableFileInput(
        attrs={"accept": ",".join(filetypes.ACCEPTED_EXTENSIONS)}))
    transcript_for = forms.ModelChoiceField(
        queryset=None, required=False, label="This is the transcript or captions of",
        empty_label="(not a transcript)")

    def __init__(self, *args, resource=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = limits_text()
        media = resource.files.filter(kind__in=[filetypes.Kind.AUDIO, filetypes.Kind.VIDEO])
        self.fields["transcript_for"].queryset = media
        if not media.exists():
            del self.fields["transcript_for"]


class SendBackForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}),
                             label="What needs to change",
                             help_text="The contributor sees this with their draft.")


class AccessRequestForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}), min_length=10, max_length=4000,
        label="Why you need it",
        help_text="Say how you will use it. The organisations deciding see this, your name, "
                  "sector and organisation.")


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(choices=Decision.Outcome.choices, widget=forms.RadioSelect,
                                label="Your organisation's decision")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                             max_length=4000, label="Reason",
                             help_text="Needed when you refuse; the requester sees it.")


class AccessRuleForm(forms.ModelForm):
    class Meta:
        model = AccessRule
        fields = ["mode", "consulted", "approvals_needed", "grant_days"]
        labels = {"mode": "Who decides requests", "approvals_needed": "Approvals needed",
                  "grant_days": "Grants last (days)"}
        widgets = {"mode": forms.RadioSelect, "consulted": forms.CheckboxSelectMultiple}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["consulted"].queryset = Organisation.objects.filter(is_partner=True)
        self.fields["consulted"].help_text = (
            "When consulting: the partner organisations asked. Include your own if it should "
            "have a say.")
        self.fields["approvals_needed"].help_text = (
            "How many of them must approve, for example 2 of 3.")
        self.fields["approvals_needed"].widget.attrs.update({"min": 1, "max": 20})
        self.fields["grant_days"].widget.attrs.update({"min": 1, "max": 3650})


class GrantForm(forms.Form):
    organisation = forms.ModelChoiceField(queryset=Organisation.objects.all(), required=False,
                                          label="An organisation",
                                          empty_label="(a person instead)")
    email = forms.EmailField(required=False, label="Or a person, by their email address")
    expires = forms.DateField(required=False, label="Until (optional)",
                              widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        organisation, email = data.get("organisation"), data.get("email")
        if bool(organisation) == bool(email):
            raise forms.ValidationError("Name one organisation or one person's email address.")
        if email:
            user = User.objects.filter(email__iexact=email, is_active=True,
                                       standing=User.Standing.MEMBER).first()
            if user is None:
                raise forms.ValidationError({"email": "No member of the hub has that email "
                                                      "address."})
            data["user"] = user
        return data


class SearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=500, label="Search the library")
    type = forms.MultipleChoiceField(choices=Resource.Type.choices, required=False)
    theme = forms.MultipleChoiceField(choices=[], required=False)
    audience = forms.MultipleChoiceField(choices=[], required=False)
    country = forms.MultipleChoiceField(choices=[], required=False)
    language = forms.MultipleChoiceField(choices=LANGUAGES, required=False)
    organisation = forms.MultipleChoiceField(choices=[], required=False)
    year_from = forms.IntegerField(required=False, min_value=1900, max_value=2100,
                                   label="From year")
    year_to = forms.IntegerField(required=False, min_value=1900, max_value=2100,
                                 label="To year")
    sort = forms.ChoiceField(choices=list(SORTS.items()), required=False, label="Sort by")
    page = forms.IntegerField(required=False, min_value=1)

    def __init__(self, *args, **kwargs):
        from django_countries import countries

        from hub.library.models import Audience, Theme

        super().__init__(*args, **kwargs)
        # The page draws its filters from the results, not from these fields: their choices
        # only check what was asked for, so they are looked up only when something was.
        choices = {
            "theme": lambda: [(t.slug, t.name) for t in Theme.objects.all()],
            "audience": lambda: [(a.slug, a.name) for a in Audience.objects.all()],
            "country": lambda: list(countries),
            "organisation": lambda: list(Organisation.objects.values_list("slug", "name")),
        }
        for name, find in choices.items():
            if not self.is_bound or name in self.data:
                self.fields[name].choices = find()

    def clean(self):
        data = super().clean()
        start, end = data.get("year_from"), data.get("year_to")
        if start and end and start > end:
            raise forms.ValidationError("The first year must not be after the last one.")
        return data


TIER_LABELS = dict(Tier.choices)
