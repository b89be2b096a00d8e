from __future__ import annotations

import pytest

from reasonsift.models.tokenizer import build_tokenizer
from reasonsift.tasks import get_task
from reasonsift.train.mixture import batch_documents, chain_hash, parse_mixture, render_document


def test_parse_mixture():
    assert parse_mixture("trace=1,answer=0,trace_only=0") == {"trace": 1.0, "answer": 0.0, "trace_only": 0.0}
    assert parse_mixture("answer=2") == {"trace": 0.0, "answer": 2.0, "trace_only": 0.0}
    for bad in ("trace", "thinking=1", "trace=x", "trace=0", "trace=-1,answer=2"):
        with pytest.raises(ValueError, match="mixture"):
            parse_mixture(bad)


def test_three_document_kinds():
    tok = build_tokenizer()
    ex = get_task("arith").example(0)
    q, t, a = ex.question, ex.trace, ex.answer
    assert render_document(tok, ex, "trace") == f"<|user|>{q}<|assistant|><think>{t}</think>{a}</s>"
    assert render_document(tok, ex, "answer") == f"<|user|>{q}<|assistant|>{a}</s>"
    assert render_document(tok, ex, "trace_only") == f"<|assistant|><think>{t}</think>{a}</s>"


def test_batches_are_a_function_of_seed_and_step():
    tok = build_tokenizer()
    mix = {"trace": 1.0, "answer": 1.0, "trace_only": 0.0}
    a = batch_documents(tok, ["arith"], mix, seed=0, step=3, batch_size=16)
    assert a == batch_documents(tok, ["arith"], mix, seed=0, step=3, batch_size=16)
    assert a != batch_documents(tok, ["arith"], mix, seed=0, step=4, batch_size=16)
    assert all(d.startswith("<|user|>") for d in a)
    assert 0 < sum("<think>" in d for d in a) < 16
    only = batch_documents(tok, ["arith"], {"answer": 1.0}, seed=0, step=0, batch_size=16)
    assert not any("<think>" in d for d in only)


def test_chain_hash_is_order_sensitive():
    assert chain_hash("", ["a", "b"]) != chain_hash("", ["b", "a"])
    assert chain_hash(chain_hash("", ["a"]), ["b"]) != chain_hash("", ["a", "b"])
