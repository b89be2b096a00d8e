import json
import math

import numpy as np
import pandas as pd
import pytest
import torch

from reasonsift.data.render import completion_text, prompt_text
from reasonsift.profile import ProfileConfig, run_profile
from reasonsift.profile.render import REVERSE_PROMPT

U, A, E, BOS = "<|user|>", "<|assistant|>", "</s>", "<s>"


def _run(tmp, model, tok, examples, **kw):
    cfg = ProfileConfig(out_dir=str(tmp), model="tiny", **{"shard_size": 4, **kw})
    return run_profile(cfg, (model, tok), examples=examples)


def _df(res):
    return pd.read_parquet(res.out_dir / "examples").set_index("id", drop=False)


@pytest.fixture(scope="module")
def base(tmp_path_factory, model, tok, examples):
    res = _run(tmp_path_factory.mktemp("base"), model, tok, examples)
    return res, _df(res)


def _nll_of(model, tok, text: str, span: tuple[int, int]) -> float:
    """Plain forward pass; mean NLL of the tokens whose characters lie in ``span`` (char tokenizer)."""
    enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)
    ids = torch.tensor([enc["input_ids"]])
    with torch.no_grad():
        logp = torch.log_softmax(model(ids).logits[0].double(), -1)
    nll = [
        -float(logp[t - 1, ids[0, t]])
        for t, (s, _) in enumerate(enc["offset_mapping"])
        if t > 0 and span[0] <= s < span[1]
    ]
    return sum(nll) / len(nll)


def _span(text: str, piece: str, after: int = 0) -> tuple[int, int]:
    i = text.index(piece, after)
    return i, i + len(piece)


def test_ifd_and_rifd_from_plain_passes(base, model, tok, examples):
    _, df = base
    for ex in examples[:2] + examples[-3:]:
        q, c = prompt_text(ex), completion_text(ex)
        full = f"{U}{q}{A}{c}{E}"
        s_aq = _nll_of(model, tok, full, _span(full, c, len(U + q + A)))
        s_a = _nll_of(model, tok, BOS + c, (len(BOS), len(BOS + c)))
        rev = f"{U}{REVERSE_PROMPT.format(response=c)}{A}{q}{E}"
        start = len(rev) - len(q + E)
        nll_qa = _nll_of(model, tok, rev, (start, start + len(q)))
        nll_q = _nll_of(model, tok, BOS + q, (len(BOS), len(BOS + q)))
        row = df.loc[ex.id]
        assert row.s_a_given_q == pytest.approx(s_aq, rel=1e-5)
        assert row.s_a == pytest.approx(s_a, rel=1e-5)
        assert row.ifd == pytest.approx(s_aq / s_a, rel=1e-5)
        assert row.r_ifd == pytest.approx(math.exp(nll_qa) / math.exp(nll_q), rel=1e-4)


def test_information_gain_by_direct_evaluation(base, model, tok, examples):
    _, df = base
    ex = next(e for e in examples if e.id == "lines")  # steps "3+4=7", "7+5=12"
    prefixes = ["", "3+4=7", "3+4=7\n7+5=12"]
    nll = []
    for p in prefixes:
        text = f"{U}{ex.question}{A}<think>{p}</think>{ex.answer}{E}"
        nll.append(_nll_of(model, tok, text, _span(text, ex.answer, text.index("</think>"))))
    row = df.loc["lines"]
    np.testing.assert_allclose(row.ig_nll, nll, rtol=1e-5)
    np.testing.assert_allclose(row.ig_gains, [nll[0] - nll[1], nll[1] - nll[2]], atol=1e-5)
    ppl = np.exp(nll)
    assert row.info_gain == pytest.approx(((ppl[0] - ppl[1]) + (ppl[1] - ppl[2])) / 3, rel=1e-4)
    assert row.ig_total == pytest.approx(nll[0] - nll[2], abs=1e-5)
    assert len(df.loc["notrace"].ig_nll) == 1 and not df.loc["notrace"].posthoc


def test_dataset_pool_and_outputs(base):
    res, df = base
    stats = json.loads((res.out_dir / "stats.json").read_text())
    allh = torch.tensor(np.concatenate(df.entropy.to_list()), dtype=torch.float64)
    tau = float(torch.quantile(allh, 0.8))
    assert stats["tau"]["dataset"] == pytest.approx(tau)
    fk = pd.read_parquet(res.out_dir / "forking.parquet")
    assert list(fk.id) == list(df.id)  # input order
    for h, f in zip(df.entropy, fk.forking, strict=True):
        assert list(f) == list(np.asarray(h, np.float64) >= tau)
    manifest = json.loads((res.out_dir / "manifest.json").read_text())
    assert manifest["models"]["student"]["weights_sha256"] and manifest["config"]["rho"] == 0.2
    assert set(manifest["versions"]) >= {"torch", "transformers"}
    # segments cover the scored tokens and the entropy row summary matches
    row = df.iloc[0]
    assert len(row.segment) == len(row.entropy) == row.n_tokens == len(row.input_ids) - row.score_start
    assert row.H_mean == pytest.approx(float(np.mean(row.entropy)), rel=1e-5)


def test_batch_size_invariance(base, tmp_path, model, tok, examples):
    subset = examples[:4] + examples[-3:]
    df1 = _df(_run(tmp_path, model, tok, subset, batch_size=1))
    df16 = base[1].loc[df1.index]
    for col in ("entropy", "logprob"):
        for a, b in zip(df1[col], df16[col], strict=True):
            np.testing.assert_allclose(a, b, atol=1e-5)
    np.testing.assert_allclose(df1.ifd, df16.ifd, rtol=1e-5)
    np.testing.assert_allclose(df1.info_gain, df16.info_gain, rtol=1e-4, atol=1e-6)


def test_packing_equals_padded(base, tmp_path, model, tok, examples):
    """--packing reaches every pass (main, IFD, information-gain prefixes) and changes numbers only at float
    rounding; the forking mask and the counters agree, with less padding."""
    res, ref = base
    packed = _run(tmp_path, model, tok, examples, packing=True, pack_length=64)
    got = _df(packed)
    assert list(got.index) == list(ref.index)
    for col in ("entropy", "logprob"):
        for a, b in zip(got[col], ref[col], strict=True):
            np.testing.assert_allclose(a, b, atol=5e-5)
    np.testing.assert_allclose(got.ifd, ref.ifd, rtol=1e-4)
    np.testing.assert_allclose(got.info_gain, ref.info_gain, rtol=1e-3, atol=1e-5)
    s_pack = json.loads((tmp_path / "stats.json").read_text())
    s_pad = json.loads((res.out_dir / "stats.json").read_text())
    assert s_pack["scored_tokens"] == s_pad["scored_tokens"] and s_pack["tokens"] == s_pad["tokens"]
    assert s_pack["padded_tokens"] < s_pad["padded_tokens"]
    assert s_pack["tau"]["dataset"] == pytest.approx(s_pad["tau"]["dataset"], rel=1e-5)


def test_resume_equals_uninterrupted(base, tmp_path, model, tok, examples):
    _, ref = base

    def crash(i):
        if i == 1:
            raise RuntimeError("killed")

    cfg = ProfileConfig(out_dir=str(tmp_path), model="tiny", shard_size=4)
    with pytest.raises(RuntimeError, match="killed"):
        run_profile(cfg, (model, tok), examples=examples, on_shard=crash)
    assert not (tmp_path / "stats.json").exists()
    with pytest.raises(ValueError, match="--resume"):
        run_profile(cfg, (model, tok), examples=examples)
    with pytest.raises(ValueError, match="rho"):
        run_profile(
            ProfileConfig(out_dir=str(tmp_path), model="tiny", shard_size=4, rho=0.5, resume=True),
            (model, tok),
            examples=examples,
        )
    done = []
    cfg = ProfileConfig(out_dir=str(tmp_path), model="tiny", shard_size=4, resume=True)
    res = run_profile(cfg, (model, tok), examples=examples, on_shard=done.append)
    assert done == [2, 3]  # shards 0 and 1 were kept from the killed run
    got = _df(res)
    pd.testing.assert_frame_equal(got, ref)
    a = pd.read_parquet(tmp_path / "forking.parquet")
    pd.testing.assert_frame_equal(a, pd.read_parquet(base[0].out_dir / "forking.parquet"))


def test_overflow_reject_and_truncate(tmp_path, model, tok, examples):
    lens = {
        e.id: len(
            tok(f"{U}{prompt_text(e)}{A}{completion_text(e)}{E}", add_special_tokens=False)["input_ids"]
        )
        for e in examples
    }
    limit = sorted(lens.values())[len(lens) // 2]
    over = {i for i, n in lens.items() if n > limit}
    res = _run(tmp_path / "r", model, tok, examples, max_length=limit, infogain=False)
    rej = [json.loads(x) for x in (res.out_dir / "rejects.jsonl").read_text().splitlines()]
    assert {r["id"] for r in rej} == over and all("over the context" in r["reason"] for r in rej)
    assert res.n_rejected == len(over) and res.stats["n_rejected"] == len(over)
    res = _run(
        tmp_path / "t", model, tok, examples, max_length=limit, overflow="truncate-left", infogain=False
    )
    df = _df(res)
    assert len(df) == len(examples) and res.stats["n_truncated"] == len(over)
    for i in over:
        row = df.loc[i]
        assert len(row.input_ids) == limit and row.n_truncated == lens[i] - limit


def test_compare_model_overlap(tmp_path, model, tok, examples, make_model):
    res = run_profile(
        ProfileConfig(
            out_dir=str(tmp_path / "same"), model="tiny", compare_model="same", ifd=False, infogain=False
        ),
        (model, tok),
        examples=examples,
        compare_model=(model, tok),
    )
    assert res.stats["compare"]["overlap_dataset_pool"] == pytest.approx(1.0)
    other = make_model(tok, seed=1)
    res = run_profile(
        ProfileConfig(
            out_dir=str(tmp_path / "other"), model="tiny", compare_model="o", ifd=False, infogain=False
        ),
        (model, tok),
        examples=examples,
        compare_model=(other, tok),
    )
    assert 0.0 <= res.stats["compare"]["overlap_dataset_pool"] < 1.0


def test_duckdb_query_from_docs(base):
    duckdb = pytest.importorskip("duckdb")
    res, df = base
    run = str(res.out_dir)
    q = f"""
        SELECT id, ifd, H_mean, list_count(list_filter(f.forking, lambda x: x)) AS n_forking
        FROM read_parquet('{run}/examples/*.parquet') e JOIN read_parquet('{run}/forking.parquet') f USING (id)
        WHERE ifd < 1 ORDER BY H_mean DESC LIMIT 5
    """
    out = duckdb.sql(q).df()
    assert 0 < len(out) <= 5 and (out.ifd < 1).all()
    assert list(out.H_mean) == sorted(out.H_mean, reverse=True)


def test_scorer_model_scores_ifd_and_ig(tmp_path, model, tok, examples, make_model):
    other = make_model(tok, seed=1)
    sub = examples[-3:]
    a = _df(
        run_profile(
            ProfileConfig(out_dir=str(tmp_path / "a"), model="s", scorer_model="o"),
            (model, tok),
            examples=sub,
            scorer_model=(other, tok),
        )
    )
    b = _df(_run(tmp_path / "b", other, tok, sub))
    np.testing.assert_allclose(a.ifd, b.ifd, rtol=1e-5)
    np.testing.assert_allclose(a.info_gain, b.info_gain, rtol=1e-4, atol=1e-6)
    c = _df(_run(tmp_path / "c", model, tok, sub))
    for x, y in zip(a.entropy, c.entropy, strict=True):  # token entropies stay the student's
        np.testing.assert_allclose(x, y, atol=1e-6)


def test_resume_refuses_changed_data_and_dtype(tmp_path, model, tok, examples):
    def crash(i):
        raise RuntimeError("killed")

    cfg = ProfileConfig(out_dir=str(tmp_path), model="tiny", shard_size=4, ifd=False, infogain=False)
    with pytest.raises(RuntimeError, match="killed"):
        run_profile(cfg, (model, tok), examples=examples[:8], on_shard=crash)
    resume = ProfileConfig(**{**cfg.to_dict(), "resume": True})
    with pytest.raises(ValueError, match="^data: .*is not the data"):  # a different dataset: not mixed in
        run_profile(resume, (model, tok), examples=examples[1:9])
    bf16 = type(model)(model.config).to(torch.bfloat16)  # dtype "auto" resolving elsewhere to bfloat16
    with pytest.raises(ValueError, match="^dtype: resolves to 'bfloat16' now but was 'float32'"):
        run_profile(resume, (bf16, tok), examples=examples[:8])
    assert run_profile(resume, (model, tok), examples=examples[:8]).n_profiled == 8


def test_failed_start_does_not_block_a_rerun(tmp_path, model, tok, examples):
    data = tmp_path / "d.jsonl"
    cfg = ProfileConfig(
        data=str(data), out_dir=str(tmp_path / "run"), model="tiny", ifd=False, infogain=False
    )
    with pytest.raises(FileNotFoundError):
        run_profile(cfg, (model, tok))
    assert not (tmp_path / "run" / "config.json").exists()
    data.write_text("".join(json.dumps(e.to_dict()) + "\n" for e in examples[:3]))
    res = run_profile(cfg, (model, tok))  # no --resume or --overwrite needed
    manifest = json.loads((res.out_dir / "manifest.json").read_text())
    assert manifest["stage"] == "profile" and manifest["resolved"] == {"dtype": "float32"}
    assert (
        manifest["inputs"][0]["sha256"]
        == json.loads((res.out_dir / "config.json").read_text())["inputs"]["data"]["sha256"]
    )
