"""Versions for cached page fragments that many people share.

A list that looks the same to everyone in one audience (say, every visitor) is rendered once
and kept in the cache under a key that holds its version; any change to what it shows bumps
the version, so the next request renders afresh. Fragments also expire after a minute, for
what changes with the clock alone (an event that has started). Who belongs to which audience
is the policy's decision (``hub.policy``), never this module's.
"""

import uuid

from django.core.cache import cache

FRAGMENT_SECONDS = 60


def _key(name: str) -> str:
    return f"fragments:{name}:version"


def version(name: str) -> str:
    """The current version of the fragments called ``name``, made on first use."""
    current = cache.get(_key(name))
    if current is None:
        current = uuid.uuid4().hex
        # Another process may have made one at the same moment: theirs wins if it was first.
        if not cache.add(_key(name), current, timeout=None):
            current = cache.get(_key(name)) or current
    return current


def bump(name: str) -> None:
    """Something the fragments show has changed: stop using every copy made so far."""
    cache.set(_key(name), uuid.uuid4().hex, timeout=None)
