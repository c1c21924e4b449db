"""Pages of the codebook, the coding page of a source, memos, retrieval and analysis.

Every page first finds the study among those the person may read (anyone else gets 404, as for
a missing study), and reads codings only through ``policy.visible_codings``, so blind coding
holds on every page, count, JSON answer and export here.
"""

from __future__ import annotations

from collections import Counter

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from hub import policy
from hub.core.services import audit_record
from hub.research import analysis, codebook, coding
from hub.research.coding_forms import (
    CodeForm,
    CodingForm,
    MemoForm,
    MergeForm,
    MoveForm,
    NewCodeForm,
    RetrieveForm,
    SearchForm,
    SplitForm,
)
from hub.research.models import Code, Coding, Memo, Source, Study

PAGE_SIZE = 50


def _message(error: ValidationError) -> str:
    return " ".join(error.messages)


def _study(request, slug) -> Study:
    study = get_object_or_404(Study, slug=slug)
    if not policy.can_read_study(request.user, study):
        raise Http404
    return study


def _shapes(user, study) -> bool:
    return policy.can_shape_codebook(user, study)


def _code(study, pk) -> Code:
    return get_object_or_404(Code, study=study, pk=pk)


def _codes_by_id(study) -> dict[int, Code]:
    return {c.pk: c for c in Code.objects.filter(study=study)}


def _paths(by_id) -> dict[int, str]:
    return {pk: codebook.code_path(c, by_id) for pk, c in by_id.items()}


def _context(request, study, **extra):
    user = request.user
    return {"study": study, "can_code": policy.can_code_study(user, study),
            "can_manage": policy.can_manage_study(user, study),
            "shapes": _shapes(user, study), "hidden": study.codings_hidden, **extra}


# --- Codebook -------------------------------------------------------------------------------

@login_required
def codebook_view(request, slug):
    study = _study(request, slug)
    visible = analysis.visible_study_codings(request.user, study)
    rows = codebook.code_tree(study, counts=codebook.coding_counts(visible))
    form = NewCodeForm(tree_rows=rows)
    return render(request, "research/codebook.html", _context(
        request, study, rows=rows, form=form, total=sum(r.codings for r in rows)))


@login_required
@require_POST
def code_new(request, slug):
    study = _study(request, slug)
    if not policy.can_add_code(request.user, study):
        raise Http404
    rows = codebook.code_tree(study)
    form = NewCodeForm(request.POST, tree_rows=rows)
    if form.is_valid():
        data = form.cleaned_data
        parent = _code(study, data["parent"]) if data["parent"] else None
        try:
            code = codebook.code_create(study=study, name=data["name"], parent=parent,
                                        description=data["description"],
                                        colour=data["colour"], created_by=request.user)
        except ValidationError as error:
            form.add_error(None, _message(error))
        else:
            messages.success(request, f"Code “{code.name}” added.")
            return redirect(request.POST.get("next") or reverse(
                "research:codebook", args=[study.slug]))
    counts = codebook.coding_counts(analysis.visible_study_codings(request.user, study))
    rows = codebook.code_tree(study, counts=counts)
    return render(request, "research/codebook.html", _context(
        request, study, rows=rows, form=form, total=sum(r.codings for r in rows)), status=400)


@login_required
@require_POST
def codebook_starter(request, slug):
    study = _study(request, slug)
    if not _shapes(request.user, study):
        raise Http404
    added = codebook.codebook_load_starter(study=study, actor=request.user)
    if added:
        messages.success(request, f"Added the engagement model's codebook: {added} codes.")
    else:
        messages.info(request, "The study already has the engagement model's codes.")
    return redirect("research:codebook", study.slug)


@login_required
def code_detail(request, slug, pk):
    study = _study(request, slug)
    code = _code(study, pk)
    user = request.user
    rows = codebook.code_tree(study)
    under = codebook.descendant_ids(code)
    visible = analysis.visible_study_codings(user, study)
    mine_and_visible = visible.filter(code=code)
    count = mine_and_visible.count()
    below = visible.filter(code_id__in=under).count()
    forms = {}
    action = request.POST.get("action") if request.method == "POST" else None
    if request.method == "POST":
        if not _shapes(user, study):
            raise Http404
        try:
            response = _code_action(request, study, code, action, rows, forms)
        except ValidationError as error:
            messages.error(request, _message(error))
            response = None
        if response is not None:
            return response
    by_id = _codes_by_id(study)
    forms.setdefault("edit", CodeForm(initial={"name": code.name, "description":
                                               code.description, "colour": code.colour}))
    forms.setdefault("move", MoveForm(tree_rows=[r for r in rows if r.code.pk not in under
                                                 and r.code.pk != code.pk],
                                      initial={"parent": code.parent_id or ""}))
    forms.setdefault("merge", MergeForm(tree_rows=[r for r in rows if r.code.pk not in under],
                                        exclude=code.pk))
    forms.setdefault("split", SplitForm())
    split_codings = list(mine_and_visible.select_related("source", "coder__profile")[:100])
    for c in split_codings:
        c.excerpt = c.source.text[c.start:min(c.end, c.start + 160)]
    memos = policy.visible_memos(user, Memo.objects.filter(code=code)).select_related(
        "author__profile")
    for memo in memos:
        memo.editable = policy.can_edit_memo(user, memo)
    status = 400 if request.method == "POST" else 200
    return render(request, "research/code_detail.html", _context(
        request, study, code=code, path=codebook.code_path(code, by_id), count=count,
        below=below, sub_codes=len(under), forms=forms, split_codings=split_codings,
        memos=memos, memo_form=MemoForm()), status=status)


def _code_action(request, study, code, action, rows, forms):
    user, post = request.user, request.POST
    back = reverse("research:code_detail", args=[study.slug, code.pk])
    if action == "edit":
        form = forms["edit"] = CodeForm(post)
        if form.is_valid():
            codebook.code_update(code=code, **form.cleaned_data)
            messages.success(request, "Code saved.")
            return redirect(back)
    elif action == "move":
        form = forms["move"] = MoveForm(post, tree_rows=rows)
        if form.is_valid():
            parent = _code(study, form.cleaned_data["parent"]) if form.cleaned_data[
                "parent"] else None
            position = form.cleaned_data["position"]
            try:
                codebook.code_move(code=code, parent=parent,
                                   position=None if position is None else position - 1)
            except ValidationError as error:
                form.add_error("parent", _message(error))
            else:
                messages.success(request, "Code moved.")
                return redirect(back)
    elif action in ("up", "down"):
        codebook.code_reorder(code=code, direction=action)
        return redirect("research:codebook", study.slug)
    elif action == "merge":
        form = forms["merge"] = MergeForm(post, tree_rows=rows, exclude=code.pk)
        if form.is_valid():
            into = _code(study, form.cleaned_data["into"])
            try:
                codebook.code_merge(code=code, into=into, actor=user)
            except ValidationError as error:
                form.add_error("into", _message(error))
            else:
                messages.success(request, f"“{code.name}” merged into “{into.name}”.")
                return redirect("research:code_detail", study.slug, into.pk)
    elif action == "split":
        form = forms["split"] = SplitForm(post)
        if form.is_valid():
            names = form.cleaned_data["names"]
            assignments = {}
            for key, value in post.items():
                if key.startswith("to-") and value:
                    try:
                        assignments[int(key[3:])] = int(value) - 1
                    except ValueError:
                        form.add_error(None, "A coding's choice was not understood.")
                        return None
            try:
                new = codebook.code_split(
                    code=code, names=names, actor=user, assignments=assignments,
                    rule_word=form.cleaned_data["rule_word"],
                    rule_target=(form.cleaned_data["rule_target"] or 1) - 1)
            except ValidationError as error:
                form.add_error(None, _message(error))
            else:
                messages.success(request, f"Split into {len(new)} new sub-codes.")
                return redirect(back)
    elif action == "delete":
        if post.get("confirm") != "yes":
            messages.error(request, "Tick the box to confirm the deletion.")
            return None
        gone = codebook.code_delete(code=code, actor=user)
        messages.success(request, f"Code “{code.name}” deleted with {gone} coding(s).")
        return redirect("research:codebook", study.slug)
    else:
        messages.error(request, "That action was not understood.")
    return None


@login_required
def codes_css(request, slug):
    """The study's code colours as a stylesheet: the content security policy refuses inline
    styles, and a stylesheet keeps highlights coloured without any script."""
    study = _study(request, slug)
    lines = []
    for pk, colour in Code.objects.filter(study=study).values_list("pk", "colour"):
        lines.append(f".hl-{pk}{{background-color:{colour}33;border-bottom:3px solid {colour}}}"
                     f".sw-{pk}{{background-color:{colour}}}")
    response = HttpResponse("\n".join(lines), content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "private, no-cache"
    return response


@login_required
@require_POST
def study_reveal(request, slug):
    study = _study(request, slug)
    if not policy.can_manage_study(request.user, study):
        raise Http404
    if study.blind and study.revealed_at is None:
        with transaction.atomic():
            Study.objects.filter(pk=study.pk).update(revealed_at=timezone.now())
            audit_record(actor=request.user, action="research.study.reveal", target=study,
                         study=study.pk)
        messages.success(request, "Codings revealed: the team now sees everyone's codings.")
    return redirect(request.POST.get("next") or reverse("research:analysis", args=[study.slug]))


# --- Coding a source ------------------------------------------------------------------------

def _source(study, pk) -> Source:
    return get_object_or_404(Source, study=study, pk=pk)


def _render_text(blocks, by_id, participants) -> str:
    out = []
    for block in blocks:
        turn = block.turn
        attrs = f' id="turn-{turn.pk}" data-turn="{turn.pk}"' if turn else ""
        out.append(f'<div class="turn"{attrs} data-start="{block.start}" '
                   f'data-end="{block.end}">')
        if turn is not None and turn.participant_id in participants:
            p = participants[turn.participant_id]
            out.append(f'<p class="turn-meta" data-meta>{escape(p.code)} · '
                       f'{escape(p.get_group_display())}</p>')
        for piece in block.pieces:
            text = escape(piece.text)
            if piece.codes:
                names = escape(", ".join(by_id[c].name for c in piece.codes if c in by_id))
                classes = f"hl hl-{piece.codes[0]}" + (" hl-multi" if len(piece.codes) > 1
                                                       else "")
                out.append(f'<mark data-o="{piece.start}" data-c="'
                           f'{" ".join(map(str, piece.codes))}" class="{classes}" '
                           f'title="{names}">{text}</mark>')
            else:
                out.append(f'<span data-o="{piece.start}">{text}</span>')
        out.append("</div>")
    return "".join(out)


def _render_codings(request, study, codings, can_code) -> str:
    """The list of codings beside the text, built in one pass: a long transcript has hundreds,
    and the template engine would spend most of the page's time on them."""
    from django.middleware.csrf import get_token

    if not codings:
        return "<p>No codings yet.</p>"
    token = escape(get_token(request))
    marker = "987654321"
    remove_url = reverse("research:coding_remove", args=[study.slug, marker])
    memo_url = reverse("research:memo_new", args=[study.slug]) + "?coding="
    out = ['<ul class="codings-list">']
    for c in codings:
        name = escape(c.code_obj.name if c.code_obj else "")
        coder = escape(c.coder.profile.display_name if c.coder_id and hasattr(
            c.coder, "profile") else "(former member)")
        more = "…" if c.end > c.start + 120 else ""
        out.append(
            f'<li id="coding-{c.pk}"><span class="swatch sw-{c.code_id}" aria-hidden="true">'
            f'</span> <strong>{name}</strong> <a href="#text" class="jump" data-o="{c.start}" '
            f'data-e="{c.end}">{c.start}–{c.end}</a> · {coder}<br><q>{escape(c.excerpt)}{more}'
            f'</q> <span class="coding-actions">')
        if can_code:
            out.append(f'<a href="{memo_url}{c.pk}">Memo<span class="visually-hidden"> on this '
                       f'coding</span></a> ')
        if c.removable:
            out.append(
                f'<form method="post" action="{remove_url.replace(marker, str(c.pk))}" '
                f'class="inline-form"><input type="hidden" name="csrfmiddlewaretoken" '
                f'value="{token}"><button type="submit" class="link-button">Remove'
                f'<span class="visually-hidden"> coding {name} {c.start}–{c.end}</span>'
                f'</button></form>')
        out.append("</span></li>")
    out.append("</ul>")
    return "".join(out)


def _coding_page(request, study, source, form=None, memo_form=None, status=200):
    user = request.user
    rows = codebook.code_tree(study)
    by_id = {r.code.pk: r.code for r in rows}
    turns = list(source.turns.all())
    codings = list(policy.visible_codings(user, source.codings.all()).select_related(
        "coder__profile"))
    participants = {p.pk: p for p in study.participants.all()}
    blocks = coding.layout(source.text, turns, [(c.start, c.end, c.code_id) for c in codings])
    # As policy.can_remove_coding decides (the codings are visible already), once for the
    # page rather than once per coding.
    can_code = policy.can_code_study(user, study)
    tidies = can_code and policy.can_manage_study(user, study)
    for c in codings:
        c.source = source
        c.code_obj = by_id.get(c.code_id)
        c.excerpt = source.text[c.start:min(c.end, c.start + 120)]
        c.removable = can_code and (tidies or c.coder_id == user.pk)
    form = form or CodingForm(tree_rows=rows, turns=turns)
    chosen = str(form["turn"].value() or "")
    turn_options = ['<option value="">(use the positions above)</option>'] + [
        f'<option value="{t.pk}"{" selected" if str(t.pk) == chosen else ""}>'
        f'{escape(t.speaker)}: {t.start}–{t.end}</option>' for t in turns]
    memos = list(policy.visible_memos(user, Memo.objects.filter(
        study=study).filter(source=source)).select_related("author__profile"))
    coding_memos = list(policy.visible_memos(user, Memo.objects.filter(
        coding__source=source)).select_related("author__profile", "coding__code"))
    for memo in memos + coding_memos:
        memo.editable = policy.can_edit_memo(user, memo)
    return render(request, "research/coding_source.html", _context(
        request, study, source=source, rows=rows, codings=codings, turns=turns,
        text_html=mark_safe(_render_text(blocks, by_id, participants)),  # nosec B308 B703 - values escaped where built
        codings_html=mark_safe(_render_codings(  # nosec B308 B703 - values escaped where built
            request, study, codings, can_code)),
        turn_options=mark_safe("".join(turn_options)),  # nosec B308 B703 - values escaped where built
        form=form,
        memo_form=memo_form or MemoForm(), memos=memos, coding_memos=coding_memos,
        length=len(source.text)), status=status)


@login_required
def source_code(request, slug, pk):
    study = _study(request, slug)
    source = _source(study, pk)
    audit_record(actor=request.user, action="research.source.open", target=source,
                 study=study.pk)
    return _coding_page(request, study, source)


@login_required
def source_codings_json(request, slug, pk):
    """The codings this person may see on the source, for scripts."""
    study = _study(request, slug)
    source = _source(study, pk)
    codes = {c.pk: c for c in Code.objects.filter(study=study)}
    codings = policy.visible_codings(request.user, source.codings.all()).values_list(
        "pk", "code_id", "start", "end", "coder_id")
    return JsonResponse({
        "source": source.pk, "length": len(source.text),
        "codes": [{"id": c.pk, "name": c.name, "colour": c.colour, "parent": c.parent_id}
                  for c in codes.values()],
        "codings": [{"id": pk, "code": code_id, "start": s, "end": e,
                     "mine": coder_id == request.user.pk}
                    for pk, code_id, s, e, coder_id in codings],
    })


@login_required
@require_POST
def coding_add(request, slug, pk):
    study = _study(request, slug)
    source = _source(study, pk)
    if not policy.can_code_study(request.user, study):
        raise Http404
    rows = codebook.code_tree(study)
    form = CodingForm(request.POST, tree_rows=rows, turns=list(source.turns.all()))
    if form.is_valid():
        data = form.cleaned_data
        try:
            made = coding.coding_create(source=source, code_ids=[int(c) for c in data["codes"]],
                                        start=data["start"], end=data["end"],
                                        coder=request.user)
        except ValidationError as error:
            form.add_error(None, _message(error))
        else:
            messages.success(request, f"Coded characters {data['start']}–{data['end']} with "
                             f"{len(made)} code(s).")
            url = reverse("research:source_code", args=[study.slug, source.pk])
            return redirect(f"{url}?at={data['start']}#text")
    return _coding_page(request, study, source, form=form, status=400)


@login_required
@require_POST
def coding_remove(request, slug, pk):
    study = _study(request, slug)
    item = get_object_or_404(Coding.objects.select_related("source__study"),
                             source__study=study, pk=pk)
    if not policy.can_view_coding(request.user, item):
        raise Http404
    try:
        coding.coding_delete(coding=item, user=request.user)
    except ValidationError as error:
        messages.error(request, _message(error))
    else:
        messages.success(request, "Coding removed.")
    url = reverse("research:source_code", args=[study.slug, item.source_id])
    return redirect(f"{url}?at={item.start}#text")


# --- Memos ----------------------------------------------------------------------------------

def _memo_target(request, study, data):
    code = coding_obj = source = None
    if data.get("code"):
        code = _code(study, data["code"])
    elif data.get("coding"):
        coding_obj = get_object_or_404(Coding.objects.select_related("source__study"),
                                       source__study=study, pk=data["coding"])
        if not policy.can_view_coding(request.user, coding_obj):
            raise Http404
    elif data.get("source"):
        source = _source(study, data["source"])
    return code, coding_obj, source


def _memo_back(study, memo_or_target) -> str:
    code, coding_obj, source = memo_or_target
    if code is not None:
        return reverse("research:code_detail", args=[study.slug, code.pk])
    if coding_obj is not None:
        return reverse("research:source_code", args=[study.slug, coding_obj.source_id]) + \
            "#memos"
    if source is not None:
        return reverse("research:source_code", args=[study.slug, source.pk]) + "#memos"
    return reverse("research:codebook", args=[study.slug])


@login_required
def memo_new(request, slug):
    study = _study(request, slug)
    if not policy.can_code_study(request.user, study):
        raise Http404
    data = request.POST if request.method == "POST" else request.GET
    target = _memo_target(request, study, data)
    form = MemoForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code, coding_obj, source = target
        try:
            coding.memo_create(study=study, author=request.user, code=code, coding=coding_obj,
                               source=source, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, _message(error))
        else:
            messages.success(request, "Memo saved.")
            return redirect(_memo_back(study, target))
    return render(request, "research/coding_memo_form.html", _context(
        request, study, form=form, target=target, memo=None, back=_memo_back(study, target)),
        status=400 if request.method == "POST" else 200)


def _memo(request, study, pk) -> Memo:
    memo = get_object_or_404(Memo.objects.select_related("coding__source__study"),
                             study=study, pk=pk)
    if not policy.can_view_memo(request.user, memo):
        raise Http404
    return memo


@login_required
def memo_edit(request, slug, pk):
    study = _study(request, slug)
    memo = _memo(request, study, pk)
    if not policy.can_edit_memo(request.user, memo):
        raise Http404
    target = (memo.code, memo.coding, memo.source)
    form = MemoForm(request.POST or None, initial={"title": memo.title, "text": memo.text})
    if request.method == "POST" and form.is_valid():
        try:
            coding.memo_update(memo=memo, user=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, _message(error))
        else:
            messages.success(request, "Memo saved.")
            return redirect(_memo_back(study, target))
    return render(request, "research/coding_memo_form.html", _context(
        request, study, form=form, target=target, memo=memo, back=_memo_back(study, target)),
        status=400 if request.method == "POST" else 200)


@login_required
@require_POST
def memo_delete(request, slug, pk):
    study = _study(request, slug)
    memo = _memo(request, study, pk)
    if not policy.can_edit_memo(request.user, memo):
        raise Http404
    target = (memo.code, memo.coding, memo.source)
    coding.memo_delete(memo=memo, user=request.user)
    messages.success(request, "Memo deleted.")
    return redirect(_memo_back(study, target))


# --- Retrieval and analysis -----------------------------------------------------------------

def _attribute_names(study) -> list[str]:
    names = set()
    for attrs in study.participants.values_list("attributes", flat=True):
        if isinstance(attrs, dict):
            names.update(str(k) for k in attrs)
    return sorted(names)


def _retrieval(request, study):
    """The query form and, when it is valid, the segments it selects (all of them)."""
    rows = codebook.code_tree(study)
    sources = list(study.sources.values_list("pk", "title"))
    form = RetrieveForm(request.GET or None, tree_rows=rows,
                        attributes=_attribute_names(study), sources=sources)
    result = None
    if request.GET and form.is_valid():
        data = form.cleaned_data
        by_id = {r.code.pk: r.code for r in rows}
        first = by_id[int(data["code"])]
        steps = [(op, by_id[pk]) for op, pk in form.steps()]
        visible = analysis.visible_study_codings(request.user, study)
        segs = analysis.retrieve(visible, first, steps, include_children=data["children"])
        source_ids = [int(s) for s in data["sources"]]
        # Who spoke matters for every segment only when filtering by speaker; otherwise
        # only for the page shown (the Speakers of those sources are read later).
        speakers = analysis.Speakers(
            study, {s.source_id for s in segs}, participant_ids=analysis.matching_participants(
                study, groups=data["groups"], attribute=data["attribute"],
                value=data["value"])) if data["groups"] or data["attribute"] else None
        segs = analysis.filter_segments(segs, speakers, groups=data["groups"],
                                        attribute=data["attribute"], value=data["value"],
                                        source_ids=source_ids)
        words = [first.name] + [f"{op} {code.name}" for op, code in steps]
        result = {"segs": segs, "speakers": speakers, "by_id": by_id,
                  "query": " ".join(words)}
    return form, result


def _options(field, value) -> str:
    """A select's options, built directly: the form renderer's template per option costs
    more than the whole query on a big study."""
    chosen = {str(v) for v in value} if isinstance(value, list | tuple) else {
        str(value or "")}
    return "".join(f'<option value="{escape(k)}"{" selected" if str(k) in chosen else ""}>'
                   f'{escape(label)}</option>' for k, label in field.field.choices)


def _segments_html(study, rows) -> str:
    marker = "987654321"
    code_url = reverse("research:source_code", args=[study.slug, marker])
    out = []
    for row in rows:
        p = row.participant
        who = f"{escape(p.code)} ({escape(p.get_group_display())})" if p else "no participant"
        seg = row.seg
        out.append(
            f'<li class="segment"><p class="meta"><span class="swatch sw-{seg.code_id}" '
            f'aria-hidden="true"></span> {escape(row.path)} · <a href="'
            f'{code_url.replace(marker, str(seg.source_id))}?at={seg.start}#text">'
            f'{escape(row.source_title)}, {seg.start}–{seg.end}</a> · {who} · coded by '
            f'{escape(row.coder_name)}</p><blockquote>{escape(row.text)}</blockquote></li>')
    return "".join(out)


@login_required
def retrieve(request, slug):
    study = _study(request, slug)
    form, result = _retrieval(request, study)
    data = form.data if form.is_bound else {}
    options = {name: mark_safe(_options(  # nosec B308 B703 - values escaped where built
        form[name], data.getlist(name) if name == "sources" and data else data.get(name)))
        for name in ("code", "code1", "code2", "sources", "attribute")}
    context = _context(request, study, form=form, result=result, options=options)
    if result:
        paginator = Paginator(result["segs"], PAGE_SIZE)
        page = paginator.get_page(form.cleaned_data.get("page") or 1)
        offset = page.start_index() - 1 if paginator.count else 0
        speakers = result["speakers"] or analysis.Speakers(
            study, {s.source_id for s in result["segs"][offset:offset + PAGE_SIZE]})
        context.update(page=page, total=paginator.count, rows=analysis.segment_rows(
            result["segs"], speakers, result["by_id"], limit=PAGE_SIZE, offset=offset),
            paths=_paths(result["by_id"]), querystring=_without_page(request))
        for row in context["rows"]:
            row.path = context["paths"][row.seg.code_id]
        context["segments_html"] = mark_safe(  # nosec B308 B703 - values escaped where built
            _segments_html(study, context["rows"]))
    return render(request, "research/analysis_retrieve.html", context)


def _matrix_html(used, pairs) -> str:
    """The co-occurrence table, built in one pass (a big codebook has thousands of cells)."""
    if len(used) < 2:
        return "<p>Co-occurrence needs codings of at least two codes.</p>"
    out = ['<div class="table-scroll"><table class="matrix"><caption>How often two codes '
           'overlap in the same text (each overlapping pair of codings counts once)</caption>'
           '<thead><tr><td></td>']
    for col in used:
        out.append(f'<th scope="col"><span class="swatch sw-{col.code.pk}" aria-hidden="true">'
                   f'</span> {escape(col.code.name)}</th>')
    out.append("</tr></thead><tbody>")
    for a in used:
        out.append(f'<tr><th scope="row">{escape(a.code.name)}</th>')
        for b in used:
            if a.code.pk == b.code.pk:
                out.append('<td><span class="visually-hidden">same code</span>'
                           '<span aria-hidden="true">—</span></td>')
                continue
            n = pairs.get((min(a.code.pk, b.code.pk), max(a.code.pk, b.code.pk)), 0)
            out.append(f'<td class="nonzero">{n}</td>' if n else "<td>0</td>")
        out.append("</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def _without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


EXPORT_LIMIT = 20000


@login_required
def retrieve_export(request, slug, fmt):
    study = _study(request, slug)
    if fmt not in ("csv", "docx"):
        raise Http404
    form, result = _retrieval(request, study)
    if result is None:
        messages.error(request, "Choose what to retrieve before exporting.")
        return redirect("research:retrieve", study.slug)
    rows = analysis.segment_rows(result["segs"][:EXPORT_LIMIT],
                                 result["speakers"] or analysis.Speakers(study),
                                 result["by_id"])
    paths = _paths(result["by_id"])
    audit_record(actor=request.user, action="research.segments.export", target=study,
                 study=study.pk, format=fmt, segments=len(rows))
    if fmt == "csv":
        body = analysis.export_csv(rows, paths)
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    else:
        body = analysis.export_docx(rows, paths, title=study.title, query=result["query"])
        response = HttpResponse(body, content_type="application/vnd.openxmlformats-"
                                "officedocument.wordprocessingml.document")
    response["Content-Disposition"] = f'attachment; filename="{study.slug}-segments.{fmt}"'
    return response


@login_required
def analysis_view(request, slug):
    study = _study(request, slug)
    visible = analysis.visible_study_codings(request.user, study)
    spans = analysis.spans_of(visible)
    rows = codebook.code_tree(study, counts=Counter(code_id for *_rest, code_id in spans))
    groups, table = analysis.frequencies(visible, study, spans)
    freq_rows = [(r, [table.get(r.code.pk, {}).get(g, (0, 0)) for g, _ in groups])
                 for r in rows]
    used = [r for r in rows if r.codings]
    matrix = mark_safe(_matrix_html(used, analysis.cooccurrence(visible, spans)))  # nosec B308 B703 - values escaped where built
    # The chart compares the top-level codes, each with everything under it.
    top_of, current = {}, None
    for r in rows:
        current = r.code.pk if r.depth == 0 else current
        top_of[r.code.pk] = current
    rolled: dict[int, dict[str, tuple[int, int]]] = {}
    for code_id, cells in table.items():
        top = rolled.setdefault(top_of.get(code_id, code_id), {})
        for g, (n, _people) in cells.items():
            top[g] = (top.get(g, (0, 0))[0] + n, 0)
    tops = [r for r in rows if r.depth == 0 and any(n for n, _ in rolled.get(
        r.code.pk, {}).values())]
    chart = analysis.bar_chart_svg(groups, tops, rolled) if groups and tops else ""
    return render(request, "research/analysis.html", _context(
        request, study, groups=groups, freq_rows=freq_rows, matrix=matrix, used=used,
        chart=chart, total=sum(r.codings for r in rows)))


@login_required
def cooccurrence_view(request, slug):
    """The co-occurrence matrix on its own page (the analysis page shows it too)."""
    study = _study(request, slug)
    visible = analysis.visible_study_codings(request.user, study)
    spans = analysis.spans_of(visible)
    rows = codebook.code_tree(study, counts=Counter(code_id for *_rest, code_id in spans))
    used = [r for r in rows if r.codings]
    matrix = mark_safe(_matrix_html(used, analysis.cooccurrence(visible, spans)))  # nosec B308 B703 - values escaped where built
    return render(request, "research/analysis_cooccurrence.html", _context(
        request, study, matrix=matrix, used=used))


@login_required
def study_search(request, slug):
    study = _study(request, slug)
    form = SearchForm(request.GET or None)
    hits = None
    if request.GET and form.is_valid():
        hits = analysis.text_search(study, form.cleaned_data["q"])
    return render(request, "research/analysis_search.html", _context(
        request, study, form=form, hits=hits))
