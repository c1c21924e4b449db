"""Forms for discussion spaces: the shape of the input only."""

from django import forms
from django.db.models import Q

from hub import policy
from hub.community.models import Flag, ModerationAction, Space
from hub.members.models import Organisation, User

MARKDOWN_HELP = ("Markdown: *italic*, **bold**, [a link](https://example.org), “> ” to quote, "
                 "“- ” for a list. Mention someone with @ and their name in this space.")


class SpaceForm(forms.ModelForm):
    class Meta:
        model = Space
        fields = ["name", "description", "ground_rules", "visibility", "chatham_house",
                  "pseudonymous", "flag_threshold", "organisation"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "ground_rules": forms.Textarea(attrs={"rows": 8}),
            "visibility": forms.RadioSelect,
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = policy.space_organisation_ids(user)
        organisations = Organisation.objects.all()
        if allowed is not None:
            current = {self.instance.organisation_id} if self.instance.organisation_id else set()
            organisations = organisations.filter(pk__in=allowed | current)
            self.fields["organisation"].required = True
        self.fields["organisation"].queryset = organisations.order_by("name")


class JoinForm(forms.Form):
    accept = forms.BooleanField(
        label="I have read the ground rules and I accept them", required=False)


class ThreadForm(forms.Form):
    title = forms.CharField(max_length=200)
    body = forms.CharField(label="Your post", max_length=20000, help_text=MARKDOWN_HELP,
                           widget=forms.Textarea(attrs={"rows": 8}))


class PostForm(forms.Form):
    body = forms.CharField(label="Your reply", max_length=20000, help_text=MARKDOWN_HELP,
                           widget=forms.Textarea(attrs={"rows": 6}))


class FlagForm(forms.Form):
    reason = forms.ChoiceField(label="Why should the moderators look at this post?",
                               choices=Flag.Reason.choices, widget=forms.RadioSelect)
    note = forms.CharField(label="Anything the moderators should know (optional)",
                           max_length=500, required=False,
                           widget=forms.Textarea(attrs={"rows": 3}))


class ModerateForm(forms.Form):
    action = forms.ChoiceField(choices=[(value, label) for value, label in
                                        ModerationAction.Action.choices])
    reason = forms.CharField(max_length=2000, required=False)


class LockForm(forms.Form):
    reason = forms.CharField(max_length=2000, required=False)


class RevealForm(forms.Form):
    reason = forms.CharField(
        label="Why do you need to know who wrote this?", min_length=10, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Required. It is recorded in the audit trail, and the space's moderation log "
                  "shows that this pseudonym was revealed, with your reason.")


class InviteForm(forms.Form):
    emails = forms.CharField(
        label="Invite members", widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The email addresses of members of the hub, one a line. They see the space "
                  "and can join it.")

    def clean_emails(self):
        addresses = [line.strip().lower() for line in self.cleaned_data["emails"].splitlines()
                     if line.strip()]
        if not addresses:
            raise forms.ValidationError("Give at least one email address.")
        if len(addresses) > 50:
            raise forms.ValidationError("Invite at most 50 people at a time.")
        wanted = Q()
        for address in addresses:
            wanted |= Q(email__iexact=address)
        users = {user.email.lower(): user for user in User.objects.filter(
            wanted, is_active=True, standing=User.Standing.MEMBER)}
        unknown = [address for address in addresses if address not in users]
        if unknown:
            raise forms.ValidationError(
                "No member of the hub has the address " + ", ".join(unknown) + ".")
        return list(users.values())


class MemberChangeForm(forms.Form):
    action = forms.ChoiceField(choices=[("moderator", "Make moderator"),
                                        ("member", "Make ordinary member"),
                                        ("remove", "Remove from the space")])
