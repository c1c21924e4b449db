"""Pages of studies, their teams, participants, registered names and sources.

Each view parses, finds the study through a selector that answers 404 to anyone the policy
keeps out, calls one service and renders or redirects. The import views carry the original
transcript in the review form only: they keep uploads in memory, never cache their pages, and
hide the posted text from error reports.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_POST

from hub import policy
from hub.core.forms import errors_to_form
from hub.research import importing, services
from hub.research import study_selectors as sel
from hub.research.models import Source, StudyMember
from hub.research.study_forms import (
    MARK_KINDS,
    ImportForm,
    ParticipantForm,
    RegistryForm,
    RoleForm,
    SourceEditForm,
    StudyForm,
    TeamAddForm,
)

READ_PAGE_CHARS = 30_000


def _study_context(request, study, **extra):
    user = request.user
    return {"study": study, "role": policy.study_role(user, study),
            "reads": policy.can_read_study(user, study),
            "manages": policy.can_manage_study(user, study),
            "curates": policy.can_curate_study(user, study), **extra}


def _errors(error: ValidationError) -> str:
    return " ".join(error.messages)


# --- Studies -----------------------------------------------------------------------------------

@login_required
def study_list(request):
    return render(request, "research/study_list.html", {
        **sel.study_lists(user=request.user),
        "can_create": policy.can_create_study(request.user)})


@login_required
def study_new(request):
    if not policy.can_create_study(request.user):
        raise Http404
    resources = sel.output_choices(user=request.user)
    form = StudyForm(request.POST or None, resources=resources)
    if request.method == "POST" and form.is_valid():
        try:
            study = services.study_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, "Study started. You lead it: add your team, participants "
                                      "and the names to pseudonymise, then import transcripts.")
            return redirect(study)
    return render(request, "research/study_form.html", {"form": form, "study": None},
                  status=400 if form.errors else 200)


@login_required
def study_detail(request, slug):
    study = sel.study_get(user=request.user, slug=slug)
    context = _study_context(request, study, outputs=sel.study_outputs(user=request.user,
                                                                        study=study))
    if context["reads"]:
        context.update(team=sel.study_team(study=study),
                       counts=sel.study_counts(user=request.user, study=study),
                       questions=[q for q in study.research_questions.splitlines() if q.strip()])
    else:
        context["questions"] = [q for q in study.research_questions.splitlines() if q.strip()]
    return render(request, "research/study_detail.html", context)


@login_required
def study_edit(request, slug):
    study = sel.study_get_managed(user=request.user, slug=slug)
    if study.status != study.Status.ACTIVE:
        messages.error(request, "This study is archived. Reopen it to change its settings.")
        return redirect(study)
    form = StudyForm(request.POST or None, instance=study,
                     resources=sel.output_choices(user=request.user))
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        outputs = list(data.pop("outputs"))
        # Keep outputs this lead cannot see (linked by another lead) as they were
        hidden = study.outputs.exclude(pk__in=form.fields["outputs"].queryset.values("pk"))
        try:
            services.study_update(actor=request.user, study=study,
                                  outputs=outputs + list(hidden), **data)
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, "Settings saved.")
            return redirect(study)
    return render(request, "research/study_form.html", _study_context(request, study, form=form),
                  status=400 if form.errors else 200)


@login_required
@require_POST
def study_archive(request, slug):
    study = sel.study_get_managed(user=request.user, slug=slug)
    archived = request.POST.get("archive") != "0"
    services.study_archive(actor=request.user, study=study, archived=archived)
    messages.success(request, "Study archived: it is now read only." if archived
                     else "Study reopened.")
    return redirect(study)


@login_required
def study_log(request, slug):
    study = sel.study_get_managed(user=request.user, slug=slug)
    everything = request.GET.get("all") == "1"
    page = Paginator(sel.study_log(study=study, everything=everything), 50).get_page(
        request.GET.get("page", "1")[:8])
    people = sel.people_named(
        [e.context.get("member") for e in page.object_list if e.context.get("member")])
    for event in page.object_list:
        event.member = people.get(event.context.get("member"))
    return render(request, "research/study_log.html",
                  _study_context(request, study, page=page, everything=everything))


# --- Team --------------------------------------------------------------------------------------

@login_required
def team(request, slug):
    study = sel.study_get_managed(user=request.user, slug=slug)
    form = TeamAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            member = services.team_add(actor=request.user, study=study, **form.cleaned_data)
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, f"{member.user} joined the team as "
                                      f"{member.get_role_display().lower()}.")
            return redirect("research:team", study.slug)
    return render(request, "research/team.html", _study_context(
        request, study, form=form, team=sel.study_team(study=study),
        roles=StudyMember.Role.choices), status=400 if form.errors else 200)


def _team_member(request, slug, pk):
    study = sel.study_get_managed(user=request.user, slug=slug)
    member = StudyMember.objects.filter(study=study, pk=pk).select_related("user").first()
    if member is None:
        raise Http404
    return study, member


@login_required
@require_POST
def team_change(request, slug, pk):
    study, member = _team_member(request, slug, pk)
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            services.team_change(actor=request.user, member=member, role=form.cleaned_data["role"])
        except ValidationError as error:
            messages.error(request, _errors(error))
        else:
            messages.success(request, f"{member.user} is now {member.get_role_display().lower()}.")
    else:
        messages.error(request, "Choose lead, coder or viewer.")
    return redirect("research:team", study.slug)


@login_required
@require_POST
def team_remove(request, slug, pk):
    study, member = _team_member(request, slug, pk)
    try:
        services.team_remove(actor=request.user, member=member)
    except ValidationError as error:
        messages.error(request, _errors(error))
        return redirect("research:team", study.slug)
    messages.success(request, f"{member.user} left the team.")
    if member.user_id == request.user.pk:
        return redirect("research:study_list")
    return redirect("research:team", study.slug)


# --- Participants ------------------------------------------------------------------------------

@login_required
def participant_list(request, slug):
    study = sel.study_get_readable(user=request.user, slug=slug)
    return render(request, "research/participant_list.html", _study_context(
        request, study, participants=sel.participant_list(study=study)))


def _participant_form_page(request, study, participant=None):
    form = ParticipantForm(request.POST or None, participant=participant)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            if participant is None:
                saved = services.participant_create(actor=request.user, study=study, **data)
            else:
                saved = services.participant_update(actor=request.user, participant=participant,
                                                    **data)
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, f"Participant {saved.code} saved.")
            return redirect("research:participant_list", study.slug)
    return render(request, "research/participant_form.html", _study_context(
        request, study, form=form, participant=participant), status=400 if form.errors else 200)


@login_required
def participant_new(request, slug):
    return _participant_form_page(request, sel.study_get_curated(user=request.user, slug=slug))


@login_required
def participant_edit(request, slug, pk):
    study = sel.study_get_curated(user=request.user, slug=slug)
    return _participant_form_page(request, study, sel.participant_get(study=study, pk=pk))


@login_required
def participant_delete(request, slug, pk):
    study = sel.study_get_curated(user=request.user, slug=slug)
    participant = sel.participant_get(study=study, pk=pk)
    if request.method == "POST":
        services.participant_delete(actor=request.user, participant=participant)
        messages.success(request, f"Participant {participant.code} removed. Their turns in "
                                  f"transcripts stay, attributed to no one.")
        return redirect("research:participant_list", study.slug)
    return render(request, "research/participant_delete.html",
                  _study_context(request, study, participant=participant))


# --- Registered names --------------------------------------------------------------------------

@login_required
@sensitive_post_parameters("names")
@never_cache
def registry(request, slug):
    study = sel.study_get_curated(user=request.user, slug=slug)
    form = RegistryForm(request.POST or None, study=study)
    if request.method == "POST" and form.is_valid():
        try:
            label = services.registry_add(actor=request.user, study=study,
                                          kind=form.cleaned_data["kind"],
                                          names=form.cleaned_data["names"],
                                          participant=form.cleaned_data["participant"])
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            n = len(form.cleaned_data["names"])
            messages.success(request, f"Registered {n} name{'s' if n != 1 else ''} as {label}.")
            return redirect("research:registry", study.slug)
    return render(request, "research/registry.html", _study_context(
        request, study, form=form, entries=services.registry_summary(study)),
        status=400 if form.errors else 200)


# --- Sources -----------------------------------------------------------------------------------

@login_required
def source_list(request, slug):
    study = sel.study_get_readable(user=request.user, slug=slug)
    return render(request, "research/source_list.html", _study_context(
        request, study, sources=sel.source_list(study=study)))


@csrf_exempt
@sensitive_post_parameters("pasted", "original")
def source_import(request, slug):
    """The first step: read a file or a paste, then show the review. Uploads stay in memory
    (the handler is set before anything reads the body, so CSRF is checked after it)."""
    request.upload_handlers = [importing.MemoryOnlyUpload(request)]
    return _source_import(request, slug)


@csrf_protect
@login_required
@never_cache
@sensitive_variables("text", "data")
def _source_import(request, slug):
    study = sel.study_get_curated(user=request.user, slug=slug)
    if request.method != "POST":
        initial = {"title": f"Interview {study.sources.count() + 1}"}
        return render(request, "research/source_import.html",
                      _study_context(request, study, form=ImportForm(initial=initial)))
    form = ImportForm(request.POST, request.FILES,
                      too_big=getattr(request, "research_upload_too_big", False))
    text = origin = None
    if form.is_valid():
        try:
            services.title_check(study, form.cleaned_data["title"])
            upload = form.cleaned_data["file"]
            if upload:
                data = upload.read()
                upload.close()
                text, origin = importing.read_upload(data, upload.name)
            else:
                text, origin = importing.clean_text(form.cleaned_data["pasted"]), "paste"
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                errors_to_form(form, error)
            else:
                form.add_error("file" if form.cleaned_data.get("file") else "pasted", error)
    if text is None:
        return render(request, "research/source_import.html",
                      _study_context(request, study, form=form), status=400)
    return _review_page(request, study, title=form.cleaned_data["title"],
                        kind=form.cleaned_data["kind"], origin=origin, text=text,
                        rejected=set(), marks=[], speakers={})


@login_required
@require_POST
@never_cache
@sensitive_post_parameters()
@sensitive_variables("text")
def source_review(request, slug):
    """The review step, posted again to update the proposals or to confirm them."""
    study = sel.study_get_curated(user=request.user, slug=slug)
    post = request.POST
    kind = post.get("kind") if post.get("kind") in Source.Kind.values else Source.Kind.OTHER
    origin = post.get("origin") if post.get("origin") in Source.Origin.values else "paste"
    title = post.get("title", "")[:200]
    try:
        text = importing.clean_text(post.get("original", ""))
    except ValidationError as error:
        messages.error(request, f"{_errors(error)} Nothing was saved; start the import again.")
        return redirect("research:source_import", study.slug)
    # Only the declined proposals are posted: a long transcript has thousands of proposals,
    # more fields than a request may carry.
    rejected = set(post.getlist("keep")[:5000])
    kinds = dict(MARK_KINDS)
    marks = [(value.strip()[:120], mark_kind) for value, mark_kind in
             zip(post.getlist("mark_text"), post.getlist("mark_kind"), strict=False)
             if value.strip() and mark_kind in kinds and "\x00" not in value]
    speakers = {}
    for label, choice in zip(post.getlist("speaker_label"), post.getlist("speaker_participant"),
                             strict=False):
        speakers[label] = int(choice) if choice.isdigit() else None
    error = None
    if post.get("action") == "confirm":
        if post.get("registry_version") != services.registry_version(study):
            error = ("Another import changed the study's pseudonyms while you reviewed this one, "
                     "so some labels below may have changed. Check them and confirm again.")
        else:
            try:
                source = services.source_confirm(
                    actor=request.user, study=study, title=title, kind=kind, origin=origin,
                    text=text, rejected=rejected, marks=marks, speakers=speakers)
            except ValidationError as problem:
                error = _errors(problem)
            else:
                messages.success(request, f"Imported “{source.title}”: {source.replacements} "
                                          f"replacement{'s' if source.replacements != 1 else ''}"
                                          f", {source.word_count:,} words. Only the "
                                          f"pseudonymised text was kept.")
                return redirect(source)
    return _review_page(request, study, title=title, kind=kind, origin=origin, text=text,
                        rejected=rejected, marks=marks, speakers=speakers, error=error)


CONTEXT_CHARS = 40


@sensitive_variables("text")
def _review_page(request, study, *, title, kind, origin, text, rejected, marks, speakers,
                 error=None):
    _, proposals, accepted, preview = services.review_build(study=study, text=text,
                                                            rejected=rejected, marks=marks)
    rows = []
    for n, p in enumerate(proposals):
        key = importing.proposal_key(p)
        before = text[max(0, p.start - CONTEXT_CHARS):p.start]
        after = text[p.end:p.end + CONTEXT_CHARS]
        rows.append({"n": n, "key": key, "original": p.original, "label": p.label,
                     "kind": p.kind, "source": p.source, "before": before, "after": after,
                     "replace": key not in rejected})
    participants = list(study.participants.all())
    by_code = {p.code.casefold(): p.pk for p in participants}
    speaker_rows = []
    for label in importing.speaker_labels(preview):
        chosen = speakers[label] if label in speakers else by_code.get(
            importing.code_of_label(label).casefold())
        speaker_rows.append({"label": label, "chosen": chosen})
    status = 400 if error else 200
    return render(request, "research/source_review.html", _study_context(
        request, study, title=title, kind=kind, origin=origin, original=text, rows=rows,
        accepted=len(accepted), marks=marks,
        mark_kinds=MARK_KINDS, kinds=Source.Kind.choices, speaker_rows=speaker_rows,
        participants=participants, preview=preview[:4000], preview_cut=len(preview) > 4000,
        words=importing.word_count(text), registry_version=services.registry_version(study),
        error=error), status=status)


def _read_pages(source, turns) -> list[tuple[int, int]]:
    """Parts of about READ_PAGE_CHARS, cut at turn boundaries, as (first, last) indexes into
    the list of blocks: the text before the first turn (if any), then each turn. Only sizes
    are looked at here; the text of one part is cut up when it is shown."""
    first = turns[0].start if turns else len(source.text)
    sizes = ([first] if source.text[:first].strip() else []) + [t.end - t.start for t in turns]
    pages, begin, size = [], 0, 0
    for n, block in enumerate(sizes):
        if n > begin and size + block > READ_PAGE_CHARS:
            pages.append((begin, n))
            begin, size = n, 0
        size += block
    if sizes:
        pages.append((begin, len(sizes)))
    return pages


def _blocks(source, turns, first: int, last: int) -> list[dict]:
    """The speaker, participant and paragraphs of blocks first..last-1 of a source."""
    text = source.text
    preamble = bool(turns) and bool(text[:turns[0].start].strip()) or (
        not turns and bool(text.strip()))
    blocks = []
    for n in range(first, last):
        index = n - 1 if preamble else n
        if index < 0:
            end = turns[0].start if turns else len(text)
            blocks.append({"turn": None, "paragraphs": _paragraphs(text[:end])})
            continue
        turn = turns[index]
        body = text[turn.start:turn.end]
        code = turn.participant.code if turn.participant else ""
        blocks.append({"turn": turn, "paragraphs": _paragraphs(body[body.find(":") + 1:]),
                       "named_by_code": code.casefold() == importing.code_of_label(
                           turn.speaker).casefold()})
    return blocks


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n\n") if p.strip()]


@login_required
def source_detail(request, slug, pk):
    study = sel.study_get_readable(user=request.user, slug=slug)
    source = sel.source_get(study=study, pk=pk)
    services.source_open(actor=request.user, source=source)
    turns = list(sel.source_turns(source=source))
    pages = _read_pages(source, turns)
    page = Paginator(pages, 1).get_page(request.GET.get("page", "1")[:8])
    blocks = _blocks(source, turns, *page.object_list[0]) if pages else []
    return render(request, "research/source_detail.html", _study_context(
        request, study, source=source, page=page, blocks=blocks,
        speakers=sel.source_speakers(source=source)))


@login_required
def source_edit(request, slug, pk):
    study = sel.study_get_curated(user=request.user, slug=slug)
    source = sel.source_get(study=study, pk=pk, with_text=False)
    speakers = sel.source_speakers(source=source)
    form = SourceEditForm(request.POST or None,
                          initial={"title": source.title, "kind": source.kind})
    if request.method == "POST" and form.is_valid():
        mapping = {}
        for n, row in enumerate(speakers):
            choice = request.POST.get(f"speaker_{n}", "")
            mapping[row["label"]] = int(choice) if choice.isdigit() else None
        try:
            services.source_update(actor=request.user, source=source, speakers=mapping,
                                   **form.cleaned_data)
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, "Source saved.")
            return redirect(reverse("research:source_detail", args=[study.slug, source.pk]))
    return render(request, "research/source_edit.html", _study_context(
        request, study, source=source, form=form, speakers=speakers,
        participants=list(study.participants.all())), status=400 if form.errors else 200)


@login_required
def source_delete(request, slug, pk):
    study = sel.study_get_curated(user=request.user, slug=slug)
    source = sel.source_get(study=study, pk=pk, with_text=False)
    if request.method == "POST":
        services.source_delete(actor=request.user, source=source)
        messages.success(request, f"Deleted “{source.title}” with its codings.")
        return redirect("research:source_list", study.slug)
    return render(request, "research/source_delete.html",
                  _study_context(request, study, source=source,
                                 codings=source.codings.count()))
