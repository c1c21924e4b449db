from django import forms
from django_countries import countries
from django_countries.fields import LazyTypedChoiceField

from hub.members.models import Invitation, Membership, Organisation, Profile, Sector


class ApplicationSignupForm(forms.Form):
    """The extra fields of the sign-up page, which is how a person applies to join.

    allauth builds its sign-up form on top of this one and calls ``signup`` once the account
    exists. Someone holding an invitation does not need to explain themselves.
    """

    display_name = forms.CharField(
        max_length=80, help_text="How others will see you. It need not be your full name.")
    sector = forms.ChoiceField(choices=[("", "Choose the sector you work in"), *Sector.choices],
                               help_text="Shown beside your name wherever you take part.")
    country = LazyTypedChoiceField(choices=[("", "Prefer not to say"), *countries],
                                   required=False)
    organisation = forms.ModelChoiceField(
        queryset=Organisation.objects.all(), required=False,
        empty_label="None, or not listed",
        help_text="If you name an organisation, its administrators may decide your application.")
    statement = forms.CharField(
        label="Why you would like to join", max_length=2000, widget=forms.Textarea(
            attrs={"rows": 4}),
        help_text="A few sentences on your work and what you hope to find or share here.")

    def __init__(self, *args, invitation: Invitation | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.invitation = invitation
        if invitation is not None:
            del self.fields["statement"]
            del self.fields["organisation"]

    def signup(self, request, user):
        # Imported here: allauth loads this form while the URLconf is still being built.
        from hub.members import services

        data = self.cleaned_data
        person = {"user": user, "display_name": data["display_name"], "sector": data["sector"],
                  "country": data.get("country") or ""}
        if self.invitation is None:
            services.application_submit(**person, organisation=data.get("organisation"),
                                        statement=data["statement"])
        else:
            # The invitation itself admits them, once the account exists (see ApplyView).
            services.profile_create(**person)


class ProfileForm(forms.ModelForm):
    expertise_text = forms.CharField(
        label="Expertise", required=False, max_length=500,
        help_text="Separate topics with commas, for example: youth work, mentoring, evaluation.")

    class Meta:
        model = Profile
        fields = ["display_name", "sector", "organisation", "country", "bio", "visibility"]
        widgets = {
            "bio": forms.Textarea(attrs={"rows": 5}),
            "visibility": forms.RadioSelect,
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation.objects.filter(memberships__user=user)
        self.fields["organisation"].empty_label = "None"
        if self.instance.pk:
            self.fields["expertise_text"].initial = ", ".join(
                e.name for e in self.instance.expertise.all())


class OrganisationForm(forms.ModelForm):
    website = forms.URLField(required=False, assume_scheme="https")

    class Meta:
        model = Organisation
        fields = ["name", "kind", "country", "website", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 5})}


class MembershipRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices)


class InvitationForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.MEMBER)
    note = forms.CharField(
        label="Who it is for", required=False, max_length=120,
        help_text="A reminder for you and your co-admins, for example 'Youth forum chair'. "
                  "No email address is needed.")
    days = forms.IntegerField(label="Valid for (days)", min_value=1, max_value=60, initial=14)


class ReapplyForm(forms.Form):
    statement = ApplicationSignupForm.base_fields["statement"]
    organisation = ApplicationSignupForm.base_fields["organisation"]


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label="Reason", max_length=1000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shown to the applicant.")


class ErasureForm(forms.Form):
    """Erasure cannot be undone, so the person says so in words before it happens."""

    confirm = forms.BooleanField(
        label="I understand that my account will be closed and my data erased, and that this "
              "cannot be undone.",
        error_messages={"required": "Tick the box to confirm that you want your data erased."})


class DirectoryForm(forms.Form):
    """The directory's search and filters; every field is optional and bad values are named."""

    q = forms.CharField(label="Search by name, organisation, expertise or bio", max_length=100,
                        required=False)
    sector = forms.ChoiceField(choices=[("", "Any sector"), *Sector.choices], required=False)
    country = LazyTypedChoiceField(choices=[("", "Any country"), *countries], required=False)
    expertise = forms.ModelChoiceField(queryset=None, required=False,
                                       empty_label="Any expertise", to_field_name="name")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from hub.members.models import Expertise

        self.fields["expertise"].queryset = Expertise.objects.all()


class OrganisationFilterForm(forms.Form):
    q = forms.CharField(label="Search by name or description", max_length=100, required=False)
    kind = forms.ChoiceField(label="Type", choices=[("", "Any type"), *Organisation.Kind.choices],
                             required=False)
    country = LazyTypedChoiceField(choices=[("", "Any country"), *countries], required=False)
    partners = forms.BooleanField(label="Partners of the hub only", required=False)
