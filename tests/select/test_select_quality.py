"""quality on hand-made records: each broken kind dropped by the check that names it, good items kept."""

import random

from reasonsift.select.base import get_stage
from reasonsift.tasks import get_task
from reasonsift.tasks.outcome import Outcome


def arith(i=0, **over):
    d = get_task("arith").example(i).to_dict()
    d.update(over)
    return d


def run(records, **params):
    return get_stage("quality", **params).run(records, random.Random(0))


def test_good_builtin_items_pass_every_check():
    recs = [
        get_task(t).example(i, format=f).to_dict()
        for t in ("arith", "maze", "logic")
        for i in range(3)
        for f in ("free_form", "multiple_choice")
    ]
    ds = run(recs)
    assert all(d.keep for d in ds), [d.reason for d in ds if not d.keep]
    assert all(d.columns["verified_against"] == "regenerated" and d.columns["trace_valid"] for d in ds)


def test_each_broken_kind_is_dropped_with_its_check():
    ex = get_task("arith").example(0)  # 96-13+44 = 127, trace 96-13=83;83+44=127
    recs = {
        "schema": {"id": "s", "question": 3, "answer": "1"},
        "answer": arith(answer="  "),
        "trace": arith(trace="96-13=83;83+44=128"),
        "verify": arith(answer="126"),
    }
    ds = dict(zip(recs, run(list(recs.values())), strict=True))
    for check, d in ds.items():
        assert not d.keep and d.columns["quality_failed"] == check, (check, d)
    assert "question: expected a string" in ds["schema"].reason
    assert ds["trace"].reason.startswith("invalid trace for task arith at step 1")
    assert f"answer {ex.answer!r}" in ds["verify"].reason and "'126'" in ds["verify"].reason


def test_edited_item_falls_back_to_self_verification():
    # The question no longer matches the item its meta names: verified against itself (the answer parses).
    d = run([arith(question="1+1", trace="1+1=2", answer="2")])[0]
    assert d.keep and d.columns["verified_against"] == "self"
    d = run([arith(question="1+1", trace="1+1=2", answer="two")])[0]
    assert not d.keep and d.columns["quality_failed"] == "verify"


def test_no_validator_kept_and_said_so():
    recs = [
        {"id": "a", "question": "q", "answer": "x", "meta": {"task": "mine"}},
        {"id": "b", "question": "q", "answer": "x"},
    ]
    a, b = run(recs)
    assert a.keep and "no built-in verifier for task 'mine'" in a.reason
    assert b.keep and "no task in meta" in b.reason


def test_require_trace():
    rec = {"id": "a", "question": "q", "answer": "x", "trace": ""}
    assert run([rec])[0].keep
    assert not run([rec], require_trace=True)[0].keep


def test_verifier_failure_is_not_a_wrong_answer(monkeypatch):
    task = get_task("arith")
    monkeypatch.setattr(task, "verify", lambda c, e: Outcome("error", detail="boom"))
    d = run([arith()])[0]
    assert d.keep and "unverified" in d.reason and d.columns["answer_verified"] == "error"
