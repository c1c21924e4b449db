"""Moving studies and codebooks in and out of the hub in the REFI-QDA standard's formats."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from hub import policy
from hub.core.forms import errors_to_form
from hub.core.services import audit_record
from hub.research import exchange
from hub.research.exchange_forms import CodebookImportForm, ProjectImportForm
from hub.research.models import Study


def _study(user, slug, allowed) -> Study:
    study = get_object_or_404(policy.readable_studies(user, Study.objects.all()), slug=slug)
    if not allowed(user, study):
        raise Http404
    return study


def _download(data: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _read(upload, limit: int) -> bytes:
    if upload.size > limit:
        raise ValidationError({"file": f"This file is larger than {limit // 2**20} MB."})
    return upload.read()


@login_required
def exchange_page(request, slug):
    study = _study(request.user, slug, policy.can_export_codebook)
    return render(request, "research/exchange.html", {
        "study": study, "form": CodebookImportForm(),
        "can_exchange": policy.can_exchange_study(request.user, study)})


@login_required
def project_export(request, slug):
    study = _study(request.user, slug, policy.can_exchange_study)
    data = exchange.export_project(study, request.user)
    audit_record(actor=request.user, action="research.study.export", target=study,
                 study=study.pk, blind=study.codings_hidden)
    return _download(data, f"{study.slug}.qdpx", "application/zip")


@login_required
def codebook_export(request, slug):
    study = _study(request.user, slug, policy.can_export_codebook)
    try:
        data = exchange.export_codebook(study)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("research:exchange", study.slug)
    return _download(data, f"{study.slug}-codebook.qdc", "application/xml")


@login_required
@require_POST
def codebook_import(request, slug):
    study = _study(request.user, slug, policy.can_exchange_study)
    form = CodebookImportForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            added = exchange.import_codebook(
                actor=request.user, study=study,
                data=_read(form.cleaned_data["file"], 5 * 2**20))
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, f"{added} code{'s' if added != 1 else ''} added to "
                                      "the codebook.")
            return redirect("research:exchange", study.slug)
    return render(request, "research/exchange.html", {
        "study": study, "form": form, "can_exchange": True}, status=400)


@login_required
def project_import(request):
    if not policy.can_create_study(request.user):
        raise Http404
    form = ProjectImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            report = exchange.import_project(
                actor=request.user,
                data=_read(form.cleaned_data["file"], exchange.MAX_UPLOAD_BYTES),
                names=form.cleaned_data["names"],
                guesses=not form.cleaned_data["already_pseudonymised"],
                coders=form.cleaned_data["coders"])
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, _summary(report))
            return redirect(report.study)
    return render(request, "research/project_import.html", {"form": form},
                  status=400 if form.errors else 200)


def _summary(report) -> str:
    parts = [f"{report.sources} source{'s' if report.sources != 1 else ''}",
             f"{report.codes} code{'s' if report.codes != 1 else ''}",
             f"{report.codings} coding{'s' if report.codings != 1 else ''}",
             f"{report.participants} participant{'s' if report.participants != 1 else ''}",
             f"{report.memos} memo{'s' if report.memos != 1 else ''}"]
    text = f"Imported {', '.join(parts)}. {report.replacements} identifier" + (
        "s were" if report.replacements != 1 else " was") + " replaced with pseudonyms."
    if report.dropped_codings:
        text += (f" {report.dropped_codings} coding(s) pointed at no code or at no text and "
                 "were left out.")
    if report.skipped:
        text += f" Sources without text were left out: {', '.join(report.skipped)}."
    if report.coders:
        text += " Coders: " + "; ".join(f"{name} → {who}" for name, who in
                                        report.coders.items()) + "."
    return text
