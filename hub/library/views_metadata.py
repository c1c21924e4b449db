"""Metadata others can use: citations, the feed of new public items and OAI-PMH.

Citations follow what the reader may see. The feed and OAI-PMH are the same for everyone,
signed in or not: they carry only published resources whose description is public.
"""

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from urllib.parse import urlparse

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.sites.shortcuts import get_current_site
from django.contrib.syndication.views import Feed
from django.core import signing
from django.db.models import Min, Q
from django.http import Http404, HttpResponse
from django.http.request import split_domain_port
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import linebreaks
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from hub import policy
from hub.library import metadata, search, selectors
from hub.library.models import Resource, Tier
from hub.library.views import query_from_request

# --- Citations ------------------------------------------------------------------------------

CITATION_FORMATS = {
    "bib": (metadata.bibtex, "application/x-bibtex; charset=utf-8"),
    "ris": (metadata.ris, "application/x-research-info-systems; charset=utf-8"),
}


def _citation_response(request, resources, fmt: str, name: str) -> HttpResponse:
    write, content_type = CITATION_FORMATS[fmt]
    base_url = request.build_absolute_uri("/")
    response = HttpResponse(write(resources, base_url=base_url), content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, f"{name}.{fmt}")
    if request.user.is_authenticated:
        # What a signed-in person may cite can be more than a visitor may: keep it out of
        # shared caches and off the disk.
        response["Cache-Control"] = "private, no-store"
    return response


def cite(request, pk, fmt):
    if fmt not in CITATION_FORMATS:
        raise Http404("No such resource.")
    resource = selectors.resource_for(request.user, pk)
    if resource is None:
        raise Http404("No such resource.")
    name = slugify(resource.title)[:80].strip("-") or f"resource-{resource.pk}"
    return _citation_response(request, [resource], fmt, name)


def export(request, fmt):
    """The whole result list of a library search, up to the search's limit of 1,000."""
    if fmt not in CITATION_FORMATS:
        raise Http404("No such export format.")
    _, query = query_from_request(request)
    ids = search.visible_ids_for(request.user, query)
    found = (Resource.objects.select_related("organisation").prefetch_related("themes")
             .in_bulk(ids))
    resources = [found[pk] for pk in ids if pk in found]
    return _citation_response(request, resources, fmt, "library")


# --- What anyone may harvest ----------------------------------------------------------------

def public_resources():
    """Published resources with a public description. The policy filter for a visitor is
    applied as well, so a future rule that hides something from visitors hides it here."""
    qs = Resource.objects.filter(status=Resource.Status.PUBLISHED, metadata_tier=Tier.PUBLIC)
    return policy.visible_resources(AnonymousUser(), qs)


class NewPublicResources(Feed):
    """The newest public resources. Built without looking at who asks, so it is the same
    feed for a visitor and for staff."""

    feed_type = Atom1Feed
    title = "New in the library"
    subtitle = "Resources newly published in the hub's library for anyone to read."
    link = reverse_lazy("library:home")
    feed_url = reverse_lazy("library:feed")

    def items(self):
        return (public_resources().filter(published_at__isnull=False)
                .select_related("organisation").prefetch_related("themes")
                .order_by("-published_at", "-pk")[:50])

    def item_title(self, item):
        return metadata.xml_text(item.title)

    def item_description(self, item):
        # Atom readers take the summary as HTML: escape the abstract and keep its paragraphs.
        return linebreaks(metadata.xml_text(item.abstract), autoescape=True)

    def item_link(self, item):
        return reverse("library:detail", args=[item.pk])

    def item_guid(self, item):
        return f"urn:uuid:{item.uuid}"

    item_guid_is_permalink = False

    def item_pubdate(self, item):
        return item.published_at

    def item_updateddate(self, item):
        # Atom needs an updated date on every entry; publication is the change that matters.
        return item.published_at

    def item_author_name(self, item):
        # Atom gives an entry one author element: the authors as one name, or the publisher.
        return metadata.xml_text(", ".join(item.author_list) or item.publisher_name)

    def item_categories(self, item):
        return [metadata.xml_text(theme.name) for theme in item.themes.all()]


# --- OAI-PMH 2.0 ----------------------------------------------------------------------------

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
OAI_SCHEMA = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
OAI_DC_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
DC_NS = "http://purl.org/dc/elements/1.1/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION = f"{{{XSI_NS}}}schemaLocation"
for _prefix, _uri in (("oai_dc", OAI_DC_NS), ("dc", DC_NS), ("xsi", XSI_NS)):
    ET.register_namespace(_prefix, _uri)

PAGE_SIZE = 100
TOKEN_SALT = "hub.library.oai.resumption"
TOKEN_LIFETIME = timedelta(hours=24)
GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
SECOND = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
LOCAL_ID = re.compile(r"library/([1-9][0-9]{0,17})")

# verb: (required arguments, optional arguments, the exclusive argument if any)
VERBS = {
    "Identify": (set(), set(), None),
    "ListMetadataFormats": (set(), {"identifier"}, None),
    "ListSets": (set(), set(), "resumptionToken"),
    "ListIdentifiers": ({"metadataPrefix"}, {"from", "until", "set"}, "resumptionToken"),
    "ListRecords": ({"metadataPrefix"}, {"from", "until", "set"}, "resumptionToken"),
    "GetRecord": ({"identifier", "metadataPrefix"}, set(), None),
}


class OaiError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def _add(parent, name: str, text=None, attrib=None, ns: str | None = None):
    # Elements of the protocol itself are written unqualified, in the default namespace
    # the root declares; ElementTree cannot write a default namespace together with
    # unqualified attribute names such as code and cursor.
    element = ET.SubElement(parent, f"{{{ns}}}{name}" if ns else name, attrib or {})
    if text is not None:
        element.text = metadata.xml_text(text)
    return element


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _repository_host(request) -> str:
    host = urlparse(settings.SITE_URL).hostname
    return host or split_domain_port(request.get_host())[0]


def _identifier(request, resource) -> str:
    return f"oai:{_repository_host(request)}:library/{resource.pk}"


def _arguments(params) -> tuple[str, dict[str, str]]:
    """The verb and its arguments, checked against the verb's rules."""
    verbs = params.getlist("verb")
    if len(verbs) != 1 or verbs[0] not in VERBS:
        raise OaiError("badVerb", "The verb is missing, repeated or not an OAI-PMH verb.")
    verb = verbs[0]
    required, optional, exclusive = VERBS[verb]
    allowed = required | optional | {exclusive, "verb"}
    args = {}
    for key in params:
        values = params.getlist(key)
        if key not in allowed:
            raise OaiError("badArgument", f"{verb} does not take the argument {key!r}.")
        if len(values) != 1:
            raise OaiError("badArgument", f"The argument {key!r} is repeated.")
        if not values[0]:
            raise OaiError("badArgument", f"The argument {key!r} has no value.")
        if key != "verb":
            args[key] = values[0]
    if exclusive in args:
        if len(args) > 1:
            raise OaiError("badArgument", f"{exclusive} must be the only argument.")
    elif missing := required - args.keys():
        raise OaiError("badArgument", "Missing: " + ", ".join(sorted(missing)) + ".")
    return verb, args


def _parse_date(value: str) -> tuple[datetime, timedelta]:
    """The moment a from or until value starts and the span its granularity covers."""
    try:
        if DAY.fullmatch(value):
            return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC), timedelta(days=1)
        if SECOND.fullmatch(value):
            moment = datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            return moment, timedelta(seconds=1)
    except ValueError:
        pass
    raise OaiError("badArgument", f"{value!r} is not a date as YYYY-MM-DD or {GRANULARITY}.")


def _date_filter(start: str | None, end: str | None) -> Q:
    """Datestamps from start to end inclusive, each at the granularity it was given in."""
    condition = Q()
    lower = upper = None
    if start:
        lower, lower_span = _parse_date(start)
        condition &= Q(modified__gte=lower)
    if end:
        upper, upper_span = _parse_date(end)
        if start and upper_span != lower_span:
            raise OaiError("badArgument", "from and until must have the same granularity.")
        try:
            condition &= Q(modified__lt=upper + upper_span)
        except OverflowError:
            pass  # until the end of time: no upper bound
    if lower and upper and lower > upper:
        raise OaiError("badArgument", "from must not be later than until.")
    return condition


def _public_record(request, identifier: str):
    """The public resource an identifier names. Anything else, including a resource that
    exists but is not public, is unknown: the answer must not tell them apart."""
    prefix = f"oai:{_repository_host(request)}:"
    match = LOCAL_ID.fullmatch(identifier.removeprefix(prefix))
    resource = None
    if identifier.startswith(prefix) and match:
        resource = (public_resources().select_related("organisation")
                    .prefetch_related("themes", "files").filter(pk=int(match[1])).first())
    if resource is None:
        raise OaiError("idDoesNotExist", "No public record has this identifier.")
    return resource


def _check_prefix(prefix: str) -> None:
    if prefix != "oai_dc":
        raise OaiError("cannotDisseminateFormat", "This repository offers oai_dc only.")


def _header(parent, request, resource):
    header = _add(parent, "header")
    _add(header, "identifier", _identifier(request, resource))
    _add(header, "datestamp", _stamp(resource.modified))
    return header


def _record(parent, request, resource):
    record = _add(parent, "record")
    _header(record, request, resource)
    dc = _add(_add(record, "metadata"), "dc", ns=OAI_DC_NS,
              attrib={SCHEMA_LOCATION: f"{OAI_DC_NS} {OAI_DC_SCHEMA}"})
    base_url = request.build_absolute_uri("/")
    for element, value in metadata.dublin_core(resource, base_url=base_url):
        _add(dc, element, value, ns=DC_NS)
    return record


def oai_identify(request, args):
    body = ET.Element("Identify")
    earliest = public_resources().aggregate(first=Min("modified"))["first"]
    _add(body, "repositoryName", f"{get_current_site(request).name}: library")
    _add(body, "baseURL", request.build_absolute_uri(reverse("library:oai")))
    _add(body, "protocolVersion", "2.0")
    _add(body, "adminEmail", parseaddr(settings.DEFAULT_FROM_EMAIL)[1])
    _add(body, "earliestDatestamp", _stamp(earliest or datetime(1970, 1, 1, tzinfo=UTC)))
    _add(body, "deletedRecord", "no")
    _add(body, "granularity", GRANULARITY)
    return body


def oai_list_metadata_formats(request, args):
    if "identifier" in args:
        _public_record(request, args["identifier"])
    body = ET.Element("ListMetadataFormats")
    format_ = _add(body, "metadataFormat")
    _add(format_, "metadataPrefix", "oai_dc")
    _add(format_, "schema", OAI_DC_SCHEMA)
    _add(format_, "metadataNamespace", OAI_DC_NS)
    return body


def oai_list_sets(request, args):
    if "resumptionToken" in args:
        raise OaiError("badResumptionToken", "This repository never issued that token.")
    raise OaiError("noSetHierarchy", "This repository does not group records in sets.")


def oai_get_record(request, args):
    _check_prefix(args["metadataPrefix"])
    resource = _public_record(request, args["identifier"])
    body = ET.Element("GetRecord")
    _record(body, request, resource)
    return body


def _read_token(token: str, verb: str) -> dict:
    try:
        state = signing.loads(token, salt=TOKEN_SALT,
                              max_age=TOKEN_LIFETIME.total_seconds())
    except signing.BadSignature:  # includes an expired token
        state = None
    if not isinstance(state, dict) or state.get("verb") != verb:
        raise OaiError("badResumptionToken", "The resumption token is not valid or has expired.")
    return state


def _list(request, args, verb: str):
    """ListIdentifiers and ListRecords: a page of public records in datestamp order.

    Pages follow (datestamp, id) rather than an offset, so a record changed during a harvest
    moves to the end of the list and is sent again instead of pushing another one out of it.
    """
    if "resumptionToken" in args:
        state = _read_token(args["resumptionToken"], verb)
    else:
        state = {"verb": verb, "prefix": args["metadataPrefix"], "from": args.get("from"),
                 "until": args.get("until"), "cursor": 0, "after": None}
    _check_prefix(state["prefix"])
    if "set" in args:
        raise OaiError("noSetHierarchy", "This repository does not group records in sets.")
    matching = public_resources().filter(_date_filter(state["from"], state["until"]))
    page = matching.order_by("modified", "pk")
    if state["after"]:
        modified, pk = datetime.fromisoformat(state["after"][0]), state["after"][1]
        page = page.filter(Q(modified__gt=modified) | Q(modified=modified, pk__gt=pk))
    if verb == "ListRecords":
        page = page.select_related("organisation").prefetch_related("themes", "files")
    page = list(page[:PAGE_SIZE + 1])
    if not page:
        raise OaiError("noRecordsMatch", "No public records match these arguments.")
    more, page = len(page) > PAGE_SIZE, page[:PAGE_SIZE]
    body = ET.Element(verb)
    for resource in page:
        if verb == "ListRecords":
            _record(body, request, resource)
        else:
            _header(body, request, resource)
    if more or state["cursor"]:
        _resumption_token(body, state, page, more, total=matching.count())
    return body


def _resumption_token(body, state: dict, page: list, more: bool, total: int) -> None:
    attrib = {"completeListSize": str(total), "cursor": str(state["cursor"])}
    token = _add(body, "resumptionToken", attrib=attrib)
    if more:  # the last page of a list carries an empty token
        last = page[-1]
        following = {**state, "cursor": state["cursor"] + len(page),
                     "after": [last.modified.isoformat(), last.pk]}
        token.text = signing.dumps(following, salt=TOKEN_SALT, compress=True)
        token.set("expirationDate", _stamp(timezone.now() + TOKEN_LIFETIME))


HANDLERS = {
    "Identify": oai_identify,
    "ListMetadataFormats": oai_list_metadata_formats,
    "ListSets": oai_list_sets,
    "GetRecord": oai_get_record,
    "ListIdentifiers": lambda request, args: _list(request, args, "ListIdentifiers"),
    "ListRecords": lambda request, args: _list(request, args, "ListRecords"),
}


def _oai_response(request, echoed: dict, body=None, error: OaiError | None = None):
    root = ET.Element("OAI-PMH", {"xmlns": OAI_NS,
                                  SCHEMA_LOCATION: f"{OAI_NS} {OAI_SCHEMA}"})
    _add(root, "responseDate", _stamp(timezone.now()))
    # After badVerb or badArgument the request is echoed as the base URL alone.
    if error and error.code in ("badVerb", "badArgument"):
        echoed = {}
    _add(root, "request", request.build_absolute_uri(reverse("library:oai")),
         attrib={key: metadata.xml_text(value) for key, value in echoed.items()})
    if error:
        _add(root, "error", error.message, attrib={"code": error.code})
    else:
        root.append(body)
    xml = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return HttpResponse(xml, content_type="text/xml; charset=utf-8")


@csrf_exempt  # harvesters POST without a session; nothing here changes state
@require_http_methods(["GET", "HEAD", "POST"])
def oai(request):
    params = request.POST if request.method == "POST" else request.GET
    try:
        verb, args = _arguments(params)
    except OaiError as error:
        return _oai_response(request, {}, error=error)
    echoed = {"verb": verb, **args}
    try:
        body = HANDLERS[verb](request, args)
    except OaiError as error:
        return _oai_response(request, echoed, error=error)
    return _oai_response(request, echoed, body)
