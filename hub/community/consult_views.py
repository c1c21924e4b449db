"""Pages of consultations and concerns. Each parses, asks the policy (through a selector that
answers 404 for what the person may not see), calls one service and renders or redirects."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from hub import policy
from hub.community import consult
from hub.community import consult_selectors as selectors
from hub.community.consult_forms import (
    ChangeFormSet,
    ConcernForm,
    ConsultationForm,
    OutcomeForm,
    RemoveForm,
    ReplyForm,
    ResponseForm,
)
from hub.community.models import Concern
from hub.core.forms import errors_to_form
from hub.members.models import Organisation

PAGE_SIZE = 20


def _organisation_filter(request):
    slug = request.GET.get("organisation", "")[:80]
    return Organisation.objects.filter(slug=slug).first() if slug else None


# --- Consultations ----------------------------------------------------------------------------

def consultation_list(request):
    user = request.user
    state = request.GET.get("state", "")
    state = state if state in selectors.STATES else ""
    organisation = _organisation_filter(request)
    return render(request, "community/consultations/list.html", {
        "page": selectors.consultation_page(user=user, state=state, organisation=organisation,
                                            number=request.GET.get("page", "1")[:8],
                                            per_page=PAGE_SIZE),
        "state": state, "organisation": organisation,
        "can_open": policy.can_open_consultations(user),
        "managed": selectors.consultations_managed(user=user)[:50],
    })


def consultation_detail(request, slug):
    user = request.user
    consultation = selectors.consultation_get(user=user, slug=slug)
    return render(request, "community/consultations/detail.html", {
        "consultation": consultation,
        "questions": consultation.questions.all(),
        "named": consultation.audience_organisations.order_by("name"),
        "manages": policy.can_manage_consultation(user, consultation),
        "can_respond": policy.can_respond_consultation(user, consultation),
        "my_response": selectors.response_of(user=user, consultation=consultation),
        "sectors": selectors.sector_counts(consultation),
        "answers": selectors.answers_by_question(user=user, consultation=consultation),
        "changes": consultation.changes.all(),
    })


def _consultation_form_page(request, form, consultation, save):
    if request.method == "POST" and form.is_valid():
        try:
            saved, message = save(**form.service_fields())
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, message)
            return redirect(saved)
    return render(request, "community/consultations/form.html", {
        "form": form, "consultation": consultation},
        status=400 if form.errors else 200)


def _saved_message(saved, was_draft: bool) -> str:
    if was_draft and saved.status == "open":
        return "Opened: its audience can now read it and respond."
    return "Draft saved. Only your organisation's editors see it." if (
        saved.status == "draft") else "Saved."


@login_required
def consultation_new(request):
    if not policy.can_open_consultations(request.user):
        raise PermissionDenied
    form = ConsultationForm(request.POST or None, user=request.user)

    def save(**data):
        made = consult.consultation_create(actor=request.user, **data)
        return made, _saved_message(made, True)
    return _consultation_form_page(request, form, None, save)


@login_required
def consultation_edit(request, slug):
    consultation = selectors.consultation_managed_get(user=request.user, slug=slug)
    if consultation.state not in ("draft", "open"):
        # Closed: what was asked is on record; the outcome page is where it goes on.
        messages.info(request, "A closed or withdrawn consultation can no longer change.")
        return redirect(consultation)
    form = ConsultationForm(request.POST or None, user=request.user,
                            instance=selectors.consultation_managed_get(user=request.user,
                                                                        slug=slug))

    def save(**data):
        saved = consult.consultation_update(actor=request.user, consultation=consultation,
                                            **data)
        return saved, _saved_message(saved, consultation.status == "draft")
    return _consultation_form_page(request, form, consultation, save)


@login_required
def consultation_withdraw(request, slug):
    consultation = selectors.consultation_managed_get(user=request.user, slug=slug)
    if request.method == "POST":
        try:
            consult.consultation_withdraw(actor=request.user, consultation=consultation)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Withdrawn. Only your organisation's editors and hub "
                                      "staff can open it now.")
        return redirect(consultation)
    return render(request, "community/consultations/withdraw.html",
                  {"consultation": consultation})


@login_required
def consultation_respond(request, slug):
    user = request.user
    consultation = selectors.consultation_get(user=user, slug=slug)
    questions = list(consultation.questions.all())
    mine = selectors.response_of(user=user, consultation=consultation)
    initial = {}
    if mine is not None:
        initial = {f"q{a.question_id}": a.text for a in mine.answers.all()}
        initial["show_name"] = mine.show_name
    form = ResponseForm(request.POST or None, questions=questions, initial=initial)
    status = 200
    if not policy.can_respond_consultation(user, consultation):
        form.add_error(None, "This consultation is not taking responses: it has closed or is "
                             "not open to you.")
        status = 400 if request.method == "POST" else 200
    elif request.method == "POST":
        if form.is_valid():
            try:
                consult.response_save(actor=user, consultation=consultation,
                                      answers=form.answers(),
                                      show_name=form.cleaned_data["show_name"])
            except ValidationError as error:
                errors_to_form(form, error)
            else:
                messages.success(request, "Your response is saved. You can change it until "
                                          "the consultation closes.")
                return redirect(consultation)
        status = 400
    return render(request, "community/consultations/respond.html", {
        "consultation": consultation, "form": form, "my_response": mine,
        "can_respond": policy.can_respond_consultation(user, consultation)}, status=status)


def _changes_initial(consultation):
    return [{"you_said": c.you_said, "we_did": c.we_did, "why": c.why}
            for c in consultation.changes.all()]


@login_required
def consultation_outcome(request, slug):
    consultation = selectors.consultation_managed_get(user=request.user, slug=slug)
    if consultation.state != "closed":
        messages.info(request, "“You said, we did” is published once the consultation has "
                               "closed.")
        return redirect(consultation)
    form = OutcomeForm(request.POST or None, instance=selectors.consultation_managed_get(
        user=request.user, slug=slug))
    formset = ChangeFormSet(request.POST or None, prefix="changes",
                            initial=_changes_initial(consultation))
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        changes = [consult.ChangeSpec(f.cleaned_data.get("you_said", ""),
                                      f.cleaned_data.get("we_did", ""),
                                      f.cleaned_data.get("why", ""))
                   for f in formset.forms if f.cleaned_data]
        first = consultation.outcome_published_at is None
        try:
            consult.outcome_publish(actor=request.user, consultation=consultation,
                                    summary=form.cleaned_data["outcome_summary"],
                                    changes=changes)
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, "Published. Everyone who responded has been told."
                             if first else "The outcome is updated.")
            return redirect(consultation)
    return render(request, "community/consultations/outcome.html", {
        "consultation": consultation, "form": form, "formset": formset},
        status=400 if request.method == "POST" else 200)


@login_required
def consultation_export(request, slug):
    consultation = selectors.consultation_managed_get(user=request.user, slug=slug)
    body = selectors.answers_csv(user=request.user, consultation=consultation)
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="consultation-{consultation.slug}.csv"')
    return response


# --- Concerns ---------------------------------------------------------------------------------

def concern_list(request):
    user = request.user
    organisation = _organisation_filter(request)
    status = request.GET.get("status", "")
    status = status if status in Concern.Status.values else ""
    return render(request, "community/concerns/list.html", {
        "page": selectors.concern_page(user=user, organisation=organisation, status=status,
                                       number=request.GET.get("page", "1")[:8],
                                       per_page=PAGE_SIZE),
        "organisation": organisation, "status": status,
        "statuses": Concern.Status.choices,
        "organisations": selectors.organisations_for_concerns(),
        "can_raise": policy.can_raise_concern(user),
    })


@login_required
def concern_new(request):
    if not policy.can_raise_concern(request.user):
        raise PermissionDenied
    initial = {}
    if organisation := _organisation_filter(request):
        initial["organisation"] = organisation.pk
    form = ConcernForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            concern = consult.concern_raise(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, "Your concern has been sent to "
                                      f"{concern.organisation.name}. You will get an email "
                                      "when they answer.")
            return redirect(concern)
    return render(request, "community/concerns/form.html", {"form": form},
                  status=400 if form.errors else 200)


def concern_detail(request, pk, reply_form=None, status=200):
    user = request.user
    concern = selectors.concern_get(user=user, pk=pk)
    return render(request, "community/concerns/detail.html", {
        "concern": concern,
        "replies": concern.replies.all(),
        "author_name": selectors.concern_author_name(concern),
        "is_author": user.is_authenticated and concern.author_id == user.pk,
        "answers": policy.can_answer_concern(user, concern),
        "can_reply": policy.can_reply_concern(user, concern),
        "can_close": policy.can_close_concern(user, concern),
        "can_remove": policy.can_remove_concern(user, concern),
        "reply_form": reply_form or ReplyForm(),
        "remove_form": RemoveForm(),
    }, status=status)


@login_required
@require_POST
def concern_reply(request, pk):
    concern = selectors.concern_get(user=request.user, pk=pk)
    form = ReplyForm(request.POST)
    if form.is_valid():
        try:
            consult.concern_reply(actor=request.user, concern=concern,
                                  body_markdown=form.cleaned_data["body_markdown"])
        except PermissionDenied:
            # Not theirs to answer (another organisation's concern, say): say so and keep it.
            form.add_error(None, "Only the addressed organisation's editors and admins, and "
                                 "the person who raised it, can reply to this concern.")
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, "Your reply is posted.")
            return redirect(concern)
    return concern_detail(request, pk, reply_form=form, status=400)


@login_required
@require_POST
def concern_close(request, pk):
    concern = selectors.concern_get(user=request.user, pk=pk)
    try:
        consult.concern_close(actor=request.user, concern=concern)
    except PermissionDenied:
        messages.error(request, "Only the person who raised it and the organisation can close "
                                "this concern.")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Closed.")
    return redirect(concern)


@login_required
def concern_remove(request, pk):
    concern = get_object_or_404(Concern.objects.select_related("organisation"), pk=pk)
    if not policy.can_remove_concern(request.user, concern):
        raise Http404("No such concern.")
    form = RemoveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            consult.concern_remove(actor=request.user, concern=concern,
                                   reason=form.cleaned_data["reason"])
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, "Removed from public view. The author and the "
                                      "organisation still see it, with your reason.")
            return redirect("community:concern_list")
    return render(request, "community/concerns/remove.html",
                  {"concern": concern, "form": form}, status=400 if form.errors else 200)
