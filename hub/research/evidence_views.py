"""One coded passage on its own: the address a researcher gives to cite it as evidence."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from hub import policy
from hub.core.services import audit_record
from hub.research.models import Coding, SpeakerTurn


@login_required
def segment(request, slug, pk):
    coding = (Coding.objects.select_related("source__study", "code", "coder__profile")
              .filter(pk=pk, source__study__slug=slug).first())
    if coding is None or not policy.can_view_coding(request.user, coding):
        raise Http404
    source = coding.source
    turn = (SpeakerTurn.objects.filter(source=source, start__lte=coding.start,
                                       end__gt=coding.start)
            .select_related("participant").first())
    audit_record(actor=request.user, action="research.segment.open", target=source,
                 study=source.study_id, coding=coding.pk)
    return render(request, "research/segment.html", {
        "study": source.study, "coding": coding, "source": source, "turn": turn,
        "address": request.build_absolute_uri(coding.get_absolute_url())})
