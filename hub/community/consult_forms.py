"""The shape of consultation and concern input; the services decide the rest (who may open a
consultation for which organisation, dates in the future, required answers)."""

from django import forms
from django.core.exceptions import ValidationError

from hub import policy
from hub.community.consult import MAX_QUESTIONS, QUESTION_LENGTH, QuestionSpec
from hub.community.models import Concern, Consultation, ConsultationChange
from hub.members.models import Organisation

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
OPEN_CHOICES = [("draft", "Keep it as a draft (only your organisation's editors see it)"),
                ("open", "Open it now: the audience can read it and respond")]


def _no_nul(value):
    if isinstance(value, str) and "\x00" in value:
        raise ValidationError("Null characters are not allowed.")
    return value


class _NoNulMixin:
    def clean(self):
        cleaned = super().clean()
        for name, value in list(cleaned.items()):
            if isinstance(value, str) and "\x00" in value:
                self.add_error(name, "Null characters are not allowed.")
        return cleaned


def questions_to_text(questions) -> str:
    return "\n".join(("* " if q.required else "") + q.text for q in questions)


def text_to_questions(text: str) -> list[QuestionSpec]:
    specs = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        required = line.startswith("*")
        specs.append(QuestionSpec(line.lstrip("*").strip(), required))
    return specs


class ConsultationForm(_NoNulMixin, forms.ModelForm):
    questions = forms.CharField(
        label="Questions", widget=forms.Textarea(attrs={"rows": 8}), required=False,
        help_text=f"One question per line, in order, 1 to {MAX_QUESTIONS}, each under "
                  f"{QUESTION_LENGTH} characters. Start a line with * to make an answer "
                  f"required.")
    status_choice = forms.ChoiceField(label="Status", choices=OPEN_CHOICES, initial="draft",
                                      widget=forms.RadioSelect)

    class Meta:
        model = Consultation
        fields = ["organisation", "title", "summary", "body_markdown", "audience",
                  "audience_organisations", "closes_at"]
        widgets = {"body_markdown": forms.Textarea(attrs={"rows": 12}),
                   "audience": forms.RadioSelect,
                   "audience_organisations": forms.CheckboxSelectMultiple,
                   "closes_at": DATETIME}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = policy.consultation_organisation_ids(user)
        if self.instance.pk:
            allowed = allowed | {self.instance.organisation_id}
        self.fields["organisation"].queryset = Organisation.objects.filter(
            pk__in=allowed).order_by("name")
        if len(allowed) == 1:
            self.fields["organisation"].empty_label = None
            self.fields["organisation"].initial = next(iter(allowed))
        self.fields["audience_organisations"].queryset = Organisation.objects.order_by("name")
        self.fields["audience_organisations"].required = False
        self.fields["body_markdown"].help_text = (
            "The policy or practice, and what may change. Markdown: **bold**, lists, links.")
        self.fields["closes_at"].help_text = "Date and time; it must be in the future."
        if self.instance.pk:
            self.initial["questions"] = questions_to_text(self.instance.questions.all())
            if self.instance.status != Consultation.Status.DRAFT:
                # Responses answer the questions as asked: they stay fixed once it has opened.
                del self.fields["questions"]
                del self.fields["status_choice"]

    def clean_questions(self):
        specs = text_to_questions(_no_nul(self.cleaned_data["questions"]))
        if not specs:
            raise ValidationError("Ask at least one question.")
        if len(specs) > MAX_QUESTIONS:
            raise ValidationError(f"Ask at most {MAX_QUESTIONS} questions "
                                  f"(there are {len(specs)}).")
        for n, spec in enumerate(specs, 1):
            if len(spec.text) > QUESTION_LENGTH:
                raise ValidationError(f"Question {n} is longer than {QUESTION_LENGTH} "
                                      f"characters.")
        return specs

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        data["open_now"] = data.pop("status_choice", "draft") == "open"
        return data


class ResponseForm(forms.Form):
    """One field per question, named q<id>, plus whether to show one's name."""

    show_name = forms.BooleanField(
        label="Show my name with my response", required=False,
        help_text="Without it, others (the organisation included) see only your sector.")

    def __init__(self, *args, questions, **kwargs):
        super().__init__(*args, **kwargs)
        fields = {}
        for n, question in enumerate(questions, 1):
            fields[f"q{question.pk}"] = forms.CharField(
                label=f"{n}. {question.text}", required=question.required, max_length=6000,
                widget=forms.Textarea(attrs={"rows": 4}),
                help_text="Required." if question.required else "Optional.")
        show = self.fields.pop("show_name")
        self.fields.update(fields)
        self.fields["show_name"] = show
        self.questions = list(questions)

    def clean(self):
        cleaned = super().clean()
        for name, value in list(cleaned.items()):
            if isinstance(value, str) and "\x00" in value:
                self.add_error(name, "Null characters are not allowed.")
        return cleaned

    def answers(self) -> dict:
        return {q.pk: self.cleaned_data.get(f"q{q.pk}", "") for q in self.questions}


class ChangeForm(_NoNulMixin, forms.ModelForm):
    class Meta:
        model = ConsultationChange
        fields = ["you_said", "we_did", "why"]
        widgets = {name: forms.Textarea(attrs={"rows": 3}) for name in fields}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.fields:  # a blank line is skipped; a half-filled one is refused
            self.fields[name].required = False


# Three blank lines after those already written; more after saving.
ChangeFormSet = forms.formset_factory(ChangeForm, extra=3, max_num=30, absolute_max=30)


class OutcomeForm(_NoNulMixin, forms.ModelForm):
    class Meta:
        model = Consultation
        fields = ["outcome_summary"]
        widgets = {"outcome_summary": forms.Textarea(attrs={"rows": 8})}


class ConcernForm(_NoNulMixin, forms.ModelForm):
    class Meta:
        model = Concern
        fields = ["organisation", "title", "body_markdown", "visibility", "show_name"]
        widgets = {"body_markdown": forms.Textarea(attrs={"rows": 10}),
                   "visibility": forms.RadioSelect}
        labels = {"organisation": "Addressed to"}
        help_texts = {
            "body_markdown": "What happened or what worries you, and what you would like the "
                             "organisation to do. Markdown works. Do not name private people.",
            "show_name": "Without it, others (the organisation included) see only that a "
                         "member raised it.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation.objects.order_by("name")


class ReplyForm(_NoNulMixin, forms.Form):
    body_markdown = forms.CharField(label="Your reply", max_length=8000,
                                    widget=forms.Textarea(attrs={"rows": 6}))


class RemoveForm(_NoNulMixin, forms.Form):
    reason = forms.CharField(label="Reason (the author and the organisation see it)",
                             max_length=300)
