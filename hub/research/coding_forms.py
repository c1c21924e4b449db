"""Forms of the codebook, coding and analysis pages: shape only; the services decide the rest."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from hub.research.models import Participant


def _no_nul(value):
    if isinstance(value, str) and "\x00" in value:
        raise ValidationError("Remove the NUL character from this field.")


class ColourInput(forms.TextInput):
    input_type = "color"


def code_choices(rows, *, blank: str | None = None) -> list[tuple[str, str]]:
    """Choices from ``codebook.code_tree`` rows, indented by depth so the tree shows."""
    choices = [("", blank)] if blank is not None else []
    for row in rows:
        choices.append((str(row.code.pk), "\u2003" * row.depth + row.code.name))
    return choices


class CodeForm(forms.Form):
    name = forms.CharField(max_length=120, validators=[_no_nul])
    description = forms.CharField(required=False, max_length=4000, validators=[_no_nul],
                                  widget=forms.Textarea(attrs={"rows": 3}),
                                  help_text="What the code means, and when to use it.")
    colour = forms.RegexField(regex=r"^#[0-9a-fA-F]{6}$", initial="#1f6feb",
                              widget=ColourInput,
                              error_messages={"invalid": "Give a colour as # and six hex digits."})


class NewCodeForm(CodeForm):
    parent = forms.ChoiceField(required=False, label="Under")

    def __init__(self, *args, tree_rows=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = code_choices(tree_rows, blank="(top level)")


class MoveForm(forms.Form):
    parent = forms.ChoiceField(required=False, label="New parent")
    position = forms.IntegerField(required=False, min_value=1, label="Place among its siblings",
                                  help_text="1 is first; leave empty to put it last.")

    def __init__(self, *args, tree_rows=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = code_choices(tree_rows, blank="(top level)")


class MergeForm(forms.Form):
    into = forms.ChoiceField(label="Merge into")

    def __init__(self, *args, tree_rows=(), exclude=None, **kwargs):
        super().__init__(*args, **kwargs)
        rows = [r for r in tree_rows if r.code.pk != exclude]
        self.fields["into"].choices = code_choices(rows, blank="Choose a code")


class SplitForm(forms.Form):
    names = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), validators=[_no_nul],
                            label="New codes", help_text="One name per line. They become "
                            "sub-codes of this code.")
    rule_word = forms.CharField(required=False, max_length=200, validators=[_no_nul],
                                label="Move codings whose text contains",
                                help_text="Optional: a word or phrase, ignoring case.")
    rule_target = forms.IntegerField(required=False, min_value=1, initial=1,
                                     label="…to new code number",
                                     help_text="1 for the first name above, and so on.")

    def clean_names(self):
        names = [n.strip() for n in self.cleaned_data["names"].splitlines() if n.strip()]
        if not names:
            raise ValidationError("Give at least one name.")
        if len(names) > 20:
            raise ValidationError("Split into at most 20 codes at once.")
        return names


class CodingForm(forms.Form):
    """The no-script way to code: offsets (the script fills them from a selection) or a
    whole speaker turn."""

    start = forms.IntegerField(required=False, min_value=0, label="From character")
    end = forms.IntegerField(required=False, min_value=0, label="To character")
    turn = forms.ChoiceField(required=False, label="Or a whole speaker turn")
    codes = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, label="Codes")

    def __init__(self, *args, tree_rows=(), turns=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["codes"].choices = code_choices(tree_rows)
        self.fields["turn"].choices = [("", "(use the positions above)")] + [
            (str(t.pk), f"{t.speaker}: {t.start}–{t.end}") for t in turns]
        self.turns = {str(t.pk): t for t in turns}

    def clean(self):
        data = super().clean()
        turn = data.get("turn")
        if turn:
            data["start"], data["end"] = self.turns[turn].start, self.turns[turn].end
        elif data.get("start") is None or data.get("end") is None:
            raise ValidationError("Select a passage (or give its first and last positions), "
                                  "or choose a speaker turn.")
        return data


class MemoForm(forms.Form):
    title = forms.CharField(required=False, max_length=200, validators=[_no_nul])
    text = forms.CharField(max_length=20000, widget=forms.Textarea(attrs={"rows": 4}),
                           validators=[_no_nul], label="Memo")


OP_CHOICES = [("and", "and (overlapping)"), ("or", "or"), ("not", "but not (overlapping)")]


class RetrieveForm(forms.Form):
    code = forms.ChoiceField(label="Segments coded")
    op1 = forms.ChoiceField(choices=OP_CHOICES, required=False, label="Then")
    code1 = forms.ChoiceField(required=False, label="Code")
    op2 = forms.ChoiceField(choices=OP_CHOICES, required=False, label="Then")
    code2 = forms.ChoiceField(required=False, label="Code")
    children = forms.BooleanField(required=False, label="Include sub-codes")
    groups = forms.MultipleChoiceField(required=False, choices=Participant.Group.choices,
                                       widget=forms.CheckboxSelectMultiple,
                                       label="Spoken by participants of these groups")
    attribute = forms.ChoiceField(required=False, label="Participant attribute")
    value = forms.CharField(required=False, max_length=200, validators=[_no_nul],
                            label="equals")
    sources = forms.MultipleChoiceField(required=False, label="In these sources")
    page = forms.IntegerField(required=False, min_value=1)

    def __init__(self, *args, tree_rows=(), attributes=(), sources=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = code_choices(tree_rows)
        self.fields["code"].choices = [("", "Choose a code")] + choices
        self.fields["code1"].choices = self.fields["code2"].choices = [("", "—")] + choices
        self.fields["attribute"].choices = [("", "(any)")] + [(a, a) for a in attributes]
        self.fields["sources"].choices = [(str(pk), title) for pk, title in sources]

    def steps(self) -> list[tuple[str, int]]:
        out = []
        for i in (1, 2):
            op, code = self.cleaned_data.get(f"op{i}"), self.cleaned_data.get(f"code{i}")
            if op and code:
                out.append((op, int(code)))
        return out


class SearchForm(forms.Form):
    q = forms.CharField(max_length=200, label="Search the study's sources",
                        validators=[_no_nul])
