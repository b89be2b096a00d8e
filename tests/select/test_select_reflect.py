"""The selective-reflection rule: one test per branch with hand-picked numbers; reflect_pairs on the tiny model
against direct profile runs of the same Examples."""

import math
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import reasonsift
from reasonsift.data.example import Example
from reasonsift.models import load
from reasonsift.profile import ProfileConfig, run_profile
from reasonsift.select.reflect import reflect_choice, reflect_pairs

NAN = float("nan")


# -- the rule ---------------------------------------------------------------------------------------------
# arguments: ifd_q, ifd_qstar, rifd_qstar_astar, rifd_qstar(=r-IFD(Q*,A)), rifd_q_astar, rifd_q_a
def test_harder_refined_question_kept_when_refined_response_is_more_feasible():
    assert reflect_choice(0.80, 0.90, 0.50, 0.70, 9.0, 9.0) == ("refined", "refined_question")


def test_harder_refined_question_dropped_when_refined_response_not_more_feasible():
    assert reflect_choice(0.80, 0.90, 0.70, 0.70, 0.1, 0.9) == ("dropped", "refined_question")  # equal
    assert reflect_choice(0.80, 0.90, 0.75, 0.70, 0.1, 0.9) == ("dropped", "refined_question")  # worse


def test_harder_refined_question_dropped_when_an_r_ifd_is_not_below_one():
    assert reflect_choice(0.80, 0.90, 0.95, 1.20, 0.1, 0.9) == ("dropped", "refined_question")  # r-IFD(Q*,A)
    assert reflect_choice(0.80, 0.90, 1.00, 1.20, 0.1, 0.9) == ("dropped", "refined_question")  # both


def test_original_question_kept_with_refined_response_when_more_feasible():
    # the (Q*, .) r-IFDs are irrelevant in this branch, even when they would pass
    assert reflect_choice(0.90, 0.80, 0.1, 0.9, 0.40, 0.60) == ("original_q_refined_a", "original_question")
    # equal IFDs: not "greater", so the original-question branch
    assert reflect_choice(0.85, 0.85, 0.1, 0.9, 0.40, 0.60) == ("original_q_refined_a", "original_question")


def test_original_question_dropped_when_refined_response_not_better_or_not_below_one():
    assert reflect_choice(0.90, 0.80, 0.1, 0.9, 0.60, 0.40) == ("dropped", "original_question")
    assert reflect_choice(0.90, 0.80, 0.1, 0.9, 0.90, 1.10) == ("dropped", "original_question")


def test_unscored_and_nan_r_ifd_drop():
    assert reflect_choice(NAN, 0.8, 0.1, 0.2, 0.1, 0.2) == ("dropped", "unscored")
    assert reflect_choice(0.8, 0.9, NAN, 0.5, 0.1, 0.2) == ("dropped", "refined_question")


# -- reflect_pairs on the built-in tiny model ---------------------------------------------------------------
ORIGINAL = [
    Example("p1", "What is 2 + 3?", "5", trace="2 + 3 = 5"),
    Example("p2", "What is 7 * 6?", "42", trace="7 * 6 = 42"),
    Example("p3", "What is 19 - 4?", "15", trace="19 - 4 = 15"),
]
REFINED = [
    Example("p3", "Compute 19 - 4 - 2.", "13", trace="19 - 4 = 15; 15 - 2 = 13"),
    Example("p1", "What is 2 + 3 + 4?", "9", trace="2 + 3 = 5; 5 + 4 = 9"),
    Example("p2", "What is 7 * 6 + 1?", "43", trace="7 * 6 = 42; 42 + 1 = 43"),
]


@pytest.fixture(scope="module")
def tiny():
    return load(Path(reasonsift.__file__).parent / "assets" / "models" / "tiny-arith", device="cpu")


def direct(examples, model_pair, out_dir):
    cfg = ProfileConfig(out_dir=str(out_dir), model="tiny", infogain=False, top_k=0, progress=False)
    res = run_profile(cfg, model_pair, examples=examples)
    rows = [
        r for f in sorted((res.out_dir / "examples").glob("*.parquet")) for r in pq.read_table(f).to_pylist()
    ]
    return {r["id"]: r for r in rows}


def test_reflect_pairs_numbers_equal_direct_profile_runs(tiny, tmp_path):
    rows = reflect_pairs(ORIGINAL, REFINED, *tiny)
    assert [r["id"] for r in rows] == ["p1", "p2", "p3"]
    by_id = {e.id: e for e in REFINED}
    qa_star = [Example(o.id, o.question, by_id[o.id].answer, trace=by_id[o.id].trace) for o in ORIGINAL]
    qstar_a = [Example(o.id, by_id[o.id].question, o.answer, trace=o.trace) for o in ORIGINAL]
    ref = {
        name: direct(exs, tiny, tmp_path / name)
        for name, exs in [("qa", ORIGINAL), ("qsas", REFINED), ("qas", qa_star), ("qsa", qstar_a)]
    }
    for r in rows:
        i = r["id"]
        expected = {
            "ifd_q": ref["qa"][i]["ifd"],
            "ifd_qstar": ref["qsas"][i]["ifd"],
            "rifd_qstar_astar": ref["qsas"][i]["r_ifd"],
            "rifd_qstar_a": ref["qsa"][i]["r_ifd"],
            "rifd_q_astar": ref["qas"][i]["r_ifd"],
            "rifd_q_a": ref["qa"][i]["r_ifd"],
        }
        for k, v in expected.items():
            assert math.isfinite(r[k]) and math.isclose(r[k], v, rel_tol=1e-5), (i, k, r[k], v)
        assert (r["choice"], r["branch"]) == reflect_choice(*expected.values())
        assert r["reason"].startswith("IFD(Q*,A*)")
        if r["choice"] == "refined":
            assert (r["question"], r["trace"], r["answer"]) == (
                by_id[i].question,
                by_id[i].trace,
                by_id[i].answer,
            )
        elif r["choice"] == "original_q_refined_a":
            o = next(e for e in ORIGINAL if e.id == i)
            assert (r["question"], r["trace"], r["answer"]) == (o.question, by_id[i].trace, by_id[i].answer)
        else:
            assert r["question"] is None


def test_unpaired_ids_are_named():
    with pytest.raises(ValueError, match=r"only in original: 'p3'.*only in refined: 'zz'"):
        reflect_pairs(ORIGINAL, [*REFINED[1:], Example("zz", "q", "a")], None, None)
    with pytest.raises(ValueError, match=r"refined: id\(s\) 'p1'"):
        reflect_pairs(ORIGINAL, [*REFINED, REFINED[1]], None, None)


def test_chosen_fields_for_each_choice(monkeypatch):
    import reasonsift.select.reflect as reflect

    # hand-picked numbers per pair (combo -> ifd, r_ifd): p1 keeps (Q*, A*), p2 keeps (Q, A*), p3 is dropped
    numbers = {
        "p1": {"QA": (0.8, 0.9), "Q*A*": (0.9, 0.5), "QA*": (NAN, 0.9), "Q*A": (NAN, 0.7)},
        "p2": {"QA": (0.9, 0.6), "Q*A*": (0.8, 0.9), "QA*": (NAN, 0.4), "Q*A": (NAN, 0.2)},
        "p3": {"QA": (0.9, 0.3), "Q*A*": (0.8, 0.9), "QA*": (NAN, 0.4), "Q*A": (NAN, 0.2)},
    }

    def fake(pairs, model, tokenizer, **kw):
        return [{c: {"ifd": v[0], "r_ifd": v[1]} for c, v in numbers[o.id].items()} for o, _ in pairs]

    monkeypatch.setattr(reflect, "score_combinations", fake)
    rows = {r["id"]: r for r in reflect_pairs(ORIGINAL, REFINED, None, None)}
    assert [(r["choice"], r["branch"]) for r in rows.values()] == [
        ("refined", "refined_question"),
        ("original_q_refined_a", "original_question"),
        ("dropped", "original_question"),
    ]
    assert (rows["p1"]["question"], rows["p1"]["answer"]) == ("What is 2 + 3 + 4?", "9")
    assert (rows["p2"]["question"], rows["p2"]["trace"], rows["p2"]["answer"]) == (
        "What is 7 * 6?",
        "7 * 6 = 42; 42 + 1 = 43",
        "43",
    )
    assert rows["p3"]["question"] is None and rows["p3"]["rifd_q_astar"] == 0.4
    assert "r-IFD(Q*,A*) 0.5 vs r-IFD(Q*,A) 0.7" in rows["p1"]["reason"]
