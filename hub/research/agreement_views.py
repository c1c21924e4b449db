"""Agreement between coders: the figures per code and overall, and the passages where they
differ."""

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, render

from hub import policy
from hub.research import agreement
from hub.research.models import Code, Coding, Study, StudyMember


def _study(user, slug, allowed) -> Study:
    study = get_object_or_404(policy.readable_studies(user, Study.objects.all()), slug=slug)
    if not allowed(user, study):
        raise Http404
    return study


def _coders(study):
    """Team members who code and have coded something, with their display names."""
    coded = Coding.objects.filter(source__study=study).values("coder_id")
    ids = StudyMember.objects.filter(
        study=study, role__in=[StudyMember.Role.LEAD, StudyMember.Role.CODER],
        user_id__in=coded).values("user_id")
    return list(get_user_model().objects.filter(pk__in=ids).select_related("profile")
                .order_by("profile__display_name", "pk"))


def _chosen(request, coders):
    wanted = set(request.GET.getlist("coder"))
    chosen = [coder for coder in coders if str(coder.pk) in wanted]
    if not wanted and len(coders) >= 2:
        chosen = coders[:2]
    return chosen


@login_required
def agreement_page(request, slug):
    study = _study(request.user, slug, policy.can_view_agreement)
    coders = _coders(study)
    chosen = _chosen(request, coders)
    error = ""
    result = None
    if request.GET.getlist("coder") and len(chosen) < 2:
        error = "Choose at least two coders to compare."
    elif len(chosen) >= 2:
        result = agreement.report(study, chosen)
    return render(request, "research/agreement.html", {
        "study": study, "coders": coders, "chosen": chosen, "result": result, "error": error,
        "query": "&".join(f"coder={coder.pk}" for coder in chosen),
        "can_see_disagreements": policy.can_view_disagreements(request.user, study),
    }, status=400 if error else 200)


@login_required
def disagreements_page(request, slug, code_id):
    study = _study(request.user, slug, policy.can_view_disagreements)
    code = get_object_or_404(Code, study=study, pk=code_id)
    coders = _coders(study)
    chosen = _chosen(request, coders)
    names = {coder.pk: coder.profile.display_name for coder in chosen}
    found = agreement.disagreements(study, chosen, code) if len(chosen) >= 2 else []
    return render(request, "research/disagreements.html", {
        "study": study, "code": code, "chosen": chosen,
        "query": "&".join(f"coder={coder.pk}" for coder in chosen),
        "passages": [(passage, [names[pk] for pk in passage.applied_by],
                      [names[pk] for pk in names if pk not in passage.applied_by])
                     for passage in found],
    })
