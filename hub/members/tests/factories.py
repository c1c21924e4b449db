import factory
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from hub.members.models import Application, Membership, Organisation, Profile, User

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    standing = User.Standing.MEMBER
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def profile(self, create, extracted, **kwargs):
        if create:
            ProfileFactory(user=self, **(kwargs or {}))
            EmailAddress.objects.create(user=self, email=self.email, verified=True,
                                        primary=True)
            self.save()


class ProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Profile
        django_get_or_create = ["user"]

    display_name = factory.Sequence(lambda n: f"Person Number{n}")
    sector = "community"
    visibility = Profile.Visibility.MEMBERS


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    slug = factory.Sequence(lambda n: f"organisation-{n}")
    kind = Organisation.Kind.COMMUNITY
    country = "GB"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = Membership.Role.MEMBER


class ApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Application

    user = factory.SubFactory(UserFactory, standing=User.Standing.APPLICANT)
    statement = "I run a youth club and would like to learn from others."


def enrol_mfa(user: User) -> str:
    """Enrol a user in TOTP as allauth would; return the secret so tests can make codes."""
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    for name in ("_hub_mfa",):
        if hasattr(user, name):
            delattr(user, name)
    return secret


def has_mfa(user: User) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
