"""Forms of the study pages: the shape of the input only. Services check the rest."""

from __future__ import annotations

from django import forms

from hub.members.models import Organisation
from hub.research import importing
from hub.research.models import Participant, Source, Study, StudyMember

NO_NUL = "Remove the NUL character (\\0) from this text."


class NoNulMixin:
    def clean(self):
        cleaned = super().clean()
        for name, value in list(cleaned.items()):
            if isinstance(value, str) and "\x00" in value:
                self.add_error(name, NO_NUL)
        return cleaned


class StudyForm(NoNulMixin, forms.ModelForm):
    outputs = forms.ModelMultipleChoiceField(
        queryset=None, required=False, label="Outputs in the library",
        help_text="Reports and papers from this study that are in the library. Hold Ctrl (or ⌘) "
                  "to choose several.",
        widget=forms.SelectMultiple(attrs={"size": 6}))

    class Meta:
        model = Study
        fields = ["title", "description", "research_questions", "listed", "blind"]
        widgets = {"description": forms.Textarea(attrs={"rows": 5}),
                   "research_questions": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, resources=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["outputs"].queryset = resources
        if self.instance.pk:
            self.fields["outputs"].initial = list(self.instance.outputs.values_list(
                "pk", flat=True))


class TeamAddForm(NoNulMixin, forms.Form):
    email = forms.EmailField(label="Email address of a hub member", max_length=254)
    role = forms.ChoiceField(choices=StudyMember.Role.choices, initial=StudyMember.Role.CODER,
                             help_text="Viewers read; coders also code; leads run the study.")


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=StudyMember.Role.choices)


def parse_attributes(text: str) -> dict[str, str]:
    """ "age band: 16-18" lines into a dict; raises ValidationError on a line without a colon."""
    attributes: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        if not sep or not key.strip():
            raise forms.ValidationError(
                f"Line {number} needs a name, a colon and a value, such as “age band: 16-18”.")
        if len(key.strip()) > 60 or len(value.strip()) > 200:
            raise forms.ValidationError(f"Line {number} is too long (60 characters for the "
                                        f"name, 200 for the value).")
        attributes[key.strip()] = value.strip()
    if len(attributes) > 40:
        raise forms.ValidationError("Keep to 40 attributes at most.")
    return attributes


def format_attributes(attributes: dict) -> str:
    return "\n".join(f"{k}: {v}" for k, v in (attributes or {}).items())


class ParticipantForm(NoNulMixin, forms.Form):
    code = forms.CharField(max_length=20, help_text=Participant._meta.get_field("code").help_text)
    group = forms.ChoiceField(choices=Participant.Group.choices)
    location = forms.CharField(max_length=120, required=False,
                               help_text=Participant._meta.get_field("location").help_text)
    attributes = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One per line, as name: value (for example “age band: 16-18” or “role: "
                  "neighbourhood officer”). Analysis filters and compares by these.")
    consent_date = forms.DateField(required=False, label="Consent given on",
                                   widget=forms.DateInput(attrs={"type": "date"}))
    consent_quotation = forms.BooleanField(required=False, label="May be quoted")
    consent_archiving = forms.BooleanField(required=False, label="May be archived")
    consent_sharing = forms.BooleanField(required=False,
                                         label="May be shared with the partners named below")
    sharing_partners = forms.ModelMultipleChoiceField(
        queryset=Organisation.objects.order_by("name"), required=False,
        label="Partner organisations it may be shared with",
        widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, participant: Participant | None = None, **kwargs):
        if participant is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "code": participant.code, "group": participant.group,
                "location": participant.location,
                "attributes": format_attributes(participant.attributes),
                "consent_date": participant.consent_date,
                "consent_quotation": participant.consent_quotation,
                "consent_archiving": participant.consent_archiving,
                "consent_sharing": participant.consent_sharing,
                "sharing_partners": list(participant.sharing_partners.values_list("pk",
                                                                                  flat=True))}
        super().__init__(*args, **kwargs)

    def clean_code(self):
        return self.cleaned_data["code"].strip()

    def clean_attributes(self):
        return parse_attributes(self.cleaned_data.get("attributes", ""))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("consent_sharing") and not cleaned.get("sharing_partners"):
            self.add_error("sharing_partners", "Name at least one partner organisation, or "
                                               "untick sharing.")
        return cleaned


class RegistryForm(NoNulMixin, forms.Form):
    KINDS = [("person", "A person"), ("place", "A place"), ("organisation", "An organisation")]
    kind = forms.ChoiceField(choices=KINDS, widget=forms.RadioSelect, initial="person",
                             label="What is it?")
    participant = forms.ModelChoiceField(
        queryset=Participant.objects.none(), required=False,
        label="This person is the participant",
        help_text="Their name is then replaced by their code, as in “[P07]”.")
    names = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "off", "spellcheck": "false"}),
        label="Name and aliases, one per line",
        help_text="For example “Amina Yusuf”, “Amina”, “Mina”. They share one pseudonym. Only "
                  "keyed hashes are kept: nobody can read these names back, this page included.")

    def __init__(self, *args, study: Study, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["participant"].queryset = Participant.objects.filter(study=study)

    def clean_names(self):
        names = [n.strip() for n in self.cleaned_data["names"].splitlines() if n.strip()]
        if len(names) > 50:
            raise forms.ValidationError("Register at most 50 names at once.")
        if any(len(n) > 120 for n in names):
            raise forms.ValidationError("A name is at most 120 characters.")
        return names


class ImportForm(NoNulMixin, forms.Form):
    title = forms.CharField(max_length=200, help_text="A neutral title, such as “Interview 4”: "
                                                      "never a participant's name.")
    kind = forms.ChoiceField(choices=Source.Kind.choices, initial=Source.Kind.INTERVIEW)
    pasted = forms.CharField(
        required=False, strip=False, label="Paste the transcript",
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false"}),
        help_text="Or choose a file below. Put each speaker's turn on a new line starting with "
                  "their label and a colon, as in “Interviewer:” or “P3:”.")
    file = forms.FileField(
        required=False, label="Or choose a file",
        help_text=f"{importing.ACCEPTED} Up to {importing.MAX_FILE_BYTES // (1024 * 1024)} MB. "
                  "The file is read in memory and never kept.",
        widget=forms.ClearableFileInput(attrs={"accept": ".txt,.docx,.pdf,text/plain,"
                                                         "application/pdf"}))

    def __init__(self, *args, too_big: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.too_big = too_big

    def clean(self):
        cleaned = super().clean()
        if self.too_big:
            self.add_error("file", f"This file is larger than "
                                   f"{importing.MAX_FILE_BYTES // (1024 * 1024)} MB. Split the "
                                   f"transcript, or paste it.")
            return cleaned
        has_file = bool(cleaned.get("file"))
        has_text = bool((cleaned.get("pasted") or "").strip())
        if has_file and has_text:
            self.add_error(None, "Paste the text or choose a file, not both.")
        elif not has_file and not has_text and not self.errors:
            self.add_error("pasted", "Paste the transcript or choose a file: there is no text "
                                     "to import.")
        return cleaned


class SourceEditForm(NoNulMixin, forms.Form):
    title = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=Source.Kind.choices)


MARK_KINDS = [("person", "Person"), ("place", "Place"), ("organisation", "Organisation"),
              ("email", "Email"), ("phone", "Phone"), ("postcode", "Postcode"),
              ("address", "Address"), ("url", "Link")]
