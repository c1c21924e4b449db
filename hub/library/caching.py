"""Search results shared by everyone who may find exactly the same things.

Rendering a page of search results (matching, access rules, facets, twenty highlighted
snippets) costs tens of milliseconds; most people who search share their access with many
others (every visitor; every plain member of the same organisations). ``hub.policy``
names such a group (``policy.library_audience``); a rendered page of results is kept under a
key made of that name, the query as the search understood it, and the library's version, in
each web process and in a cache table all processes share (``CACHES["library_results"]``), so
a search rendered by one process serves the others too. Any change that can alter what a
search finds, shows or lets someone see makes a new version, so later searches render afresh
(in another web process, within a second; see ``hub.core.fragments``). People whose view is
their own (staff, approvers, anyone holding a grant) get a name of their own, so their copies
serve only them, and a copy made for someone holding a grant with an end date is dropped
before that date, in every process.
"""

import hashlib
import json
import time

from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone

from hub.core import fragments
from hub.members import caching as people

LIBRARY = "library.search"
# A copy is correct until the library's version moves (or a grant it was made for ends, see
# ``lifetime``), so the clock only bounds how long unused copies take up room.
SECONDS = settings.LIBRARY_RESULTS_SECONDS


def changed(sender=None, update_fields=None, **kwargs) -> None:
    """Something a search can find, show or hide changed: stop using every shared copy.
    Now, and again after the commit, so a search that ran in between (and still read the
    old rows) cannot leave its copy behind as the current one. A two-step device stamped
    as used at sign-in changes nothing a search shows."""
    if sender is not None and people.bookkeeping_only(sender, update_fields):
        return
    fragments.bump(LIBRARY)
    # Copies made under the old version can never be read again: free their room now.
    _shared().clear()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: fragments.bump(LIBRARY))


def key(audience: str, query) -> str:
    """The cache key of one page of results for one audience, at the library's version."""
    wanted = {
        "text": query.text, "types": sorted(query.types), "themes": sorted(query.themes),
        "audiences": sorted(query.audiences), "countries": sorted(query.countries),
        "languages": sorted(query.languages), "organisations": sorted(query.organisations),
        "year_from": query.year_from, "year_to": query.year_to, "sort": query.sort,
        "page": query.page, "per_page": query.per_page,
        # Processes started with another window (during a new release, say) share the table.
        "window": settings.LIBRARY_RANK_WINDOW,
    }
    # The shared table outlives a release: copies rendered by other code are never served.
    digest = hashlib.sha256(json.dumps([audience, wanted, fragments.code_stamp()],
                                       sort_keys=True).encode()).hexdigest()
    return f"library:results:{fragments.version(LIBRARY)}:{digest}"


def person(user, work_out):
    """What the search page needs to know about a signed-in person (``work_out(user)``: their
    audience and the library links they get), kept per process for ``SECONDS`` at most. Every
    fact it is worked out from makes a new library version when it changes (memberships,
    grants, contributions, organisations, two-step sign-in), except those on the person's own
    row, which are part of the key; a grant ending by the clock ends the copy first."""
    if not user.is_authenticated:
        return work_out(user)
    cache_key = (f"library:person:{fragments.version(LIBRARY)}:{user.pk}:{user.standing}:"
                 f"{int(user.is_active)}:{int(user.is_staff)}:{int(user.is_moderator)}")
    known = _store().get(cache_key)
    if known is None:
        known = work_out(user)
        put(cache_key, known, lifetime(known["until"]))
    return known


def query_key(address: str) -> str:
    """The cache key of what a search address means, at the library's version."""
    digest = hashlib.sha256(address.encode()).hexdigest()
    return f"library:query:{fragments.version(LIBRARY)}:{digest}"


def _store():
    return caches["template_fragments"]


def _shared():
    return caches["library_results"]


def results_get(cache_key: str) -> str | None:
    """A rendered page of results kept by this process or, failing that, by any process."""
    html = _store().get(cache_key)
    if html is not None:
        return html
    kept = _shared().get(cache_key)
    if kept is None:
        return None
    until, html = kept
    seconds = int(until - time.time())
    if seconds <= 0:
        return None
    _store().set(cache_key, html, timeout=seconds)
    return html


def results_put(cache_key: str, html: str, seconds: int) -> None:
    """Keep a rendered page of results here and for every other process, for ``seconds``
    (which ``lifetime`` works out) and never longer, wherever it is read from."""
    if seconds > 0:
        _store().set(cache_key, html, timeout=seconds)
        _shared().set(cache_key, (time.time() + seconds, html), timeout=seconds)


def get(cache_key: str) -> str | None:
    return _store().get(cache_key)


def lifetime(until) -> int:
    """Seconds a copy may be kept: ``SECONDS``, or less when the access it was made for ends
    by the clock first (a grant expires); 0 when it must not be kept at all."""
    if until is None:
        return SECONDS
    return max(0, min(SECONDS, int((until - timezone.now()).total_seconds()) - 1))


def put(cache_key: str, html: str, seconds: int = SECONDS) -> None:
    if seconds > 0:
        _store().set(cache_key, html, timeout=seconds)


def connect() -> None:
    """Make a new version on every write that can change results, who may see them, or what
    ``person`` keeps about someone: resources, their files, themes and audiences, access
    rules, grants, memberships, organisations and two-step sign-in devices."""
    from allauth.mfa.models import Authenticator

    from hub.library.models import (
        AccessRule,
        Audience,
        Grant,
        Resource,
        ResourceFile,
        Theme,
    )
    from hub.members.models import Membership, Organisation

    for model in (Resource, ResourceFile, Grant, AccessRule, Theme, Audience, Membership,
                  Organisation, Authenticator):
        post_save.connect(changed, sender=model, dispatch_uid=f"library-search-{model.__name__}")
        post_delete.connect(changed, sender=model,
                            dispatch_uid=f"library-search-del-{model.__name__}")
    for through in (Resource.themes.through, Resource.audiences.through,
                    AccessRule.consulted.through):
        m2m_changed.connect(changed, sender=through,
                            dispatch_uid=f"library-search-m2m-{through.__name__}")
