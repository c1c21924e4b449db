"""Forms of the REFI-QDA exchange pages: the shape of the input only."""

from django import forms
from django.core.exceptions import ValidationError

from hub.research import exchange, pseudonymise

KINDS = {"person": "person", "participant": "person", "place": "place",
         "organisation": "organisation", "organization": "organisation"}


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValidationError("Remove the NUL character (\\0) from this text.")
    return value


class ProjectImportForm(forms.Form):
    file = forms.FileField(label="REFI-QDA project (.qdpx)",
                           help_text=f"Exported from NVivo, ATLAS.ti, MAXQDA, QualCoder, "
                                     f"Taguette or another hub; at most "
                                     f"{exchange.MAX_UPLOAD_BYTES // 2**20} MB.")
    names = forms.CharField(
        label="Names to replace", required=False, max_length=20000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="One per line: names and aliases of people, places and organisations that "
                  "may appear in the texts. Start a line with “place:” or “organisation:” for "
                  "those; other lines are people. They are kept only as keyed hashes.")
    already_pseudonymised = forms.BooleanField(
        label="The texts are already pseudonymised", required=False,
        help_text="Replace only the names above and contact details, addresses and links; "
                  "leave capitalised words alone. Tick this for a project exported by a hub.")
    coders = forms.CharField(
        label="Coders in the file", required=False, max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line, “name in the file = email of a hub member”, to keep each "
                  "coder's codings apart; they join the study as coders. Codings by anyone "
                  "not named here (and not a member of this hub) become yours.")

    def clean_names(self) -> list[tuple[str, str]]:
        found = []
        for line in _no_nul(self.cleaned_data["names"]).splitlines():
            kind, sep, name = line.partition(":")
            if sep and kind.strip().casefold() in KINDS:
                found.append((name.strip(), KINDS[kind.strip().casefold()]))
            elif line.strip():
                found.append((line.strip(), "person"))
        return [(name, kind) for name, kind in found
                if name and kind in pseudonymise.NAMED]

    def clean_coders(self) -> dict[str, str]:
        mapping = {}
        for number, line in enumerate(_no_nul(self.cleaned_data["coders"]).splitlines(), 1):
            if not line.strip():
                continue
            name, sep, email = line.rpartition("=")
            email = email.strip()
            if not sep or not name.strip() or "@" not in email:
                raise ValidationError(f"Line {number} should read “name in the file = "
                                      f"email”.")
            mapping[name.strip()] = email
        return mapping


class CodebookImportForm(forms.Form):
    file = forms.FileField(label="REFI-QDA codebook (.qdc)",
                           help_text="Codes whose name is already used at the same place in "
                                     "the codebook are merged with it; the rest are added.")
