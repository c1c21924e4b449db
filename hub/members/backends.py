"""Sign-in backends: Django's and allauth's, with the signed-in person kept per web process.

Django asks the backend for the account behind a session on every request. These backends
answer from a copy kept under the current people version (``hub.members.caching``), with the
person's roles already worked out, and ask the database only when the version has moved.
"""

from allauth.account.auth_backends import AuthenticationBackend
from django.contrib.auth import backends, get_user_model

from hub import policy
from hub.members import caching


def _load(pk) -> dict | None:
    model = get_user_model()
    try:
        user = model._default_manager.get(pk=pk)
    except model.DoesNotExist:
        return None
    # Every field but the last sign-in, which signing in changes without a new people version:
    # left deferred, it is read afresh if anything asks, and a save leaves it alone.
    fields = [f.attname for f in model._meta.concrete_fields if f.attname != "last_login"]
    return {"fields": fields, "values": [getattr(user, name) for name in fields],
            "facts": policy.facts_to_keep(user)}


class KeptPersonMixin:
    def get_user(self, user_id):
        model = get_user_model()
        try:
            pk = model._meta.pk.to_python(user_id)
        except Exception:  # noqa: BLE001  # a session holding nonsense is no one
            return None
        known = caching.person(pk, _load)
        if known is None:
            return None
        # A new instance each time: nothing one request sets on it reaches another.
        user = model.from_db("default", known["fields"], known["values"])
        policy.recall(user, known["facts"])
        return user if self.user_can_authenticate(user) else None


class ModelBackend(KeptPersonMixin, backends.ModelBackend):
    """Django's email-and-password backend (``createsuperuser``, the admin, tests)."""


class AccountBackend(KeptPersonMixin, AuthenticationBackend):
    """allauth's backend, which the sign-in pages use."""
