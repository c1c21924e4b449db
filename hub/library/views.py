from datetime import datetime, time
from functools import cache

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header, urlencode
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from hub import policy
from hub.core.forms import errors_to_form
from hub.library import caching, search, selectors, services
from hub.library.forms import (
    AccessRequestForm,
    AccessRuleForm,
    DecisionForm,
    FileForm,
    GrantForm,
    ResourceForm,
    SearchForm,
    SendBackForm,
    limits_text,
)
from hub.library.models import AccessRequest, AccessRule, Grant, Resource, ResourceFile, Tier
from hub.members.models import Organisation


def _enrol_first(request):
    if policy.needs_mfa_enrolment(request.user):
        messages.warning(request, "Your role needs two-step sign-in. Set it up to continue.")
        return redirect("mfa_activate_totp")
    return None


def _resource_or_404(request, pk) -> Resource:
    resource = selectors.resource_for(request.user, pk)
    if resource is None:
        raise Http404("No such resource.")
    return resource


# --- Finding --------------------------------------------------------------------------------

def query_from_request(request) -> tuple[SearchForm, search.Query]:
    """The search a person asked for in the address, with a message for any bad filter."""
    form = SearchForm(request.GET or None)
    if not form.is_bound:
        return form, search.Query()
    if not form.is_valid():
        messages.error(request, "Some of the filters could not be used: "
                       + " ".join(e for errors in form.errors.values() for e in errors))
    data = form.cleaned_data
    return form, search.Query(
        text=data.get("q") or "", types=data.get("type") or [],
        themes=data.get("theme") or [], audiences=data.get("audience") or [],
        countries=data.get("country") or [], languages=data.get("language") or [],
        organisations=data.get("organisation") or [], year_from=data.get("year_from"),
        year_to=data.get("year_to"), sort=data.get("sort") or "", page=data.get("page") or 1)


def _understood(request) -> search.Query:
    """``query_from_request`` without building the form each time: what an address means
    depends only on the address and on the library's themes, audiences and organisations
    (the filters' choices), each of which makes a new library version when it changes, so
    the meaning is kept per process under the address and that version."""
    key = caching.query_key(request.GET.urlencode())
    known = caching.get(key)
    if known is None:
        form, query = query_from_request(request)
        errors = [e for field in form.errors.values() for e in field] if form.is_bound else []
        caching.put(key, (vars(query).copy(), errors))
        return query
    fields, errors = known
    if errors:
        messages.error(request, "Some of the filters could not be used: " + " ".join(errors))
    return search.Query(**{name: list(value) if isinstance(value, list) else value
                           for name, value in fields.items()})


def _params(query: search.Query) -> str:
    """The search as the address gives it, without the page: for links to other pages of the
    same results and to exports. Built from the query as understood, so shared copies of the
    results carry nothing of anyone's own address."""
    pairs = [("q", query.text)] if query.text else []
    for name, values in (("type", query.types), ("theme", query.themes),
                         ("audience", query.audiences), ("country", query.countries),
                         ("language", query.languages), ("organisation", query.organisations)):
        pairs += [(name, value) for value in values]
    for name in ("year_from", "year_to"):
        if getattr(query, name) is not None:
            pairs.append((name, getattr(query, name)))
    if query.sort:
        pairs.append(("sort", query.sort))
    return urlencode(pairs)


def _results_html(user, query: search.Query) -> str:
    """The results part of the search page (filters with their counts, hits, pages)."""
    results = search.search(user, query)
    chosen = {"type": query.types, "theme": query.themes, "audience": query.audiences,
              "country": query.countries, "language": query.languages,
              "organisation": query.organisations}
    facets = []
    for name, facet in results.facets.items():
        if name == "year" or not facet.values:
            continue
        values = facet.values[:12] + [v for v in facet.values[12:] if v[0] in chosen[name]]
        facets.append((facet, [(*value, value[0] in chosen[name]) for value in values]))
    return render_to_string("library/_results.html", {
        "results": results, "query": query, "params": _params(query), "facets": facets,
        "first_number": (results.page - 1) * query.per_page + 1,
        "sorts": list(search.SORTS.items()),
    })


# The search page's own links, worked out once per process: they never change while it runs.
HOME_URLS = ("feed", "home", "contribute", "mine", "my_requests", "curation", "inbox",
             "access_log")


@cache
def _home_urls() -> dict[str, str]:
    return {name: reverse(f"library:{name}") for name in HOME_URLS}


def home(request):
    """Search and browse. People with the same access (``policy.library_audience``) share
    one rendered copy of each page of results until the library changes."""
    query = _understood(request)
    person = caching.person(request.user, _person)
    key = caching.key(person["audience"], query)
    results_html = caching.results_get(key)
    if results_html is None:
        results_html = _results_html(request.user, query)
        caching.results_put(key, results_html, caching.lifetime(person["until"]))
    return render(request, "library/home.html", {
        "query": query, "urls": _home_urls(), "results_html": mark_safe(results_html),  # noqa: S308  # nosec B308 B703  # rendered by our own template
        **{name: person[name] for name in ("can_contribute", "can_curate", "has_inbox")},
    })


def _person(user) -> dict:
    audience, until = policy.library_audience(user)
    return {"audience": audience, "until": until,
            "can_contribute": policy.can_contribute(user),
            "can_curate": policy.can_curate_any(user),
            "has_inbox": bool(policy.approver_org_ids(user))}


def detail(request, pk):
    resource = _resource_or_404(request, pk)
    user = request.user
    files_open = policy.can_read_files(user, resource)
    pending = None
    if user.is_authenticated and not files_open:  # shown only beside closed files
        pending = AccessRequest.objects.filter(
            resource=resource, requester=user, status=AccessRequest.Status.PENDING).first()
    return render(request, "library/detail.html", {
        "resource": resource,
        "files": list(resource.files.all()),
        "files_open": files_open,
        "can_edit": policy.can_edit_resource(user, resource),
        "can_curate": policy.can_curate_resource(user, resource),
        "can_request": policy.can_request_access(user, resource) and pending is None,
        "pending_request": pending,
        "can_manage_access": policy.can_manage_access(user, resource),
        "send_back_form": SendBackForm(),
        "is_public": resource.is_published and resource.metadata_tier == Tier.PUBLIC,
    })


def download(request, pk, file_pk):
    resource = _resource_or_404(request, pk)
    item = resource.files.filter(pk=file_pk).first()
    if item is None or not policy.can_read_files(request.user, resource):
        raise Http404("No such file.")
    services.file_downloaded(item=item, actor=request.user)
    inline = item.kind == "pdf" and request.GET.get("view") == "1"
    response = FileResponse(item.file.open("rb"), content_type=item.mime)
    response["Content-Disposition"] = content_disposition_header(
        not inline, item.original_name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    public = (resource.is_published and resource.file_tier == Tier.PUBLIC
              and resource.metadata_tier == Tier.PUBLIC)
    response["Cache-Control"] = "public, max-age=300" if public else "private, no-store"
    return response


# --- Contributing ---------------------------------------------------------------------------

def _store_uploads(request, resource, uploads) -> list[str]:
    """Store each upload; return the problems with those that were refused."""
    problems = []
    for upload in uploads:
        try:
            services.file_add(resource=resource, actor=request.user, upload=upload)
        except ValidationError as error:
            problems.extend(error.messages)
    return problems


@login_required
def contribute(request):
    if not policy.can_contribute(request.user):
        messages.error(request, "Join an organisation in the hub to contribute resources.")
        return redirect("library:home")
    organisations = Organisation.objects.filter(pk__in=policy.contributing_org_ids(request.user))
    form = ResourceForm(request.POST or None, request.FILES or None,
                        organisations=organisations)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        uploads = data.pop("files")
        try:
            resource = services.resource_create(actor=request.user, **data)
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            for problem in _store_uploads(request, resource, uploads):
                messages.error(request, problem)
            messages.success(request, "Saved as a draft. Check the files below, then send it "
                                      "for curation.")
            return redirect("library:edit", resource.pk)
    return render(request, "library/contribute.html", {"form": form, "limits": limits_text()})


@login_required
def edit(request, pk):
    resource = _resource_or_404(request, pk)
    if not policy.can_edit_resource(request.user, resource):
        raise Http404("No such resource.")
    form = ResourceForm(request.POST or None, request.FILES or None, instance=resource,
                        organisations=Organisation.objects.none(),
                        tiers_editable=services.can_set_tiers(request.user, resource))
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        uploads = data.pop("files")
        try:
            services.resource_update(resource=resource, actor=request.user, **data)
        except ValidationError as error:
            errors_to_form(form, error)
            resource.refresh_from_db()
        else:
            for problem in _store_uploads(request, resource, uploads):
                messages.error(request, problem)
            messages.success(request, "Changes saved.")
            return redirect("library:edit", resource.pk)
    elif request.method == "POST":
        resource.refresh_from_db()
    files_open = policy.can_read_files(request.user, resource)
    return render(request, "library/edit.html", {
        "form": form, "resource": resource, "files": resource.files.all(),
        "files_open": files_open,
        "file_form": FileForm(resource=resource), "limits": limits_text(),
        "can_curate": policy.can_curate_resource(request.user, resource),
    })


def _edits_files(user, resource) -> bool:
    # Handling files means seeing them: staff who curate a restricted resource edit its
    # description but not its files.
    return (policy.can_edit_resource(user, resource)
            and policy.can_read_files(user, resource))


@login_required
def file_add(request, pk):
    resource = _resource_or_404(request, pk)
    if not _edits_files(request.user, resource):
        raise Http404("No such resource.")
    form = FileForm(request.POST or None, request.FILES or None, resource=resource)
    if request.method == "POST" and form.is_valid():
        try:
            services.file_add(resource=resource, actor=request.user,
                              upload=form.cleaned_data["file"],
                              transcript_for=form.cleaned_data.get("transcript_for"))
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, "File added. Its text is being read.")
            return redirect("library:edit", resource.pk)
    return render(request, "library/file_add.html", {"form": form, "resource": resource})


@login_required
@require_POST
def file_action(request, pk, file_pk):
    resource = _resource_or_404(request, pk)
    item = get_object_or_404(ResourceFile, pk=file_pk, resource=resource)
    if not _edits_files(request.user, resource):
        raise Http404("No such resource.")
    if request.POST.get("action") == "remove":
        services.file_remove(item=item, actor=request.user)
        messages.success(request, f"Removed “{item.original_name}”.")
    elif request.POST.get("action") == "retry":
        services.file_retry_extraction(item=item, actor=request.user)
        messages.success(request, f"We will read “{item.original_name}” again.")
    return redirect("library:edit", resource.pk)


@login_required
def file_status(request, pk):
    """The extraction status of each file, for the edit page to refresh while it waits."""
    resource = _resource_or_404(request, pk)
    if not _edits_files(request.user, resource):
        raise Http404("No such resource.")
    return render(request, "library/_file_status.html",
                  {"resource": resource, "files": resource.files.all(), "files_open": True})


@login_required
@require_POST
def submit(request, pk):
    resource = _resource_or_404(request, pk)
    try:
        services.resource_submit(resource=resource, actor=request.user)
    except PermissionDenied as denied:
        raise Http404("No such resource.") from denied
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("library:edit", resource.pk)
    messages.success(request, "Sent for curation. You will hear when it is published or if "
                              "anything needs to change.")
    return redirect("library:detail", resource.pk)


@login_required
def mine(request):
    return render(request, "library/mine.html",
                  {"resources": selectors.my_contributions(request.user)})


# --- Curating -------------------------------------------------------------------------------

@login_required
def curation(request):
    if not policy.can_curate_any(request.user):
        raise Http404("No curation queue.")
    return render(request, "library/curation.html", {
        "resources": selectors.curation_queue(request.user), "send_back_form": SendBackForm()})


@login_required
@require_POST
def curate(request, pk):
    resource = _resource_or_404(request, pk)
    if not policy.can_curate_resource(request.user, resource):
        raise Http404("No such resource.")
    action = request.POST.get("action")
    try:
        if action == "publish":
            services.resource_publish(resource=resource, actor=request.user)
            messages.success(request, f"Published “{resource.title}”.")
        elif action == "send_back":
            form = SendBackForm(request.POST)
            if not form.is_valid():
                messages.error(request, "Say what needs to change before sending it back.")
                return redirect("library:detail", resource.pk)
            services.resource_send_back(resource=resource, actor=request.user,
                                        reason=form.cleaned_data["reason"])
            messages.success(request, f"Sent “{resource.title}” back to its contributor.")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(request.POST.get("next") == "queue" and "library:curation"
                    or reverse("library:detail", args=[resource.pk]))


# --- Access ---------------------------------------------------------------------------------

@login_required
def request_access(request, pk):
    resource = _resource_or_404(request, pk)
    if not policy.can_request_access(request.user, resource):
        messages.info(request, "You cannot ask for this resource: you may already have access "
                               "or a request waiting.")
        return redirect("library:detail", resource.pk)
    form = AccessRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.request_create(resource=resource, actor=request.user,
                                    reason=form.cleaned_data["reason"])
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, "Your request is sent. You will get an email when it is "
                                      "decided.")
            return redirect("library:my_requests")
    return render(request, "library/request.html", {
        "form": form, "resource": resource,
        "deciders": Organisation.objects.filter(pk__in=policy.deciding_org_ids(resource)),
    })


@login_required
def my_requests(request):
    return render(request, "library/my_requests.html",
                  {"requests": selectors.my_requests(request.user)})


@login_required
@require_POST
def request_withdraw(request, request_pk):
    access_request = AccessRequest.objects.filter(pk=request_pk, requester=request.user).first()
    if access_request is None:
        raise Http404("No such request.")
    try:
        services.request_withdraw(access_request=access_request, actor=request.user)
        messages.success(request, "Request withdrawn.")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("library:my_requests")


@login_required
def inbox(request):
    if redirect_to := _enrol_first(request):
        return redirect_to
    if not policy.approver_org_ids(request.user):
        raise Http404("No inbox.")
    waiting, others = selectors.inbox(request.user)
    return render(request, "library/inbox.html", {
        "waiting": waiting, "others": others, "form": DecisionForm()})


@login_required
def decide(request, request_pk):
    if redirect_to := _enrol_first(request):
        return redirect_to
    access_request = (policy.visible_requests(request.user, AccessRequest.objects.all())
                      .select_related("resource__organisation", "requester__profile")
                      .filter(pk=request_pk).first())
    if access_request is None or not policy.can_decide_request(request.user, access_request):
        raise Http404("No such request.")
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.request_decide(access_request=access_request, actor=request.user,
                                    outcome=form.cleaned_data["outcome"],
                                    reason=form.cleaned_data["reason"])
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, "Your organisation's decision is recorded.")
            return redirect("library:inbox")
    return render(request, "library/decide.html", {
        "form": form, "access_request": access_request,
        "decisions": access_request.decisions.select_related("organisation"),
    })


@login_required
def access(request, pk):
    """The contributing organisation's approvers set the rule, grant and revoke."""
    if redirect_to := _enrol_first(request):
        return redirect_to
    resource = _resource_or_404(request, pk)
    if not policy.can_manage_access(request.user, resource):
        raise Http404("No such resource.")
    AccessRule.objects.get_or_create(resource=resource)
    resource.refresh_from_db()
    rule_form = AccessRuleForm(instance=resource.access_rule, prefix="rule")
    grant_form = GrantForm(prefix="grant")
    if request.method == "POST":
        if "rule-mode" in request.POST:
            rule_form = AccessRuleForm(request.POST, instance=resource.access_rule,
                                       prefix="rule")
            if rule_form.is_valid():
                data = rule_form.cleaned_data
                try:
                    with transaction.atomic():
                        services.access_rule_set(
                            resource=resource, actor=request.user, mode=data["mode"],
                            consulted=data["consulted"],
                            approvals_needed=data["approvals_needed"] or 1,
                            grant_days=data["grant_days"])
                except ValidationError as error:
                    resource.access_rule.refresh_from_db()
                    errors_to_form(rule_form, error)
                else:
                    messages.success(request, "Access rule saved.")
                    return redirect("library:access", resource.pk)
        elif "grant-expires" in request.POST:
            grant_form = GrantForm(request.POST, prefix="grant")
            if grant_form.is_valid():
                data = grant_form.cleaned_data
                expires = data.get("expires")
                expires_at = (timezone.make_aware(datetime.combine(expires, time.max))
                              if expires else None)
                try:
                    services.grant_create(resource=resource, actor=request.user,
                                          organisation=data.get("organisation"),
                                          user=data.get("user"), expires_at=expires_at)
                except ValidationError as error:
                    errors_to_form(grant_form, error)
                else:
                    messages.success(request, "Access granted.")
                    return redirect("library:access", resource.pk)
    return render(request, "library/access.html", {
        "resource": resource, "rule_form": rule_form, "grant_form": grant_form,
        "grants": selectors.grants_for(resource),
        "log": selectors.access_log(request.user, resource=resource)[:50],
    })


@login_required
@require_POST
def grant_revoke(request, pk, grant_pk):
    resource = _resource_or_404(request, pk)
    grant = Grant.objects.filter(pk=grant_pk, resource=resource).first()
    if grant is None or not policy.can_manage_access(request.user, resource):
        raise Http404("No such grant.")
    services.grant_revoke(grant=grant, actor=request.user)
    messages.success(request, "Access revoked.")
    return redirect("library:access", resource.pk)


@login_required
def access_log(request):
    if redirect_to := _enrol_first(request):
        return redirect_to
    organisations = Organisation.objects.filter(pk__in=policy.approver_org_ids(request.user))
    if policy.acts_as_staff(request.user):
        organisations = Organisation.objects.all()
    if not organisations.exists():
        raise Http404("No access log.")
    chosen = organisations.filter(slug=request.GET.get("organisation")).first()
    events = selectors.access_log(request.user, organisation=chosen)[:300]
    return render(request, "library/access_log.html", {
        "events": events, "organisations": organisations, "chosen": chosen})
