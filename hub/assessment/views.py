from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from hub import policy
from hub.assessment import selectors, services
from hub.assessment.forms import (
    ContextEventForm,
    FacilitatorForm,
    InitiativeForm,
    InviteForm,
    LinksForm,
    PerspectiveForm,
    ProgrammeForm,
    PublishInstrumentForm,
    RoundForm,
)
from hub.assessment.models import (
    ContextEvent,
    Initiative,
    Instrument,
    Programme,
    Response,
    Round,
)
from hub.core.forms import errors_to_form

NOT_A_VERDICT = ("The position is a guide for discussion, not a verdict: it shows where the "
                 "people asked place the initiative, and how far they agree.")


def _initiative_or_404(request, pk) -> Initiative:
    initiative = get_object_or_404(Initiative.objects.select_related("lead_organisation"), pk=pk)
    if not policy.can_view_initiative(request.user, initiative):
        raise Http404("No such initiative.")
    return initiative


def _managed_initiative_or_404(request, pk) -> Initiative:
    initiative = _initiative_or_404(request, pk)
    if not policy.can_manage_initiative(request.user, initiative):
        raise Http404("No such initiative.")
    return initiative


def _managed_round_or_404(request, pk) -> Round:
    round_ = get_object_or_404(Round.objects.select_related("initiative", "instrument"), pk=pk)
    if not policy.can_manage_initiative(request.user, round_.initiative):
        raise Http404("No such round.")
    return round_


def _programme_or_404(request, pk) -> Programme:
    programme = get_object_or_404(Programme.objects.select_related("organisation"), pk=pk)
    if not policy.can_view_programme(request.user, programme):
        raise Http404("No such programme.")
    return programme


# --- Initiatives ----------------------------------------------------------------------------

def home(request):
    user = request.user
    invitations = []
    if policy.is_member(user):
        now = timezone.now()
        rounds = (Round.objects.filter(invitations__user=user, opens_at__lte=now,
                                       closes_at__gt=now, closed_early_at__isnull=True)
                  .select_related("initiative"))
        submitted = set(Response.objects.filter(user=user, submitted_at__isnull=False)
                        .values_list("round_id", flat=True))
        invitations = [(round_, round_.pk in submitted) for round_ in rounds]
    programmes = policy.visible_programmes(user, Programme.objects.all()).order_by("name")
    return render(request, "assessment/home.html", {
        "initiatives": selectors.initiatives_for_home(user),
        "programmes": programmes,
        "invitations": invitations,
        "can_create": policy.can_create_initiative(user),
        "instrument": services.current_instrument(),
    })


@login_required
def initiative_new(request):
    if not policy.can_create_initiative(request.user):
        raise PermissionDenied
    form = InitiativeForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        partners = data.pop("partner_organisations")
        try:
            initiative = services.create_initiative(request.user, partner_organisations=partners,
                                                    **data)
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, "Initiative created. You are its facilitator: open a "
                                      "round when you are ready to ask people.")
            return redirect("assessment:initiative", initiative.pk)
    return render(request, "assessment/initiative_form.html", {"form": form, "initiative": None})


@login_required
def initiative_edit(request, pk):
    initiative = _managed_initiative_or_404(request, pk)
    form = InitiativeForm(request.POST or None, instance=initiative, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        partners = data.pop("partner_organisations")
        try:
            services.update_initiative(request.user, Initiative.objects.get(pk=pk),
                                       partner_organisations=partners, **data)
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, "Saved.")
            return redirect("assessment:initiative", pk)
    return render(request, "assessment/initiative_form.html",
                  {"form": form, "initiative": initiative})


def initiative_detail(request, pk):
    initiative = _initiative_or_404(request, pk)
    manages = policy.can_manage_initiative(request.user, initiative)
    rounds = initiative.rounds.select_related("instrument").order_by("-opens_at")
    if not manages:
        rounds = rounds.filter(policy.results_visible_q(request.user))
    return render(request, "assessment/initiative_detail.html", {
        "initiative": initiative,
        "manages": manages,
        "rounds": rounds,
        "events": initiative.context_events.all(),
        "facilitators": initiative.facilitators.select_related("profile") if manages else [],
        "event_form": ContextEventForm(prefix="event") if manages else None,
        "facilitator_form": FacilitatorForm() if manages else None,
    })


@login_required
@require_POST
def facilitator_add(request, pk):
    initiative = _managed_initiative_or_404(request, pk)
    form = FacilitatorForm(request.POST)
    if form.is_valid():
        try:
            person = services.add_facilitator(request.user, initiative,
                                              form.cleaned_data["email"])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"{person.profile.display_name} is now a facilitator.")
    else:
        messages.error(request, "Enter the email address of a member.")
    return redirect(reverse("assessment:initiative", args=[pk]) + "#facilitators")


@login_required
@require_POST
def facilitator_remove(request, pk, user_pk):
    initiative = _managed_initiative_or_404(request, pk)
    person = get_object_or_404(initiative.facilitators, pk=user_pk)
    try:
        services.remove_facilitator(request.user, initiative, person)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(reverse("assessment:initiative", args=[pk]) + "#facilitators")


@login_required
@require_POST
def context_add(request, pk):
    initiative = _managed_initiative_or_404(request, pk)
    form = ContextEventForm(request.POST, prefix="event")
    if form.is_valid():
        services.add_context_event(request.user, initiative, **form.cleaned_data)
        messages.success(request, "Added to the context timeline.")
        return redirect(reverse("assessment:initiative", args=[pk]) + "#context")
    return render(request, "assessment/initiative_detail.html", {
        "initiative": initiative, "manages": True,
        "rounds": initiative.rounds.order_by("-opens_at"),
        "events": initiative.context_events.all(),
        "facilitators": initiative.facilitators.select_related("profile"),
        "event_form": form, "facilitator_form": FacilitatorForm(),
    }, status=400)


@login_required
@require_POST
def context_delete(request, pk, event_pk):
    initiative = _managed_initiative_or_404(request, pk)
    event = get_object_or_404(ContextEvent, pk=event_pk, initiative=initiative)
    services.delete_context_event(request.user, event)
    messages.success(request, "Removed from the context timeline.")
    return redirect(reverse("assessment:initiative", args=[pk]) + "#context")


# --- Rounds ---------------------------------------------------------------------------------

@login_required
def round_new(request, pk):
    initiative = _managed_initiative_or_404(request, pk)
    form = RoundForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            round_ = services.open_round(request.user, initiative, **form.cleaned_data)
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, "Round set up. Now invite members or make private links.")
            return redirect("assessment:round", round_.pk)
    return render(request, "assessment/round_new.html", {
        "form": form, "initiative": initiative, "instrument": services.current_instrument()})


def _round_page(request, round_, *, status=200, **extra):
    return render(request, "assessment/round_manage.html", {
        "round": round_, "initiative": round_.initiative,
        "progress": selectors.progress(round_),
        "invite_form": InviteForm(), "links_form": LinksForm(),
        **extra,
    }, status=status)


@login_required
def round_manage(request, pk):
    return _round_page(request, _managed_round_or_404(request, pk))


@login_required
@require_POST
def round_invite(request, pk):
    round_ = _managed_round_or_404(request, pk)
    form = InviteForm(request.POST)
    if not form.is_valid():
        return _round_page(request, round_, invite_form=form, status=400)
    try:
        result = services.invite_members(request.user, round_, form.cleaned_data["addresses"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("assessment:round", pk)
    if result.invited:
        messages.success(request, f"Invited {len(result.invited)} and emailed them the "
                                  "address to answer.")
    if result.already:
        messages.info(request, f"{len(result.already)} had already been invited.")
    if result.unknown:
        messages.warning(request, "These addresses are not members of the hub: "
                         + ", ".join(result.unknown)
                         + ". Make private links for people without an account.")
    return redirect("assessment:round", pk)


@login_required
@require_POST
def round_links(request, pk):
    round_ = _managed_round_or_404(request, pk)
    form = LinksForm(request.POST)
    if not form.is_valid():
        return _round_page(request, round_, links_form=form, status=400)
    try:
        tokens = services.create_links(request.user, round_, form.cleaned_data["count"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("assessment:round", pk)
    links = [request.build_absolute_uri(reverse("assessment:link", args=[token]))
             for token in tokens]
    response = _round_page(request, round_, new_links=links)
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def round_links_withdraw(request, pk):
    round_ = _managed_round_or_404(request, pk)
    count = services.withdraw_unused_links(request.user, round_)
    messages.success(request, f"Withdrew {count} unused link{'s' if count != 1 else ''}.")
    return redirect("assessment:round", pk)


@login_required
@require_POST
def round_remind(request, pk):
    round_ = _managed_round_or_404(request, pk)
    try:
        count = services.send_reminders(request.user, round_)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Reminded {count} invited member{'s' if count != 1 else ''} "
                                  "who had not sent their answers.")
    return redirect("assessment:round", pk)


@login_required
@require_POST
def round_close(request, pk):
    round_ = _managed_round_or_404(request, pk)
    services.close_round(request.user, round_)
    messages.success(request, "The round is closed. Its results are now shown to the "
                              "initiative's audience.")
    return redirect("assessment:round", pk)


# --- Answering ------------------------------------------------------------------------------

@login_required
def respond(request, pk):
    """A member's way in: declare a perspective once, then answer."""
    round_ = get_object_or_404(Round.objects.select_related("initiative", "instrument"), pk=pk)
    response = Response.objects.filter(round=round_, user=request.user).first() \
        if policy.is_member(request.user) else None
    if not policy.can_respond(request.user, round_):
        # Only someone who was asked learns that the round exists.
        invited = policy.is_member(request.user) and (
            response is not None or round_.invitations.filter(user=request.user).exists())
        if not invited:
            raise Http404("No such round.")
        return render(request, "assessment/respond_closed.html", {"round": round_}, status=403)
    form = PerspectiveForm(request.POST or None,
                           initial={"perspective": response.perspective} if response else None)
    if request.method == "POST" and form.is_valid():
        services.start_member_response(request.user, round_, form.cleaned_data["perspective"])
        return redirect("assessment:answer", pk, 1)
    if response and request.method == "GET" and "perspective" not in request.GET:
        return redirect("assessment:answer", pk, 1)
    return render(request, "assessment/respond_start.html", {
        "round": round_, "form": form, "instrument": round_.instrument.data})


def link_open(request, token):
    """Someone without an account opens a private link. Looking at it does not spend it;
    choosing a perspective does."""
    link = services.link_for(token)
    if link is None or link.revoked_at:
        raise Http404("This link does not work.")
    round_ = link.round
    session_key = request.session.get(f"assessment-link-{link.pk}")
    if link.used:
        if session_key:
            return redirect("assessment:answer_key", session_key, 1)
        return render(request, "assessment/link_used.html", {"round": round_}, status=410)
    if not round_.is_open():
        return render(request, "assessment/respond_closed.html", {"round": round_}, status=410)
    form = PerspectiveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            response, key = services.start_link_response(token, form.cleaned_data["perspective"])
        except PermissionDenied:
            return render(request, "assessment/link_used.html", {"round": round_}, status=410)
        except ValidationError:
            return render(request, "assessment/respond_closed.html", {"round": round_},
                          status=410)
        request.session[f"assessment-link-{link.pk}"] = key
        messages.info(request, "Keep the address of this page to come back to your answers "
                               "later, from this or another device.")
        return redirect("assessment:answer_key", key, 1)
    response = render(request, "assessment/respond_start.html", {
        "round": round_, "form": form, "instrument": round_.instrument.data,
        "through_link": True})
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "same-origin"
    return response


class Respondent:
    """Who is answering and where their pages are: a member by round, or a holder of a resume
    key."""

    def __init__(self, request, *, pk=None, key=None):
        self.key = key
        if key is not None:
            response = services.response_for_key(key)
            if response is None:
                raise Http404("No such response.")
            self.actor = None
        else:
            if not policy.is_member(request.user):
                raise Http404("No such response.")
            response = (Response.objects.select_related("round__instrument", "round__initiative")
                        .filter(round_id=pk, user=request.user).first())
            if response is None:
                raise Http404("No such response.")
            self.actor = request.user
        self.response = response
        self.round = response.round

    def url(self, step) -> str:
        if self.key is not None:
            return reverse("assessment:answer_key", args=[self.key, step])
        return reverse("assessment:answer", args=[self.round.pk, step])

    def can_change(self) -> bool:
        return policy.can_answer(self.actor, self.response, self.key)


def _resource_from(text: str, respondent: Respondent):
    """A library item named by its address or number, if the respondent may see it."""
    import re

    from hub.library.models import Resource

    text = (text or "").strip()
    if not text:
        return None
    match = re.search(r"(?:/library/)?(\d+)/?\s*$", text)
    if not match:
        raise ValidationError("Give the address of a library item, such as "
                              "https://…/library/12/.")
    viewer = respondent.actor
    resource = policy.visible_resources(viewer, Resource.objects.filter(
        pk=int(match.group(1)))).first()
    if resource is None:
        raise ValidationError("That library item cannot be found.")
    return resource


def _coding_from(text: str, respondent: Respondent):
    """A coded passage named by its address, if the respondent may read its study."""
    import re

    from hub.research.models import Coding

    text = (text or "").strip()
    if not text:
        return None
    match = re.search(r"segments/(\d+)/?\s*$", text)
    if not match:
        raise ValidationError("Give the address of a coded passage, such as "
                              "https://…/research/studies/…/segments/12/.")
    coding = Coding.objects.select_related("source__study").filter(
        pk=int(match.group(1))).first()
    if coding is None or not policy.can_view_coding(respondent.actor, coding):
        raise ValidationError("That coded passage cannot be found.")
    return coding


def _save_page(request, respondent: Respondent, dimension: dict) -> list[str]:
    """Save every answer on one page. Returns the problems to show; what could be saved is."""
    problems = []
    for indicator in dimension["indicators"]:
        key = indicator["key"]
        raw = request.POST.get(f"{key}-value", "")
        if f"{key}-value" not in request.POST and f"{key}-note" not in request.POST:
            continue
        try:
            resource = _resource_from(request.POST.get(f"{key}-resource", ""), respondent)
        except ValidationError as error:
            problems.append(f"{indicator['question']} — {' '.join(error.messages)}")
            resource = None
        try:
            coding = _coding_from(request.POST.get(f"{key}-segment", ""), respondent)
        except ValidationError as error:
            problems.append(f"{indicator['question']} — {' '.join(error.messages)}")
            coding = None
        try:
            saved = services.save_answer(
                respondent.actor, respondent.response, key,
                value=None if raw == "dk" else raw, dont_know=raw == "dk",
                note=request.POST.get(f"{key}-note", ""), resource=resource, coding=coding,
                resume_key=respondent.key)
        except ValidationError as error:
            problems.append(f"{indicator['question']} — {' '.join(error.messages)}")
            continue
        if saved.note_held_back:
            problems.append(
                f"{indicator['question']} — your note was not saved because it seems to hold "
                f"{' and '.join(saved.note_held_back)}. Please remove it: answers here must "
                "not identify anyone.")
    return problems


def _answer(request, respondent: Respondent, step: int):
    dimensions = respondent.round.instrument.dimensions
    last = len(dimensions) + 1
    if not 1 <= step <= last:
        raise Http404("No such page.")
    if not respondent.can_change():
        return render(request, "assessment/respond_closed.html",
                      {"round": respondent.round, "submitted": respondent.response.submitted_at},
                      status=410)
    if step == last:
        return _review(request, respondent)
    dimension = dimensions[step - 1]
    problems = []
    if request.method == "POST":
        problems = _save_page(request, respondent, dimension)
        if request.htmx:
            return render(request, "assessment/_saved.html",
                          {"problems": problems, "saved_at": timezone.localtime()})
        if not problems:
            go = request.POST.get("go")
            target = step - 1 if go == "back" else step if go == "stay" else step + 1
            return redirect(respondent.url(max(1, target)))
    answers = {a.indicator: a for a in
               respondent.response.answers.select_related("resource", "coding__source__study")}
    questions = []
    for indicator in dimension["indicators"]:
        answer = answers.get(indicator["key"])
        posted = request.POST if request.method == "POST" else None
        questions.append({
            **indicator,
            "value": (posted.get(f"{indicator['key']}-value") if posted else
                      "dk" if answer and answer.dont_know else
                      str(answer.value) if answer and answer.value else ""),
            "note": (posted.get(f"{indicator['key']}-note", "") if posted else
                     answer.note if answer else ""),
            "resource": (posted.get(f"{indicator['key']}-resource", "") if posted else
                         reverse("library:detail", args=[answer.resource_id])
                         if answer and answer.resource_id else ""),
            "segment": (posted.get(f"{indicator['key']}-segment", "") if posted else
                        reverse("research:segment", args=[answer.coding.source.study.slug,
                                                          answer.coding_id])
                        if answer and answer.coding_id else ""),
        })
    answered = len(answers)
    return render(request, "assessment/answer.html", {
        "round": respondent.round, "response": respondent.response,
        "instrument": respondent.round.instrument.data, "dimension": dimension,
        "questions": questions, "step": step, "steps": last,
        "steps_list": [(i, d["name"], respondent.url(i)) for i, d in enumerate(dimensions, 1)],
        "previous": respondent.url(step - 1) if step > 1 else None,
        "problems": problems, "answered": answered,
        "can_cite_passages": bool(respondent.response.user_id),
        "total": sum(len(d["indicators"]) for d in dimensions),
        "review_url": respondent.url(last),
        "through_link": respondent.key is not None,
        "resume_url": request.build_absolute_uri(respondent.url(step)),
    }, status=400 if problems else 200)


def _review(request, respondent: Respondent):
    dimensions = respondent.round.instrument.dimensions
    answers = {a.indicator: a for a in respondent.response.answers.all()}
    if request.method == "POST":
        try:
            services.submit_response(respondent.actor, respondent.response, respondent.key)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(respondent.url(len(dimensions) + 1))
        return render(request, "assessment/thanks.html", {
            "round": respondent.round, "change_url": respondent.url(1),
            "through_link": respondent.key is not None})
    scale = respondent.round.instrument.data["scale"]
    summary = []
    for index, dimension in enumerate(dimensions, 1):
        rows = []
        for indicator in dimension["indicators"]:
            answer = answers.get(indicator["key"])
            rows.append((indicator["question"],
                         "Don't know" if answer and answer.dont_know else
                         scale[answer.value - 1] if answer and answer.value else "Not answered",
                         bool(answer and answer.note)))
        summary.append((index, dimension["name"], respondent.url(index), rows))
    return render(request, "assessment/review.html", {
        "round": respondent.round, "response": respondent.response, "summary": summary,
        "answered": len(answers), "previous": respondent.url(len(dimensions)),
        "through_link": respondent.key is not None,
    })


@login_required
def answer(request, pk, step):
    return _answer(request, Respondent(request, pk=pk), step)


def answer_key(request, key, step):
    response = _answer(request, Respondent(request, key=key), step)
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "same-origin"
    return response


# --- Reports --------------------------------------------------------------------------------

def _report_context(request, initiative):
    weights = selectors.weights_from(request.GET)
    round_pk = request.GET.get("round")
    report = selectors.initiative_report(
        request.user, initiative, weights=weights,
        round_pk=int(round_pk) if round_pk and round_pk.isdigit() else None)
    return report, weights


def _report_charts(report) -> dict:
    """The report's charts, for its page and its PDF alike."""
    from hub.assessment import charts

    result = report.result
    scored = any(point.result.overall is not None for point in report.history)
    return {
        "dimension_svg": charts.dimension_chart(result, id_prefix="dims")
        if result and result.groups else "",
        "history_svg": charts.history_chart(report.history, report.events, id_prefix="hist")
        if scored else "",
    }


def report(request, pk):
    initiative = _initiative_or_404(request, pk)
    report, weights = _report_context(request, initiative)
    result = report.result
    return render(request, "assessment/report.html", {
        "initiative": initiative, "report": report, "result": result,
        "weights": weights, "not_a_verdict": NOT_A_VERDICT,
        **_report_charts(report),
        "query": request.GET.urlencode(),
        "weight_keys": [(group.key, group.label, group.weight)
                        for group in (result.groups if result else [])],
        "manages": policy.can_manage_initiative(request.user, initiative),
    })


def report_csv(request, pk):
    from hub.assessment import exports

    initiative = _initiative_or_404(request, pk)
    report, _ = _report_context(request, initiative)
    response = HttpResponse(exports.report_csv(report), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="assessment-{pk}.csv"'
    return response


def report_pdf(request, pk):
    from django.template.loader import render_to_string

    from hub.assessment import exports

    initiative = _initiative_or_404(request, pk)
    report, weights = _report_context(request, initiative)
    result = report.result
    html = render_to_string("assessment/report_pdf.html", {
        "report": report, "not_a_verdict": NOT_A_VERDICT,
        **_report_charts(report),
        "generated_at": timezone.localtime(),
        "weights_note": "" if not weights else "Weights set by the reader: " + ", ".join(
            f"{g.label} {g.weight:g}" for g in result.groups) if result else "",
    }, request=request)
    pdf = exports.html_to_pdf(html, base_url=request.build_absolute_uri("/"))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="assessment-{pk}.pdf"'
    return response


def _compared(request):
    chosen = [int(v) for v in request.GET.getlist("initiative") if v.isdigit()][:12]
    visible = policy.visible_initiatives(request.user, Initiative.objects.all())
    initiatives = list(visible.filter(pk__in=chosen).select_related("lead_organisation")
                       .order_by("name"))
    weights = selectors.weights_from(request.GET)
    return chosen, visible, selectors.latest_results(request.user, initiatives, weights)


def compare_csv(request):
    from hub.assessment import exports

    _, _, rows = _compared(request)
    response = HttpResponse(exports.compare_csv(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="comparison.csv"'
    return response


def compare(request):
    from hub.assessment import charts

    chosen, visible, rows = _compared(request)
    dimensions = next((row.round.instrument.dimensions for row in rows if row.round), [])
    table = []
    for row in rows:
        scores = {d.key: d.overall for d in row.result.dimensions} if row.result else {}
        table.append((row, [scores.get(d["key"]) for d in dimensions]))
    scored = [(row.initiative.name, row.result.overall) for row in rows
              if row.result and row.result.overall is not None]
    return render(request, "assessment/compare.html", {
        "rows": table, "dimensions": dimensions, "chosen": chosen,
        "choices": visible.order_by("name"),
        "spread_svg": charts.spread_chart(scored, id_prefix="cmp") if scored else "",
        "not_a_verdict": NOT_A_VERDICT, "query": request.GET.urlencode(),
    })


# --- Programmes -----------------------------------------------------------------------------

@login_required
def programme_new(request):
    if not policy.can_create_initiative(request.user):
        raise PermissionDenied
    return _programme_form(request, None)


@login_required
def programme_edit(request, pk):
    programme = _programme_or_404(request, pk)
    if not policy.can_manage_programme(request.user, programme):
        raise Http404("No such programme.")
    return _programme_form(request, programme)


def _programme_form(request, programme):
    form = ProgrammeForm(request.POST or None, instance=programme, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        initiatives = data.pop("initiatives")
        try:
            saved = services.save_programme(
                request.user, Programme.objects.get(pk=programme.pk) if programme else None,
                initiatives=initiatives, **data)
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, "Programme saved.")
            return redirect("assessment:programme", saved.pk)
    return render(request, "assessment/programme_form.html",
                  {"form": form, "programme": programme})


def programme_detail(request, pk):
    from hub.assessment import charts

    programme = _programme_or_404(request, pk)
    weights = selectors.weights_from(request.GET)
    report = selectors.programme_report(request.user, programme, weights)
    scored = [(row.initiative.name, row.result.overall) for row in report.rows
              if row.result and row.result.overall is not None]
    dimension_rows = []
    if report.instrument:
        for dimension in report.instrument.dimensions:
            dimension_rows.append((dimension["name"], report.dimensions[dimension["key"]]))
    return render(request, "assessment/programme_detail.html", {
        "programme": programme, "report": report, "dimension_rows": dimension_rows,
        "spread_svg": charts.spread_chart(scored, id_prefix="prog") if scored else "",
        "manages": policy.can_manage_programme(request.user, programme),
        "not_a_verdict": NOT_A_VERDICT,
    })


def programme_csv(request, pk):
    from hub.assessment import exports

    programme = _programme_or_404(request, pk)
    report = selectors.programme_report(request.user, programme,
                                        selectors.weights_from(request.GET))
    response = HttpResponse(exports.programme_csv(report),
                            content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="programme-{pk}.csv"'
    return response


# --- The instrument -------------------------------------------------------------------------

def instrument(request, version=None):
    current = services.current_instrument()
    shown = current if version is None else get_object_or_404(Instrument, version=version)
    return render(request, "assessment/instrument.html", {
        "instrument": shown, "current": current,
        "versions": Instrument.objects.only("version", "title", "published_at"),
        "can_publish": policy.can_publish_instrument(request.user),
    })


@login_required
def instrument_publish(request):
    if not policy.can_publish_instrument(request.user):
        raise Http404("No such page.")
    current = services.current_instrument()
    form = PublishInstrumentForm(request.POST or None, initial={"source": current.source})
    if request.method == "POST" and form.is_valid():
        try:
            published = services.publish_instrument(request.user, form.cleaned_data["source"])
        except ValidationError as error:
            form.add_error("source", error.messages)
        else:
            messages.success(request, f"Version {published.version} is published. New rounds "
                                      "use it; rounds already set up keep theirs.")
            return redirect("assessment:instrument")
    return render(request, "assessment/instrument_publish.html",
                  {"form": form, "current": current})
