"""Versions for cached page fragments that many people share.

A list that looks the same to everyone in one audience (say, every visitor) is rendered once
and kept in the cache under a key that holds its version; any change to what it shows bumps
the version, so the next request renders afresh (in another web process, within a second).
Fragments also expire after a minute, for what changes with the clock alone (an event that
has started). Who belongs to which audience is the policy's decision (``hub.policy``), never
this module's.
"""

import hashlib
import uuid
from functools import cache as once
from pathlib import Path

from django.core.cache import cache, caches

CODE = Path(__file__).resolve().parent.parent

FRAGMENT_SECONDS = 60
# Each process remembers a version it read for this long before asking the shared cache
# again, so a change made by another process shows there within a second.
LOCAL_SECONDS = 1


def _local():
    return caches["template_fragments"]


def _key(name: str) -> str:
    return f"fragments:{name}:version"


def version(name: str) -> str:
    """The current version of the fragments called ``name``, made on first use."""
    current = _local().get(_key(name))
    if current is not None:
        return current
    current = cache.get(_key(name))
    if current is None:
        current = uuid.uuid4().hex
        # Another process may have made one at the same moment: theirs wins if it was first.
        if not cache.add(_key(name), current, timeout=None):
            current = cache.get(_key(name)) or current
    _local().set(_key(name), current, timeout=LOCAL_SECONDS)
    return current


def bump(name: str) -> None:
    """Something the fragments show has changed: stop using every copy made so far."""
    cache.set(_key(name), uuid.uuid4().hex, timeout=None)
    _local().delete(_key(name))


@once
def code_stamp() -> str:
    """A digest of the hub's code and templates as this process loaded them, for copies kept
    where other releases can read them (a table shared by every process): a copy rendered by
    other code is never served, during a rolling release or after one."""
    digest = hashlib.sha256()
    for path in sorted(CODE.rglob("*")):
        if path.suffix in {".py", ".html"} and "tests" not in path.parts:
            digest.update(str(path.relative_to(CODE)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
