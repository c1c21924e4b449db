from datetime import timedelta

import factory
from django.utils import timezone

from hub.community.models import Event
from hub.members.tests.factories import OrganisationFactory


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Partnership event {n}")
    slug = factory.Sequence(lambda n: f"partnership-event-{n}")
    summary = "Police and community partners meet."
    format = Event.Format.HYBRID
    starts_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(hours=2))
    venue = "Community hall"
    joining_link = "https://meet.example.org/secret-room"
    audience = Event.Audience.PUBLIC
    status = Event.Status.PUBLISHED
    organisation = factory.SubFactory(OrganisationFactory)
