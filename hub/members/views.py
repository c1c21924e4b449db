from allauth.account.decorators import reauthentication_required
from allauth.account.views import SignupView
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_POST

from hub import policy
from hub.members import personal_data as personal_data_module
from hub.members import selectors, services
from hub.members.forms import (
    DeclineForm,
    DirectoryForm,
    ErasureForm,
    InvitationForm,
    MembershipRoleForm,
    OrganisationFilterForm,
    OrganisationForm,
    ProfileForm,
    ReapplyForm,
)
from hub.members.models import Application, Membership

INVITATION_SESSION_KEY = "hub_invitation_token"
NEW_LINK_SESSION_KEY = "hub_new_invitation_link"


def _enrol_first(request):
    """People who hold a power but have not enrolled in two-step sign-in are sent to do so."""
    if policy.needs_mfa_enrolment(request.user):
        messages.warning(request, "Your role needs two-step sign-in. Set it up to continue.")
        return redirect("mfa_activate_totp")
    return None


def _apply_form_errors(form, error: ValidationError) -> None:
    for field, problems in error.message_dict.items():
        form.add_error(field if field in form.fields else None, problems)


# --- Applying and invitations ---------------------------------------------------------------

class ApplyView(SignupView):
    """allauth's sign-up page, which is how people apply; it knows about invitations."""

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        token = self.request.session.get(INVITATION_SESSION_KEY)
        if token:
            try:
                kwargs["invitation"] = services.invitation_check(token=token)
            except services.InvitationError as problem:
                self.request.session.pop(INVITATION_SESSION_KEY, None)
                messages.warning(self.request, problem.message + " You can still apply to "
                                 "join below.")
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["invitation"] = context["form"].invitation
        return context

    def form_valid(self, form):
        response = super().form_valid(form)
        token = self.request.session.pop(INVITATION_SESSION_KEY, None)
        # self.user is None when the address already has an account: allauth then answers
        # exactly as for a new one (and mails the owner), so nothing is revealed here either.
        if token and form.invitation is not None and self.user is not None:
            try:
                services.invitation_accept(token=token, user=self.user)
            except services.InvitationError as problem:
                # The link went (used by someone else a moment ago, or withdrawn): the new
                # account becomes an ordinary application rather than being left in limbo.
                services.application_submit(
                    user=self.user, display_name=form.cleaned_data["display_name"],
                    sector=form.cleaned_data["sector"],
                    country=form.cleaned_data.get("country") or "",
                    statement="(Signed up with an invitation to "
                              f"{form.invitation.organisation} that could no longer be used.)")
                messages.error(self.request, problem.message + " Your account has been "
                               "sent to hub staff as an application instead.")
        return response


apply = ApplyView.as_view()


def invitation_open(request, token):
    """Show an invitation; a signed-in person accepts it here, a new person signs up first."""
    try:
        invitation = services.invitation_check(token=token)
    except services.InvitationError as problem:
        return render(request, "members/invitation_problem.html",
                      {"problem": problem}, status=404 if problem.state == "unknown" else 410)
    if request.method == "POST" and request.user.is_authenticated:
        try:
            membership = services.invitation_accept(token=token, user=request.user)
        except services.InvitationError as problem:
            return render(request, "members/invitation_problem.html",
                          {"problem": problem}, status=410)
        messages.success(request, f"You have joined {membership.organisation}.")
        return redirect(membership.organisation)
    if not request.user.is_authenticated:
        request.session[INVITATION_SESSION_KEY] = token
    return render(request, "members/invitation_open.html", {"invitation": invitation})


# --- Profiles -------------------------------------------------------------------------------

@login_required
def me(request):
    profile = getattr(request.user, "profile", None)
    application = Application.objects.filter(user=request.user).first()
    reapply_form = None
    if (application and application.status == Application.Status.DECLINED
            and request.user.standing == request.user.Standing.APPLICANT):
        reapply_form = ReapplyForm(request.POST or None, prefix="reapply")
        if request.method == "POST" and reapply_form.is_valid():
            services.application_resubmit(application=application, actor=request.user,
                                          **reapply_form.cleaned_data)
            messages.success(request, "Your application has been sent again.")
            return redirect("members:me")
    return render(request, "members/me.html", {
        "profile": profile,
        "application": application,
        "reapply_form": reapply_form,
        "memberships": selectors.my_memberships(user=request.user),
    }, status=400 if reapply_form is not None and reapply_form.errors else 200)


# --- A person's data ------------------------------------------------------------------------

@login_required
def personal_data(request, form=None):
    return render(request, "members/personal_data.html", {
        "summary": personal_data_module.summary(),
        "only_admin_of": selectors.organisations_only_admin(user=request.user),
        "form": form or ErasureForm(),
    }, status=400 if form is not None and form.errors else 200)


@login_required
@reauthentication_required(allow_get=True)
def personal_data_export(request):
    if request.method != "POST":
        return redirect("members:personal_data")
    data = services.person_export(user=request.user, actor=request.user)
    response = JsonResponse(data, encoder=DjangoJSONEncoder, json_dumps_params={"indent": 2})
    stamp = timezone.now().strftime("%Y-%m-%d")
    response["Content-Disposition"] = f'attachment; filename="my-hub-data-{stamp}.json"'
    add_never_cache_headers(response)
    return response


@login_required
@reauthentication_required(allow_get=True)
def personal_data_erase(request):
    if request.method != "POST":
        return redirect("members:personal_data")
    form = ErasureForm(request.POST)
    if not form.is_valid():
        return personal_data(request, form=form)
    services.person_erase(user=request.user, actor=request.user)
    logout(request)
    return render(request, "members/personal_data_erased.html")


@login_required
def profile_edit(request):
    profile = getattr(request.user, "profile", None)
    if profile is None:
        raise Http404
    form = ProfileForm(request.POST or None, instance=profile, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        expertise_text = data.pop("expertise_text")
        # The form wrote its values onto the instance while validating; start from the
        # stored row so the service sees what really changed.
        profile.refresh_from_db()
        try:
            services.profile_update(profile=profile, actor=request.user,
                                    expertise_text=expertise_text, **data)
        except ValidationError as error:
            _apply_form_errors(form, error)
        else:
            messages.success(request, "Your profile is saved.")
            return redirect("members:me")
    status = 400 if form.errors else 200
    return render(request, "members/profile_edit.html", {"form": form}, status=status)


def profile_detail(request, pk):
    profile = selectors.profile_get(user=request.user, pk=pk)
    return render(request, "members/profile_detail.html", {
        "profile": profile,
        "memberships": selectors.membership_list_of(user=request.user, member=profile.user),
        "is_me": request.user.is_authenticated and profile.user_id == request.user.pk,
    })


# --- Organisations --------------------------------------------------------------------------

DIRECTORY_PAGE_SIZE = 24


def _filtered(request, form_class):
    """The filter form bound to the query string, and the values that passed its checks (a
    bad value is named on the page and left out, the rest still apply)."""
    form = form_class(request.GET or None)
    if form.is_bound:
        form.is_valid()
    values = {name: value for name, value in getattr(form, "cleaned_data", {}).items()
              if value not in (None, "")}
    params = request.GET.copy()
    params.pop("page", None)
    return form, values, params.urlencode()


def directory(request):
    form, values, params = _filtered(request, DirectoryForm)
    profiles = selectors.directory(user=request.user, **values)
    page = Paginator(profiles, DIRECTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "members/directory.html", {
        "form": form, "page": page, "params": params, "filtered": bool(values),
    }, status=400 if form.errors else 200)


def organisation_list(request):
    form, values, params = _filtered(request, OrganisationFilterForm)
    organisations = selectors.organisation_search(user=request.user, **values)
    page = Paginator(organisations, DIRECTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "members/organisation_list.html", {
        "form": form, "page": page, "params": params, "filtered": bool(values),
    }, status=400 if form.errors else 200)


def organisation_detail(request, slug):
    organisation = selectors.organisation_get(user=request.user, slug=slug)
    return render(request, "members/organisation_detail.html", {
        "organisation": organisation,
        "memberships": selectors.membership_list(user=request.user, organisation=organisation),
        "can_manage": policy.can_manage_organisation(request.user, organisation),
        "my_membership": (Membership.objects.filter(user=request.user, organisation=organisation)
                          .first() if request.user.is_authenticated else None),
    })


@login_required
def organisation_edit(request, slug):
    if response := _enrol_first(request):
        return response
    organisation = selectors.organisation_managed_get(user=request.user, slug=slug)
    form = OrganisationForm(request.POST or None, instance=organisation)
    if request.method == "POST" and form.is_valid():
        organisation.refresh_from_db()
        try:
            services.organisation_update(organisation=organisation, actor=request.user,
                                         **form.cleaned_data)
        except ValidationError as error:
            _apply_form_errors(form, error)
        else:
            messages.success(request, "The organisation's details are saved.")
            return redirect(organisation)
    status = 400 if form.errors else 200
    return render(request, "members/organisation_edit.html",
                  {"form": form, "organisation": organisation}, status=status)


@login_required
def organisation_manage(request, slug):
    """The membership page of an organisation: roles, invitations and what changed."""
    if response := _enrol_first(request):
        return response
    organisation = selectors.organisation_managed_get(user=request.user, slug=slug)
    invitation_form = InvitationForm(request.POST or None, prefix="invite")
    if request.method == "POST" and invitation_form.is_valid():
        _, token = services.invitation_create(
            organisation=organisation, invited_by=request.user, **invitation_form.cleaned_data)
        # Shown once, on the page this redirects to; a reload does not make another link.
        request.session[NEW_LINK_SESSION_KEY] = services.invitation_url(token)
        return redirect(reverse("members:organisation_manage", args=[slug]) + "#invite")
    memberships = selectors.membership_list(user=request.user, organisation=organisation)
    return render(request, "members/organisation_manage.html", {
        "organisation": organisation,
        "memberships": memberships,
        "changeable": {m.pk for m in memberships
                       if policy.can_change_membership(request.user, m)},
        "roles": Membership.Role.choices,
        "invitation_form": invitation_form,
        "new_link": request.session.pop(NEW_LINK_SESSION_KEY, None),
        "invitations": selectors.invitation_list(user=request.user,
                                                 organisation=organisation)[:30],
        "events": selectors.audit_list(user=request.user, organisation=organisation),
        "applications": selectors.application_queue(user=request.user).filter(
            organisation=organisation),
    }, status=400 if invitation_form.errors else 200)


def _managed_membership(request, slug, pk):
    organisation = selectors.organisation_managed_get(user=request.user, slug=slug)
    return organisation, selectors.membership_get(user=request.user, organisation=organisation,
                                                  pk=pk)


@login_required
@require_POST
def membership_role(request, slug, pk):
    if response := _enrol_first(request):
        return response
    _, membership = _managed_membership(request, slug, pk)
    form = MembershipRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the roles listed.")
    elif not policy.can_change_membership(request.user, membership):
        messages.error(request, "You cannot change your own role. Ask another administrator.")
    else:
        services.membership_set_role(membership=membership, actor=request.user,
                                     role=form.cleaned_data["role"])
        messages.success(request, f"{membership.user} is now {membership.get_role_display()}.")
    return redirect("members:organisation_manage", slug=slug)


@login_required
@require_POST
def membership_remove(request, slug, pk):
    if response := _enrol_first(request):
        return response
    organisation, membership = _managed_membership(request, slug, pk)
    if not policy.can_change_membership(request.user, membership):
        messages.error(request, "You cannot remove yourself here. Use 'Leave' on the "
                                "organisation's page instead.")
    else:
        services.membership_remove(membership=membership, actor=request.user)
        messages.success(request, f"{membership.user} no longer belongs to {organisation}.")
    return redirect("members:organisation_manage", slug=slug)


@login_required
@require_POST
def membership_leave(request, slug):
    organisation = selectors.organisation_get(user=request.user, slug=slug)
    membership = Membership.objects.filter(user=request.user, organisation=organisation).first()
    if membership is None:
        raise Http404
    try:
        services.membership_leave(membership=membership, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(organisation)
    messages.success(request, f"You have left {organisation}.")
    return redirect("members:me")


@login_required
@require_POST
def invitation_revoke(request, slug, pk):
    if response := _enrol_first(request):
        return response
    organisation = selectors.organisation_managed_get(user=request.user, slug=slug)
    invitation = selectors.invitation_list(user=request.user,
                                           organisation=organisation).filter(pk=pk).first()
    if invitation is None:
        raise Http404
    services.invitation_revoke(invitation=invitation, actor=request.user)
    messages.success(request, "The invitation link no longer works.")
    return redirect("members:organisation_manage", slug=slug)


# --- Deciding applications ------------------------------------------------------------------

@login_required
def application_queue(request):
    if response := _enrol_first(request):
        return response
    if not policy.can_decide_any_application(request.user):
        raise Http404
    queue = selectors.application_queue(user=request.user)
    return render(request, "members/application_queue.html", {
        "applications": queue,
        "decided": selectors.application_recent_decisions(user=request.user),
        "decline_form": DeclineForm(),
    })


@login_required
@require_POST
def application_decide(request, pk):
    if response := _enrol_first(request):
        return response
    application = selectors.application_get(user=request.user, pk=pk)
    if not policy.can_decide_application(request.user, application):
        raise Http404
    if application.status != Application.Status.PENDING:
        messages.info(request, "That application was already decided.")
        return redirect("members:application_queue")
    if request.POST.get("decision") == "approve":
        services.application_approve(application=application, decided_by=request.user)
        messages.success(request, f"{application.user} is now a member.")
        return redirect("members:application_queue")
    form = DeclineForm(request.POST)
    if form.is_valid():
        services.application_decline(application=application, decided_by=request.user,
                                     reason=form.cleaned_data["reason"])
        messages.success(request, f"The application from {application.user} was declined.")
        return redirect("members:application_queue")
    return render(request, "members/application_decline.html",
                  {"application": application, "form": form}, status=400)


def application_decline_form(request, pk):
    """A page of its own for declining, so the reason can be written without JavaScript."""
    if not request.user.is_authenticated:
        return redirect(f"{reverse('account_login')}?next={request.path}")
    if response := _enrol_first(request):
        return response
    application = selectors.application_get(user=request.user, pk=pk)
    if not policy.can_decide_application(request.user, application):
        raise Http404
    return render(request, "members/application_decline.html",
                  {"application": application, "form": DeclineForm()})
