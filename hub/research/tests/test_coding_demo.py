"""The demo's codebook, codings and memos load on the demo study, once."""

import pytest

from hub.research import coding_demo
from hub.research.demo import DEMO_STUDY
from hub.research.models import Code, Coding, Memo, Source
from hub.research.tests.test_coding_data import make_study

pytestmark = pytest.mark.django_db


def test_demo_does_nothing_without_the_demo_study():
    assert coding_demo.load() == 0
    assert not Code.objects.exists()


def test_demo_loads_codebook_codings_by_two_coders_and_memos_once():
    s = make_study(title=DEMO_STUDY)
    Source.objects.create(study=s["study"], title="Second", text=(
        "We trust the new officer. They moved on after a year. I do not trust the "
        "intelligence unit at all. The partnership board meets every month."))
    added = coding_demo.load()
    assert added > 0
    assert Code.objects.filter(study=s["study"], parent=None).count() == 7
    coders = set(Coding.objects.values_list("coder_id", flat=True))
    assert coders == {s["coder"].pk, s["coder2"].pk}
    assert Memo.objects.filter(study=s["study"]).count() >= 3
    counts = (Code.objects.count(), Coding.objects.count(), Memo.objects.count())
    assert coding_demo.load() == 0
    assert (Code.objects.count(), Coding.objects.count(), Memo.objects.count()) == counts
