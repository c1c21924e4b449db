"""The codebook services: create, move (no cycles), reorder, merge, split, delete, starter."""

import pytest

from hub.core.models import AuditEvent
from hub.research import codebook
from hub.research.codebook import CodebookError
from hub.research.models import Code, Coding, Memo
from hub.research.tests.test_coding_data import code, coded, make_study

pytestmark = pytest.mark.django_db


@pytest.fixture
def s():
    return make_study()


def test_code_create_refuses_bad_input(s):
    """Empty names, NUL characters, bad colours and parents of another study are refused."""
    study = s["study"]
    other = make_study(slug="s2")["study"]
    foreign = code(other, "Foreign")
    for kwargs in ({"name": " "}, {"name": "a\x00b"}, {"name": "x", "colour": "red"},
                   {"name": "x", "parent": foreign}, {"name": "x", "description": "\x00"}):
        with pytest.raises(CodebookError):
            codebook.code_create(study=study, created_by=s["lead"], **kwargs)
    assert not Code.objects.filter(study=study).exists()
    made = codebook.code_create(study=study, name=" Trust ", colour="#ABCDEF",
                                created_by=s["coder"])
    assert (made.name, made.colour, made.position) == ("Trust", "#abcdef", 0)


def test_code_move_refuses_cycles_and_keeps_children(s):
    """A code cannot go under itself or a descendant; a move carries its sub-codes."""
    study = s["study"]
    a, b = code(study, "A"), code(study, "B")
    a1 = code(study, "A1", parent=a)
    a11 = code(study, "A11", parent=a1)
    for parent in (a, a1, a11):
        with pytest.raises(CodebookError, match="cannot go under"):
            codebook.code_move(code=a, parent=parent)
    codebook.code_move(code=a1, parent=b)
    a11.refresh_from_db()
    assert Code.objects.get(pk=a1.pk).parent_id == b.pk and a11.parent_id == a1.pk
    codebook.code_move(code=a1, parent=None, position=0)
    assert [r.code.name for r in codebook.code_tree(study)] == ["A1", "A11", "A", "B"]


def test_code_reorder_swaps_siblings(s):
    """Up and down move a code one place among its siblings."""
    study = s["study"]
    a, b, c = code(study, "A"), code(study, "B"), code(study, "C")
    for i, x in enumerate((a, b, c)):
        Code.objects.filter(pk=x.pk).update(position=i)
    codebook.code_reorder(code=Code.objects.get(pk=c.pk), direction="up")
    assert [r.code.name for r in codebook.code_tree(study)] == ["A", "C", "B"]
    codebook.code_reorder(code=Code.objects.get(pk=a.pk), direction="down")
    assert [r.code.name for r in codebook.code_tree(study)] == ["C", "A", "B"]


def test_code_merge_moves_codings_collapses_duplicates(s):
    """Merging moves codings, memos and sub-codes; a repeat (same span, same coder) collapses,
    keeping its memo."""
    study, src, coder, lead = s["study"], s["source"], s["coder"], s["lead"]
    a, b = code(study, "A"), code(study, "B")
    child = code(study, "A child", parent=a)
    coded(src, a, 44, 63, coder)
    dupe = coded(src, a, 64, 85, coder)
    coded(src, b, 64, 85, coder)
    coded(src, a, 64, 85, s["coder2"])  # same span, another coder: kept
    Memo.objects.create(study=study, coding=dupe, text="note", author=coder)
    Memo.objects.create(study=study, code=a, text="about A", author=coder)
    moved = codebook.code_merge(code=a, into=b, actor=lead)
    assert moved == 3
    assert not Code.objects.filter(pk=a.pk).exists()
    spans = sorted(Coding.objects.filter(code=b).values_list("start", "end", "coder_id"))
    assert spans == sorted([(44, 63, coder.pk), (64, 85, coder.pk), (64, 85, s["coder2"].pk)])
    assert Memo.objects.filter(code=b).count() == 1
    assert Memo.objects.get(text="note").coding.code_id == b.pk
    assert Code.objects.get(pk=child.pk).parent_id == b.pk
    assert AuditEvent.objects.filter(action="research.code.merge").exists()


def test_code_merge_refuses_other_study_self_and_descendant(s):
    study = s["study"]
    a = code(study, "A")
    a1 = code(study, "A1", parent=a)
    other = code(make_study(slug="s2")["study"], "X")
    for into in (a, a1, other):
        with pytest.raises(CodebookError):
            codebook.code_merge(code=a, into=into, actor=s["lead"])
    assert Code.objects.filter(pk=a.pk).exists()


def test_code_split_by_hand_and_by_rule(s):
    """Split shares codings out by hand and by a word; unassigned ones stay."""
    study, src, coder = s["study"], s["source"], s["coder"]
    t = code(study, "Trust")
    c1 = coded(src, t, 44, 63, coder)   # "Trust grows slowly."
    c2 = coded(src, t, 90, 110, coder)  # "I do not trust them."
    c3 = coded(src, t, 111, 127, coder)  # "Nobody asked us."
    new = codebook.code_split(code=t, names=["Growing", "Lost"], actor=s["lead"],
                              assignments={c1.pk: 0}, rule_word="NOT TRUST", rule_target=1)
    assert [n.name for n in new] == ["Growing", "Lost"]
    assert all(n.parent_id == t.pk for n in new)
    assert Coding.objects.get(pk=c1.pk).code_id == new[0].pk
    assert Coding.objects.get(pk=c2.pk).code_id == new[1].pk
    assert Coding.objects.get(pk=c3.pk).code_id == t.pk


def test_code_split_refuses_foreign_codings_and_bad_indexes(s):
    study, src, coder = s["study"], s["source"], s["coder"]
    t, u = code(study, "T"), code(study, "U")
    other = coded(src, u, 0, 5, coder)
    mine = coded(src, t, 0, 5, coder)
    with pytest.raises(CodebookError):
        codebook.code_split(code=t, names=["A"], actor=s["lead"], assignments={other.pk: 0})
    with pytest.raises(CodebookError):
        codebook.code_split(code=t, names=["A"], actor=s["lead"], assignments={mine.pk: 3})
    with pytest.raises(CodebookError):
        codebook.code_split(code=t, names=["", " "], actor=s["lead"])
    assert Code.objects.filter(study=study).count() == 2


def test_code_delete_counts_codings_of_subcodes(s):
    study, src, coder = s["study"], s["source"], s["coder"]
    a = code(study, "A")
    a1 = code(study, "A1", parent=a)
    coded(src, a, 0, 5, coder)
    coded(src, a1, 5, 9, coder)
    coded(src, a1, 5, 9, s["coder2"])
    assert codebook.code_delete(code=a, actor=s["lead"]) == 3
    assert not Coding.objects.exists() and not Code.objects.exists()


def test_starter_codebook_has_the_models_aspects_once(s):
    """The starting codebook has the six aspects plus governance, each with sub-codes; loading
    it twice adds nothing."""
    study = s["study"]
    added = codebook.codebook_load_starter(study=study, actor=s["lead"])
    tops = set(Code.objects.filter(study=study, parent=None).values_list("name", flat=True))
    assert tops == {"Governance and consent", "Accountability", "Relationships",
                    "Intelligence and information", "Partnership", "Risk", "Trust"}
    assert added == Code.objects.filter(study=study).count() > 14
    assert all(Code.objects.filter(parent__name=t).exists() for t in tops)
    assert codebook.codebook_load_starter(study=study, actor=s["lead"]) == 0
