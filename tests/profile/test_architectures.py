"""The scorer against each architecture's own ``forward(...).logits`` (issue 7): tiny random models of every
common layout and post-head transform, each scored on a padded batch and compared with a float64
recomputation from the model's own forward, one unpadded sequence at a time."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import transformers as T

from reasonsift.models.introspect import backbone, logit_transform, output_head
from reasonsift.profile.scoring import Request, Scorer

V = 128
PAD, BOS, EOS = 0, 1, 2
COMMON = dict(
    vocab_size=V,
    hidden_size=32,
    num_hidden_layers=1,
    num_attention_heads=2,
    num_key_value_heads=2,
    intermediate_size=64,
    max_position_embeddings=64,
    pad_token_id=PAD,
    bos_token_id=BOS,
    eos_token_id=EOS,
    tie_word_embeddings=False,
)
# name -> (config class, overrides of COMMON; fields a config does not know are dropped in _build).
# The transforms are set to values that bite: Granite divides by 8, Cohere multiplies by 4, Gemma soft-caps
# at 5 while the sharpened head (see _build) gives logits of ~10-20.
ARCHS = {
    "llama": (T.LlamaConfig, dict(num_key_value_heads=1)),
    "qwen2": (T.Qwen2Config, {}),
    "qwen3": (T.Qwen3Config, dict(head_dim=16)),
    "mistral": (T.MistralConfig, dict(sliding_window=64)),
    "gemma2": (T.Gemma2Config, dict(head_dim=16, final_logit_softcapping=5.0, sliding_window=64)),
    "gemma3_text": (T.Gemma3TextConfig, dict(head_dim=16, final_logit_softcapping=5.0, sliding_window=64)),
    "granite": (T.GraniteConfig, dict(logits_scaling=8.0)),
    "granitemoe": (T.GraniteMoeConfig, dict(logits_scaling=8.0, num_local_experts=2, num_experts_per_tok=1)),
    "cohere": (T.CohereConfig, dict(logit_scale=4.0)),
    "cohere2": (T.Cohere2Config, dict(logit_scale=4.0, sliding_window=64)),
    "gpt2": (T.GPT2Config, {}),
    "gpt_neox": (T.GPTNeoXConfig, {}),
    "phi3": (T.Phi3Config, {}),
    "phi": (T.PhiConfig, {}),
    "olmo2": (T.Olmo2Config, {}),
    "olmo": (T.OlmoConfig, {}),
    "opt": (T.OPTConfig, dict(ffn_dim=64, word_embed_proj_dim=32)),
}
# (name, expected body attribute, expected head attribute, expected (scale, softcap) or None)
LAYOUTS = {
    "llama": ("model", "lm_head", None),
    "gemma2": ("model", "lm_head", (1.0, 5.0)),
    "granite": ("model", "lm_head", (1 / 8, None)),
    "cohere": ("model", "lm_head", (4.0, None)),
    "gpt2": ("transformer", "lm_head", None),
    "gpt_neox": ("gpt_neox", "lm_head", None),  # `embed_out` before transformers 5
    "opt": ("model.decoder", "lm_head", None),
}


def _build(name: str, dtype=torch.float32, **overrides):
    cls, kw = ARCHS[name]
    kw = {**kw, **overrides}
    known = set(cls().to_dict()) | set(cls.attribute_map)
    kwargs = {k: v for k, v in {**COMMON, **kw}.items() if v is not None and k in known}
    torch.manual_seed(0)
    # eager attention and experts: the float64 reference needs kernels that take doubles
    impl = {"experts_implementation": "eager"} if "experts" in str(kw) else {}
    model = T.AutoModelForCausalLM.from_config(cls(**kwargs), attn_implementation="eager", **impl).eval()
    with torch.no_grad():
        # Random init gives near-uniform distributions, on which no transform would show; sharpen them to
        # about the same logit scale after each model's own rescaling (fp32's error grows with it).
        output_head(model).weight.mul_(60.0 * kw.get("logits_scaling", 1.0) / kw.get("logit_scale", 1.0))
    return model.to(dtype)


def _requests() -> list[Request]:
    g = torch.Generator().manual_seed(1)
    out = []
    for n, start in ((11, 1), (7, 3), (4, 2)):  # mixed lengths: one padded batch
        out.append(Request(torch.randint(3, V, (n,), generator=g).tolist(), start))
    return out


def _reference(model64, req: Request):
    """Float64 log-probs of every position from the model's own forward on the unpadded sequence."""
    with torch.no_grad():
        z = model64(input_ids=torch.tensor([req.input_ids]), use_cache=False).logits[0].double()
    t = torch.arange(req.score_start, len(req.input_ids))
    return z[t - 1], torch.log_softmax(z[t - 1], -1), torch.tensor(req.input_ids)[t]


def _check(scores, model, reqs, top_k: int, atol: float = 2e-4):
    model64 = copy.deepcopy(model).double()
    for req, sc in zip(reqs, scores, strict=True):
        z, logp, tgt = _reference(model64, req)
        ent = -(logp.exp() * logp).sum(-1)
        np.testing.assert_allclose(sc.entropy, ent.numpy(), atol=atol)
        np.testing.assert_allclose(sc.logprob, logp.gather(-1, tgt[:, None])[:, 0].numpy(), atol=atol)
        # rank = entries strictly more likely than the target; near-ties (1e-4) may go either way in fp32
        zt = z.gather(-1, tgt[:, None])
        lo, hi = (z > zt + 1e-4).sum(-1).numpy(), (z > zt - 1e-4).sum(-1).numpy()
        assert ((lo <= sc.rank) & (sc.rank <= hi)).all()
        top = logp.topk(top_k, -1)
        np.testing.assert_allclose(sc.top_logprobs, top.values.numpy(), atol=atol)
        np.testing.assert_allclose(
            sc.top_logprobs, logp.gather(-1, torch.from_numpy(sc.top_ids).long()), atol=atol
        )
        assert ent.mean() < np.log(V) - 0.5  # far from uniform: a transform has something to change


@pytest.mark.parametrize("name", list(ARCHS))
def test_scorer_matches_float64_forward(name):
    model = _build(name)
    reqs = _requests()
    scorer = Scorer(model, PAD, chunk_rows=5)  # the probe passes, and chunks split rows
    assert scorer.probe_diff is not None and scorer.probe_diff < 1e-3
    _check(scorer.score(reqs, top_k=3, batch_size=8).scores, model, reqs, top_k=3)


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_layout_and_transform_found(name):
    model = _build(name)
    body_attr, head_attr, tf = LAYOUTS[name]
    body = model
    for part in body_attr.split("."):
        body = getattr(body, part)
    assert backbone(model) is body
    assert output_head(model) is getattr(model, head_attr)
    got = logit_transform(model)
    if tf is None:
        assert got is None
    else:
        assert got is not None and (got.scale, got.softcap) == pytest.approx(tf)


@pytest.mark.parametrize("name", ["granite", "cohere", "gemma2"])
def test_probe_refuses_a_missing_transform(name, monkeypatch):
    """Without the transform the numbers are far off, and the start-up probe says so instead of scoring."""
    model = _build(name)
    reqs = _requests()
    ok = Scorer(model, PAD).score(reqs).scores
    monkeypatch.setattr("reasonsift.profile.scoring.logit_transform", lambda m: None)
    with pytest.raises(ValueError, match=rf"{type(model).__name__}.*'{name}'.*--exact-logits"):
        Scorer(model, PAD)
    exact = Scorer(model, PAD, exact=True).score(reqs).scores  # needs no transform: the model's own forward
    for a, b in zip(ok, exact, strict=True):
        np.testing.assert_allclose(a.entropy, b.entropy, atol=1e-4)


@pytest.mark.parametrize("name", ["granite", "gemma2"])
def test_probe_tolerance_in_bfloat16(name, monkeypatch):
    """bf16's looser tolerance still accepts the right transform and still refuses a missing one."""
    model = _build(name, torch.bfloat16)
    assert Scorer(model, PAD).probe_diff is not None
    monkeypatch.setattr("reasonsift.profile.scoring.logit_transform", lambda m: None)
    with pytest.raises(ValueError, match="--exact-logits"):
        Scorer(model, PAD)


@pytest.mark.parametrize("chunk_rows", [1, 11, 1000])  # one sequence per pass, one, all three
def test_exact_mode_matches_float64_forward(chunk_rows):
    model = _build("granite")
    reqs = _requests()
    scorer = Scorer(model, PAD, chunk_rows=chunk_rows, exact=True)
    assert scorer.probe_diff is None  # exact mode needs no probe
    _check(scorer.score(reqs, top_k=4, batch_size=8).scores, model, reqs, top_k=4)


class _TimesThree(T.LlamaForCausalLM):
    """A post-head transform reasonsift has never heard of."""

    def forward(self, *args, **kwargs):
        out = super().forward(*args, **kwargs)
        out.logits = out.logits * 3.0
        return out


def test_unknown_transform_refused_but_exact_is_right():
    torch.manual_seed(0)
    model = _TimesThree(T.LlamaConfig(**COMMON)).eval()
    with torch.no_grad():
        model.lm_head.weight.mul_(20.0)
    with pytest.raises(ValueError, match=r"_TimesThree \(model_type 'llama'\).*max \|log p difference\|"):
        Scorer(model, PAD)
    reqs = _requests()
    _check(Scorer(model, PAD, exact=True).score(reqs, top_k=2).scores, model, reqs, top_k=2)


def test_model_without_known_layout_is_refused():
    class Odd(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = torch.nn.Linear(4, 4)

    with pytest.raises(ValueError, match="backbone of Odd.*--exact-logits"):
        backbone(Odd())
    with pytest.raises(ValueError, match="LM head of Odd.*--exact-logits"):
        output_head(Odd())


def test_cli_refuses_then_exact_logits_runs(tmp_path, tok, examples, monkeypatch):
    """The user's path: a model whose transform is not reproduced stops the run with a clean error that
    names --exact-logits; with the flag the run completes and matches a correctly chunked run."""
    import json

    import pandas as pd
    from typer.testing import CliRunner

    from reasonsift.cli import app

    torch.manual_seed(0)
    cfg = {**COMMON, "vocab_size": len(tok), "pad_token_id": tok.pad_token_id, "logits_scaling": 8.0}
    cfg.update(bos_token_id=None, eos_token_id=None)
    model = T.GraniteForCausalLM(T.GraniteConfig(**cfg)).eval()
    with torch.no_grad():
        model.lm_head.weight.mul_(400.0)
    mdir = tmp_path / "m"
    model.save_pretrained(mdir)
    tok.save_pretrained(mdir)
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(e.to_dict()) + "\n" for e in examples[:3]))
    args = ["profile", str(data), "--model", str(mdir), "--no-ifd", "--no-infogain", "--top-k", "0"]

    r = CliRunner().invoke(app, [*args, "-o", str(tmp_path / "ok")])
    assert r.exit_code == 0, r.output
    monkeypatch.setattr("reasonsift.profile.scoring.logit_transform", lambda m: None)
    r = CliRunner().invoke(app, [*args, "-o", str(tmp_path / "refused")])
    assert r.exit_code == 1 and "--exact-logits" in " ".join(r.output.split()), r.output
    r = CliRunner().invoke(app, [*args, "-o", str(tmp_path / "exact"), "--exact-logits"])
    assert r.exit_code == 0, r.output
    ok, exact = (pd.read_parquet(tmp_path / d / "examples").set_index("id") for d in ("ok", "exact"))
    assert len(ok) == 3
    for a, b in zip(ok["entropy"], exact.loc[ok.index, "entropy"], strict=True):
        np.testing.assert_allclose(a, b, atol=1e-4)


@pytest.mark.parametrize("name", list(ARCHS))
def test_kv_cached_prefixes_match_float64_forward(name):
    """Information gain's KV-cache path (profile/prefix.py) on every architecture: answer NLLs of sequences
    sharing a prefix equal each sequence's own float64 forward; a model whose cache cannot be cropped gives
    None (the profile then uses separate passes), never a wrong number."""
    from reasonsift.profile.prefix import Target, cached_nlls

    model = _build(name)
    g = torch.Generator().manual_seed(2)
    shared = torch.randint(3, V, (20,), generator=g).tolist()
    answer = torch.randint(3, V, (3,), generator=g).tolist()
    targets = []
    for cut in (20, 14, 9, 3):  # prefixes of the shared part, then an "answer" continuation
        ids = shared[:cut] + [4] + answer
        targets.append(Target(ids, np.arange(len(ids) - len(answer), len(ids))))
    got = cached_nlls(Scorer(model, PAD), targets)
    if got is None:
        pytest.skip(f"{name}: cache not croppable here; the profile falls back to separate passes")
    model64 = copy.deepcopy(model).double()
    for t, v in zip(targets, got, strict=True):
        req = Request(t.input_ids, int(t.positions[0]))
        _, logp, tgt = _reference(model64, req)
        assert v == pytest.approx(float(-logp.gather(-1, tgt[:, None]).mean()), abs=2e-4)


PACKS = list(ARCHS)


@pytest.mark.parametrize("name", PACKS)
@pytest.mark.parametrize("pack_length", [12, None])  # rows [11], [7, 4]; one row of all three
def test_packed_scores_match_float64_forward(name, pack_length):
    """Packed rows (position ids restarting per request, no attention mask) score each request as if it
    ran alone: the same float64 reference as the padded path, for every architecture that honours them."""
    model = _build(name)
    reqs = _requests()
    scorer = Scorer(model, PAD, chunk_rows=5, packing=True, pack_length=pack_length)
    assert scorer.pack_diff is not None and scorer.pack_diff < 1e-3
    run = scorer.score(reqs, top_k=3, batch_size=1)  # one row per pass: a row holds several requests
    assert len(run.batches) == (2 if pack_length else 1)
    _check(run.scores, model, reqs, top_k=3)


@pytest.mark.parametrize("name", ["mistral", "gemma2", "gemma3_text", "cohere2"])
def test_packed_sliding_window_matches_float64_forward(name):
    """A window shorter than the sequences (and Gemma's attention soft-cap): the variable-length attention's
    masked path against the model's own eager forward."""
    model = _build(name, sliding_window=4, attn_logit_softcapping=2.0 if "gemma" in name else None)
    reqs = _requests()
    _check(Scorer(model, PAD, packing=True).score(reqs, top_k=3).scores, model, reqs, top_k=3)


def test_packing_refused_where_position_ids_do_not_arrive(monkeypatch):
    """A backbone that drops position_ids (as a model that derives positions itself would): packed sequences
    would see each other, so the start-up probe refuses, naming the architecture; padded scoring still works."""
    model = _build("llama")
    body, forward = model.model, model.model.forward
    monkeypatch.setattr(body, "forward", lambda *a, position_ids=None, **k: forward(*a, **k))
    with pytest.raises(ValueError, match=r"LlamaForCausalLM \(model_type 'llama'\).*Drop --packing"):
        Scorer(model, PAD, packing=True)
    assert model.config._attn_implementation == "eager"  # restored after the probe
    reqs = _requests()
    padded = Scorer(model, PAD).score(reqs, top_k=3).scores  # padded rows pass no position ids
    monkeypatch.undo()
    _check(padded, model, reqs, top_k=3)


def test_packed_exact_mode_matches_float64_forward():
    model = _build("granite")
    reqs = _requests()
    scorer = Scorer(model, PAD, chunk_rows=11, exact=True, packing=True, pack_length=12)
    _check(scorer.score(reqs, top_k=4).scores, model, reqs, top_k=4)
