"""The rendered events list is shared by everyone in one audience (see
``policy.events_audience``); any change to an event, its agenda or its registrations makes
a new version of it."""

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from hub.core import fragments

EVENTS = "community.events"


def _changed(**kwargs):
    # Now, and again after the commit, so a request that renders the list in between (and
    # still reads the old rows) cannot leave its copy behind as the current one.
    fragments.bump(EVENTS)
    transaction.on_commit(lambda: fragments.bump(EVENTS))


def connect() -> None:
    from hub.community.models import AgendaItem, Event, Registration

    for model in (Event, AgendaItem, Registration):
        post_save.connect(_changed, sender=model, dispatch_uid=f"events-list-{model.__name__}")
        post_delete.connect(_changed, sender=model,
                            dispatch_uid=f"events-list-del-{model.__name__}")
    m2m_changed.connect(_changed, sender=Event.organisers.through,
                        dispatch_uid="events-list-organisers")
