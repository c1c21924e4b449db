"""Agreement figures, checked against examples worked by hand and against the krippendorff
library."""

import krippendorff
import numpy as np
import pytest

from hub.members.tests.factories import UserFactory
from hub.research import agreement
from hub.research.models import Code, Coding, Source, Study

A = np.array([1, 1, 1, 1, 1, 0, 0, 0, 0, 0])
B = np.array([1, 1, 1, 0, 0, 0, 0, 0, 0, 1])


def test_two_coders_worked_by_hand():
    # Agree on 7 of 10 characters; A applies the code to 5, B to 4, so chance agreement is
    # 0.5 x 0.4 + 0.5 x 0.6 = 0.5 and kappa (0.7 - 0.5) / 0.5 = 0.4. For alpha, the
    # coincidences are 3 units both 1, 4 both 0 and 3 split: n1 = 9, n0 = 11, n = 20, and
    # alpha = 1 - 19 x 3 / (11 x 9) = 42/99.
    result = agreement.figures(np.vstack([A, B]))
    assert result.units == 10
    assert result.percent == pytest.approx(0.7)
    assert result.kappa == pytest.approx(0.4)
    assert result.alpha == pytest.approx(42 / 99)


def test_three_coders_worked_by_hand():
    # Units coded by 3, 2, 1 and 0 of the three coders: o01 = (1x2 + 2x1) / 2 = 2,
    # n0 = n1 = 6, alpha = 1 - 11 x 2 / 36 = 14/36. All agree on two of the four units.
    matrix = np.array([[1, 1, 0, 0], [1, 0, 0, 0], [1, 1, 1, 0]])
    result = agreement.figures(matrix)
    assert result.percent == pytest.approx(0.5)
    assert result.kappa is None  # Cohen's kappa is for two coders
    assert result.alpha == pytest.approx(14 / 36)


def test_perfect_and_undefined():
    assert agreement.figures(np.vstack([A, A])).kappa == pytest.approx(1.0)
    assert agreement.figures(np.vstack([A, A])).alpha == pytest.approx(1.0)
    nothing = np.zeros((2, 8), dtype=int)
    result = agreement.figures(nothing)
    assert result.percent == 1.0 and result.kappa is None and result.alpha is None
    assert agreement.figures(np.zeros((2, 0))).percent is None


@pytest.mark.parametrize("coders", [2, 3, 5])
def test_alpha_matches_the_krippendorff_library(coders):
    rng = np.random.default_rng(coders)
    base = rng.random(400) < 0.3
    matrix = np.array([(base ^ (rng.random(400) < 0.15)).astype(int) for _ in range(coders)])
    expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")
    assert agreement.figures(matrix).alpha == pytest.approx(expected)


@pytest.mark.django_db
def test_report_and_disagreements_over_shared_sources():
    ann, ben, cat = UserFactory(), UserFactory(), UserFactory()
    study = Study.objects.create(title="Trust", slug="trust")
    shared = Source.objects.create(study=study, title="One", text="abcdefghij")
    only_ann = Source.objects.create(study=study, title="Two", text="klmnopqrst")
    trust = Code.objects.create(study=study, name="Trust")
    fear = Code.objects.create(study=study, name="Fear", position=1)
    Coding.objects.create(source=shared, code=trust, start=0, end=5, coder=ann)
    Coding.objects.create(source=shared, code=trust, start=0, end=3, coder=ben)
    Coding.objects.create(source=shared, code=trust, start=9, end=10, coder=ben)
    Coding.objects.create(source=shared, code=fear, start=2, end=4, coder=ann)
    Coding.objects.create(source=shared, code=fear, start=2, end=4, coder=ben)
    Coding.objects.create(source=only_ann, code=trust, start=0, end=10, coder=ann)
    Coding.objects.create(source=shared, code=trust, start=0, end=10, coder=cat)

    result = agreement.report(study, [ann, ben])
    assert [s.title for s in result.sources] == ["One"]  # Ben never coded "Two"
    by_code = {code.name: figures for code, figures in result.by_code}
    assert by_code["Trust"].kappa == pytest.approx(0.4)
    assert by_code["Fear"].percent == 1.0
    assert result.overall.units == 20
    assert result.overall.percent == pytest.approx(17 / 20)

    found = agreement.disagreements(study, [ann, ben], trust)
    assert [(d.start, d.end, d.text, d.applied_by) for d in found] == [
        (3, 5, "de", (ann.pk,)), (9, 10, "j", (ben.pk,))]
