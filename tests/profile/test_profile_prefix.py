"""Information gain through one KV cache equals the separate-pass reference, on BPE tokens whose merges cross
step boundaries, on long traces with many steps, and on models whose cache cannot be cropped (fallback)."""

import json

import numpy as np
import pandas as pd
import pytest
import torch
from transformers import MistralConfig, MistralForCausalLM, Qwen2ForCausalLM

from reasonsift.data.example import Example
from reasonsift.profile import ProfileConfig, run_profile, shard
from reasonsift.profile.prefix import Target, cached_nlls, separate_nlls
from reasonsift.profile.render import ANSWER, Renderer
from reasonsift.profile.scoring import Scorer

STEPS = [f"half of {4 * i} is {2 * i}." for i in range(1, 41)]
LONG = Example(id="long", question="Halve 4, 8, ..., 160.", answer="the halves", trace="\n".join(STEPS))


def _targets(rd: Renderer, ex: Example, whole: bool = False) -> list[Target]:
    prefixes, _ = shard.ig_prefixes(ex, ProfileConfig())
    out = []
    for pre in prefixes:
        p = rd.prefix(ex, pre)
        pos = [t for t in range(p.score_start, len(p)) if p.segment[t] == ANSWER]
        out.append(Target(p.input_ids, np.arange(1, len(p)) if whole else np.asarray(pos)))
    return out


@pytest.fixture(scope="module")
def qwen(bpe_model_dir):
    d, tok = bpe_model_dir
    return Qwen2ForCausalLM.from_pretrained(d).eval(), tok


def test_cached_equals_separate_bpe(qwen):
    model, tok = qwen
    ex = Example(
        id="x", question="How much?", answer="72", trace="First, half of 48 is 24. Then 48 + 24 = 72."
    )
    ex = Example(id="x", question=ex.question, answer=ex.answer, trace=ex.trace.replace(". ", ".\n"))
    rd, sc = Renderer(tok), Scorer(model, tok.pad_token_id)
    for e in (ex, LONG):
        targets = _targets(rd, e)
        assert len(targets) > 2
        ref = separate_nlls(sc, targets, batch_size=4, max_tokens=4096)
        got = cached_nlls(sc, targets)
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)


def test_cached_honours_token_boundaries(qwen):
    """A prefix whose tokens are not a token prefix of the full trace (a merge across the cut) is still exact:
    the reuse stops at the longest common token prefix."""
    model, tok = qwen
    rd = Renderer(tok)
    full = rd.prefix(LONG, LONG.trace).input_ids
    cut = rd.prefix(LONG, LONG.trace[: LONG.trace.index(" is 6") + 2]).input_ids  # cut inside "is"
    lcp = next(i for i, (a, b) in enumerate(zip(full, cut, strict=False)) if a != b)
    assert lcp < len(cut) - 5  # the renderings part before the answer, not only at it
    sc = Scorer(model, tok.pad_token_id)
    t = Target(cut, np.asarray([len(cut) - 3, len(cut) - 2]))
    assert cached_nlls(sc, [Target(full, np.asarray([len(full) - 2])), t])[1] == pytest.approx(
        separate_nlls(sc, [t], batch_size=1, max_tokens=4096)[0], rel=1e-5
    )


def test_profile_uses_cache_and_matches_separate_passes(tmp_path, qwen, monkeypatch):
    model, tok = qwen
    exs = [LONG, Example(id="short", question="2+2?", answer="4", trace="2+2=4")]
    a = run_profile(ProfileConfig(out_dir=str(tmp_path / "a"), model="q"), (model, tok), examples=exs)
    assert a.stats["ig_method"] == "kv-cache prefixes"
    monkeypatch.setattr(shard, "cached_nlls", lambda *a, **k: None)  # as for a model whose cache won't crop
    b = run_profile(ProfileConfig(out_dir=str(tmp_path / "b"), model="q"), (model, tok), examples=exs)
    assert b.stats["ig_method"] == "separate passes"
    da, db = (pd.read_parquet(r.out_dir / "examples").set_index("id") for r in (a, b))
    assert len(da.loc["long"].ig_nll) == 41
    for i in da.index:
        np.testing.assert_allclose(da.loc[i].ig_nll, db.loc[i].ig_nll, rtol=1e-5, atol=1e-6)
        # PPL units amplify float32 noise: exp(14) scales a 1e-5 relative NLL difference up ~100-fold
        assert da.loc[i].info_gain == pytest.approx(db.loc[i].info_gain, rel=2e-3, abs=1e-7)


def test_sliding_window_model_falls_back(tmp_path, tok):
    """Mistral with a sliding window shorter than the trace: its cache cannot be cropped back, so the profile
    scores prefixes by separate passes; the numbers equal a plain forward pass."""
    torch.manual_seed(0)
    cfg = MistralConfig(
        vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=512, sliding_window=16, pad_token_id=tok.pad_token_id,
    )  # fmt: skip
    model = MistralForCausalLM(cfg).eval()
    ex = Example(id="m", question="3+4+5", answer="12", trace="3+4=7\n7+5=12")
    res = run_profile(ProfileConfig(out_dir=str(tmp_path), model="m"), (model, tok), examples=[ex])
    assert res.stats["ig_method"] == "separate passes"
    row = pd.read_parquet(res.out_dir / "examples").iloc[0]
    nll = []
    for p in ["", "3+4=7", "3+4=7\n7+5=12"]:
        text = f"<|user|>{ex.question}<|assistant|><think>{p}</think>{ex.answer}</s>"
        enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)
        ids = torch.tensor([enc["input_ids"]])
        with torch.no_grad():
            logp = torch.log_softmax(model(ids).logits[0].double(), -1)
        a0 = text.index("</think>") + len("</think>")
        ts = [t for t, (s, _) in enumerate(enc["offset_mapping"]) if a0 <= s < a0 + 2]
        nll.append(float(np.mean([-float(logp[t - 1, ids[0, t]]) for t in ts])))
    np.testing.assert_allclose(row.ig_nll, nll, rtol=1e-5)
    assert json.loads((res.out_dir / "stats.json").read_text())["ig_method"] == "separate passes"
