"""The shape of ideas board input; the services decide the rest (that declining needs a reason,
that outcome links belong to adopted ideas and point at what the decider can see)."""

from django import forms

from hub.community import ideas_selectors
from hub.community.models import Idea, IdeaComment

TEXT_HELP = "Markdown works: **bold**, *italic*, lists and links."


class IdeaForm(forms.ModelForm):
    class Meta:
        model = Idea
        fields = ["title", "body_markdown"]
        labels = {"title": "Title", "body_markdown": "Your idea"}
        help_texts = {"title": "A short name for the idea, as it will appear in the list.",
                      "body_markdown": "What you propose, why, and who would take part. "
                                       + TEXT_HELP}
        widgets = {"body_markdown": forms.Textarea(attrs={"rows": 12})}
        error_messages = {
            "title": {"required": "Give the idea a title."},
            "body_markdown": {"required": "Say what you propose: the idea is empty."}}

    def clean_title(self):
        title = self.cleaned_data["title"].strip()
        if not title:
            raise forms.ValidationError("Give the idea a title.")
        return title


class CommentForm(forms.Form):
    body_markdown = forms.CharField(
        label="Your comment", max_length=IdeaComment._meta.get_field("body_markdown").max_length,
        widget=forms.Textarea(attrs={"rows": 5}), help_text=TEXT_HELP,
        error_messages={"required": "Write something first: the comment is empty."})


class RemoveCommentForm(forms.Form):
    reason = forms.CharField(
        label="Reason for removing it", max_length=300,
        help_text="Shown in the comment's place, for everyone who reads the idea.",
        error_messages={"required": "Give a reason: it is shown in the comment's place."})


class StatusForm(forms.Form):
    status = forms.ChoiceField(label="Status", choices=Idea.Status.choices,
                               widget=forms.RadioSelect)
    status_reason = forms.CharField(
        label="Reason", required=False,
        max_length=Idea._meta.get_field("status_reason").max_length,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Why the status changes. Required when declining; the author is told by mail "
                  "and every member reads it on the idea's page.")
    outcome_event = forms.ModelChoiceField(
        label="Event that came of it", required=False, queryset=None,
        help_text="For an adopted idea only.")
    outcome_resource = forms.ModelChoiceField(
        label="Library resource that came of it", required=False, queryset=None,
        help_text="For an adopted idea only. Members who cannot open the resource do not see "
                  "this link.")
    outcome_note = forms.CharField(
        label="What came of it, in words", required=False,
        max_length=Idea._meta.get_field("outcome_note").max_length,
        help_text="For an adopted idea only: a study, a change of practice, a next step.")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Offer only what the decider may see (the service checks again).
        self.fields["outcome_event"].queryset = ideas_selectors.outcome_events(user=user)
        self.fields["outcome_resource"].queryset = ideas_selectors.outcome_resources(user=user)

    @classmethod
    def for_idea(cls, idea: Idea, *, user, data=None):
        return cls(data, user=user, initial={
            "status": idea.status, "status_reason": idea.status_reason,
            "outcome_event": idea.outcome_event_id, "outcome_resource": idea.outcome_resource_id,
            "outcome_note": idea.outcome_note})
