"""Who a signed-in person is, kept per web process between their requests.

Every signed-in request needs the person's account row and, for the header and the access
rules, their role in each organisation, whether one of those is a partner and (for people who
hold powers) whether they use two-step sign-in. Asking the database for those costs more than
the rest of a small page. Each process keeps them under the current *people version*, a value
in the shared cache (``CACHES["default"]``) that every change to an account, a membership, an
organisation or a two-step device removes (a new one is made when next asked for). The version
is read afresh on every request and is removed inside the writer's own transaction, so the
change and the new version reach every process together: a kept copy is never used after the
version it was made under.
"""

import uuid

from django.core.cache import cache, caches
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

VERSION_KEY = "people:version"
# A kept copy also ends by the clock, so a process that sees few requests does not hold
# rows for long; the version, not this, is what keeps copies correct.
SECONDS = 300
# Saves that only record when something was last used: signing in stamps the account, using a
# two-step device stamps the device. Neither changes who the person is or what they may do,
# and both happen at every sign-in, so they keep the version (``last_login`` is never kept:
# see hub/members/backends.py).
BOOKKEEPING = {"User": {"last_login"}, "Authenticator": {"last_used_at"}}


def _local():
    return caches["people"]


def version() -> str:
    """The people version as the shared cache holds it now, made on first use."""
    current = cache.get(VERSION_KEY)
    if current is None:
        current = uuid.uuid4().hex
        # Another process may have made one at the same moment: theirs wins if it was first.
        if not cache.add(VERSION_KEY, current, timeout=None):
            current = cache.get(VERSION_KEY) or current
    return current


def bookkeeping_only(sender, update_fields) -> bool:
    """Whether a save wrote nothing but a last-used stamp (see ``BOOKKEEPING``)."""
    stamps = BOOKKEEPING.get(sender.__name__)
    return bool(stamps and update_fields and set(update_fields) <= stamps)


def changed(sender=None, update_fields=None, **kwargs) -> None:
    """An account, membership or two-step device changed: stop using every kept copy.

    The version is deleted rather than replaced: a failed delete raises (a failed ``set`` in
    Django's database cache passes silently), so a change cannot commit while processes go on
    using copies made before it. Deleted again after the commit, for caches outside the
    database, where a request could read the old rows after the first delete."""
    if sender is not None and bookkeeping_only(sender, update_fields):
        return
    cache.delete(VERSION_KEY)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: cache.delete(VERSION_KEY))


def person(pk, load):
    """What ``load(pk)`` gives for this person (a dict of plain values, or None when there is
    no such account), kept per process under the current people version."""
    key = f"people:{version()}:{pk}"
    known = _local().get(key)
    if known is None:
        known = load(pk)
        if known is not None:
            _local().set(key, known, timeout=SECONDS)
    return known


def connect() -> None:
    """Remove the people version on every write to what ``person`` keeps: accounts,
    memberships (roles), organisations (partner standing), two-step sign-in devices, and the
    account's groups and permissions."""
    from allauth.mfa.models import Authenticator
    from django.contrib.auth import get_user_model

    from hub.members.models import Membership, Organisation

    user_model = get_user_model()
    for model in (user_model, Membership, Organisation, Authenticator):
        post_save.connect(changed, sender=model, dispatch_uid=f"people-{model.__name__}")
        post_delete.connect(changed, sender=model, dispatch_uid=f"people-del-{model.__name__}")
    for through in (user_model.groups.through, user_model.user_permissions.through):
        m2m_changed.connect(changed, sender=through, dispatch_uid=f"people-m2m-{through.__name__}")
