"""Each profile option against a plain, obviously-correct recomputation from the model's own forward pass.

References use full float64 logits of single unpadded sequences, Python loops and ``torch.quantile``; the engine
uses batching, chunked heads, log-prob-only passes and a KV cache. The built-in char tokenizer renders
``<|user|>q<|assistant|>completion</s>`` (one token per character), so character spans are token spans.
"""

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch

from reasonsift.data.example import Example
from reasonsift.data.render import completion_text, prompt_text
from reasonsift.profile import ProfileConfig, run_profile

U, A, E, BOS = "<|user|>", "<|assistant|>", "</s>", "<s>"


def _run(tmp, model, tok, examples, **kw):
    cfg = ProfileConfig(out_dir=str(tmp), model="tiny", **{"shard_size": 4, **kw})
    return run_profile(cfg, (model, tok), examples=examples)


def _df(res, name="examples"):
    return pd.read_parquet(res.out_dir / name).set_index("id", drop=False)


def _logp(model, tok, text: str, temperature: float = 1.0):
    enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)
    ids = torch.tensor([enc["input_ids"]])
    with torch.no_grad():
        z = model(ids).logits[0].double() / temperature
    return ids[0], enc["offset_mapping"], torch.log_softmax(z, -1)


def _nll(model, tok, text: str, span: tuple[int, int]) -> float:
    """Mean NLL of the tokens whose first character lies in ``span`` (each predicted by the previous position)."""
    ids, offs, logp = _logp(model, tok, text)
    nll = [-float(logp[t - 1, ids[t]]) for t, (s, _) in enumerate(offs) if t > 0 and span[0] <= s < span[1]]
    return sum(nll) / len(nll)


def _full(ex: Example, completion: str | None = None) -> str:
    return f"{U}{prompt_text(ex)}{A}{completion_text(ex) if completion is None else completion}{E}"


@pytest.fixture(scope="module")
def base(tmp_path_factory, model, tok, examples):
    res = _run(tmp_path_factory.mktemp("ref"), model, tok, examples)
    return res, _df(res)


def test_temperature_entropy_and_logprob(tmp_path, model, tok, examples):
    """Entropy and log-prob of softmax(z / T) at T = 2; IFD stays at T = 1 (its own pass)."""
    sub = examples[:3]
    df = _df(_run(tmp_path / "t2", model, tok, sub, temperature=2.0))
    df1 = _df(_run(tmp_path / "t1", model, tok, sub))
    for ex in sub:
        row = df.loc[ex.id]
        ids, _, logp = _logp(model, tok, _full(ex), temperature=2.0)
        s = int(row.score_start)
        pos = torch.arange(s - 1, len(ids) - 1)
        np.testing.assert_allclose(row.entropy, -(logp[pos].exp() * logp[pos]).sum(-1).numpy(), atol=1e-4)
        np.testing.assert_allclose(row.logprob, logp[pos, ids[s:]].numpy(), atol=1e-4)
        assert not np.allclose(row.entropy, df1.loc[ex.id].entropy, atol=1e-2)  # T mattered
        assert row.ifd == pytest.approx(df1.loc[ex.id].ifd, rel=1e-5)


def test_ifd_target_answer(tmp_path, model, tok, examples):
    """--ifd-target answer: s(answer | q, trace) / s(answer | trace), the same answer tokens in both passes."""
    sub = [e for e in examples if e.trace][:3]
    df = _df(_run(tmp_path, model, tok, sub, ifd_target="answer", infogain=False))
    for ex in sub:
        c = completion_text(ex)
        full = _full(ex)
        a0 = len(full) - len(E) - len(ex.answer)
        s_aq = _nll(model, tok, full, (a0, a0 + len(ex.answer)))
        alone = BOS + c
        s_a = _nll(model, tok, alone, (len(alone) - len(ex.answer), len(alone)))
        row = df.loc[ex.id]
        assert row.s_a_given_q == pytest.approx(s_aq, rel=1e-5)
        assert row.s_a == pytest.approx(s_a, rel=1e-5)
        assert row.ifd == pytest.approx(s_aq / s_a, rel=1e-5)


def test_ifd_null_when_question_cut(tmp_path, model, tok, examples):
    """truncate-left that cuts the question: s(A|Q) and IFD are null with a reason, counted in stats.json."""
    ex = next(e for e in examples if e.id == "lines")
    full = _full(ex)
    n = len(tok(full, add_special_tokens=False)["input_ids"])
    keep = n - 3  # drops the <|user|> token and the first two question characters, keeps the completion
    res = _run(tmp_path, model, tok, [ex], max_length=keep, overflow="truncate-left")
    row = _df(res).loc["lines"]
    assert row.n_truncated == 3
    assert row.s_a_given_q is None or math.isnan(row.s_a_given_q)
    assert row.ifd is None or math.isnan(row.ifd)
    assert row.ifd_null_reason == "question_cut"
    assert row.s_a == pytest.approx(_nll(model, tok, BOS + completion_text(ex), (3, 3 + 99)), rel=1e-5)
    stats = json.loads((res.out_dir / "stats.json").read_text())
    assert stats["null_metrics"]["ifd"] == {"question_cut": 1, "over_context": 0}
    assert stats["ifd"] == {"n": 0}


def test_truncation_leaving_nothing_to_score_is_rejected(tmp_path, model, tok, examples):
    with pytest.raises(ValueError, match="max_length"):
        ProfileConfig(out_dir=str(tmp_path), max_length=1)
    with pytest.raises(ValueError, match="all 2 examples were rejected"):
        _run(tmp_path / "r", model, tok, examples[:2], max_length=2, overflow="truncate-left")
    rejects = [json.loads(x) for x in (tmp_path / "r" / "rejects.jsonl").read_text().splitlines()]
    assert len(rejects) == 2 and all("leaves no completion token" in r["reason"] for r in rejects)

    def strict(x):
        raise ValueError(f"non-JSON constant {x}")

    stats = json.loads((tmp_path / "r" / "stats.json").read_text(), parse_constant=strict)
    assert stats["n_profiled"] == 0 and stats["tau"]["dataset"] is None


def test_information_gain_grouped_steps(tmp_path, model, tok):
    """--ig-max-steps groups prefixes; info_gain still divides by n + 1 and equals the ungrouped value."""
    steps = [f"{i}+1={i + 1}" for i in range(1, 8)]
    ex = Example(id="long", question="1+1+1+1+1+1+1+1", answer="8", trace="\n".join(steps))
    full = _df(_run(tmp_path / "all", model, tok, [ex])).loc["long"]
    grouped = _df(_run(tmp_path / "g", model, tok, [ex], ig_max_steps=3)).loc["long"]
    assert len(full.ig_nll) == 8 and len(grouped.ig_nll) == 4
    assert full.ig_n_steps == grouped.ig_n_steps == 7
    nll = []
    for k in range(8):
        text = f"{U}{ex.question}{A}<think>{chr(10).join(steps[:k])}</think>{ex.answer}{E}"
        nll.append(_nll(model, tok, text, (text.index("</think>") + 8, len(text) - len(E))))
    np.testing.assert_allclose(full.ig_nll, nll, rtol=1e-5)
    # groups end at steps round(7/3)=2, round(14/3)=5, 7
    np.testing.assert_allclose(grouped.ig_nll, [nll[0], nll[2], nll[5], nll[7]], rtol=1e-5)
    ppl = np.exp(nll)
    ref = sum(ppl[i - 1] - ppl[i] for i in range(1, 8)) / 8
    assert full.info_gain == pytest.approx(ref, rel=1e-4)
    assert grouped.info_gain == pytest.approx(ref, rel=1e-4)


def test_information_gain_whole_sequence(tmp_path, model, tok, examples):
    ex = next(e for e in examples if e.id == "lines")
    row = _df(_run(tmp_path, model, tok, [ex], ig_whole_sequence=True)).loc["lines"]
    nll = []
    for p in ["", "3+4=7", "3+4=7\n7+5=12"]:
        text = f"{U}{ex.question}{A}<think>{p}</think>{ex.answer}{E}"
        nll.append(_nll(model, tok, text, (1, len(text))))  # every token after the first
    np.testing.assert_allclose(row.ig_nll, nll, rtol=1e-5)


def test_forking_pools_and_threshold(tmp_path, model, tok, examples):
    """Every pool's mask and tau from torch.quantile over exactly that pool's tokens."""
    res = _run(
        tmp_path, model, tok, examples, pool="batch", pool_batch_size=4, seed=7, rho=0.3, threshold=0.5
    )
    df, fk = _df(res), _df(res, "forking.parquet")
    stats = json.loads((res.out_dir / "stats.json").read_text())
    ents = [torch.tensor(h, dtype=torch.float64) for h in df.entropy]
    perm = torch.randperm(len(ents), generator=torch.Generator().manual_seed(7)).tolist()
    batch_tau = {}
    for b in range(0, len(perm), 4):
        idx = perm[b : b + 4]
        tau = float(torch.quantile(torch.cat([ents[i] for i in idx]), 0.7))
        batch_tau.update(dict.fromkeys(idx, tau))
    all_tau = float(torch.quantile(torch.cat(ents), 0.7))
    assert stats["tau"]["dataset"] == pytest.approx(all_tau)
    assert stats["tau"]["batch"]["median"] == pytest.approx(float(np.median(list(batch_tau.values()))))
    assert stats["forking_pool"] == "batch"
    for i, (h, f) in enumerate(zip(ents, fk.itertuples(), strict=True)):
        assert list(f.forking_batch) == (h >= batch_tau[i]).tolist()
        assert list(f.forking) == list(f.forking_batch)  # the chosen pool
        assert f.n_forking == sum(f.forking_batch)
        assert list(f.forking_dataset) == (h >= all_tau).tolist()
        assert list(f.forking_fixed) == (h >= 0.5).tolist()
        seq_tau = float(torch.quantile(h, 0.7))
        assert list(df.iloc[i].forking_sequence) == (h >= seq_tau).tolist()
    # The batch pool really differs from the dataset pool here (else this test could not tell them apart).
    assert any(list(f.forking_batch) != list(f.forking_dataset) for f in fk.itertuples())
    seq = _df(_run(tmp_path / "seq", model, tok, examples, pool="sequence", rho=0.3), "forking.parquet")
    for f, s in zip(seq.itertuples(), df.forking_sequence, strict=True):
        assert list(f.forking) == list(s)


def test_compare_overlap_recomputed(tmp_path, model, tok, examples, make_model):
    other = make_model(tok, seed=1)
    res = run_profile(
        ProfileConfig(out_dir=str(tmp_path), model="tiny", compare_model="o", ifd=False, infogain=False),
        (model, tok),
        examples=examples,
        compare_model=(other, tok),
    )
    df = _df(res)
    a = torch.tensor(np.concatenate(df.entropy.to_list()), dtype=torch.float64)
    b = torch.tensor(np.concatenate(df.compare_entropy.to_list()), dtype=torch.float64)
    ma, mb = a >= torch.quantile(a, 0.8), b >= torch.quantile(b, 0.8)
    ref = float((ma & mb).sum()) / float(ma.sum())
    assert res.stats["compare"]["overlap_dataset_pool"] == pytest.approx(ref)
    assert 0.05 < ref < 0.95  # two different random models: a partial overlap, neither none nor all


def test_rows_keep_every_example_field(base, examples):
    _, df = base
    for ex in examples:
        row = df.loc[ex.id]
        got = {k: row[k] for k in ex.to_dict()}
        got["meta"] = json.loads(got["meta"])
        got["choices"] = None if got["choices"] is None else list(got["choices"])
        assert got == ex.to_dict()
    assert list(df.loc["mc"].choices) == ["3", "4"]


def test_duplicate_ids_refused(tmp_path, model, tok, examples):
    with pytest.raises(ValueError, match="not unique"):
        _run(tmp_path, model, tok, [examples[0], examples[0]])


def test_profile_run_reads_back_as_data(base, examples, tmp_path):
    """`reasonsift data convert RUN -o out.jsonl`: the profile run is a dataset of the same Examples."""
    from typer.testing import CliRunner

    from reasonsift.cli import app
    from reasonsift.data.io import read_examples

    res, _ = base
    back = read_examples(str(res.out_dir))
    assert back.container == "run" and back.format == "native"
    assert [e.to_dict() for e in back.examples] == [e.to_dict() for e in examples]
    out = tmp_path / "out.jsonl"
    r = CliRunner().invoke(app, ["data", "convert", str(res.out_dir), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert [e.to_dict() for e in read_examples(str(out)).examples] == [e.to_dict() for e in examples]
    (res.out_dir / "examples" / "_part-00001.done").rename(tmp_path / "marker")  # an unfinished run
    try:
        with pytest.raises(Exception, match="unfinished"):
            read_examples(str(res.out_dir))
    finally:
        (tmp_path / "marker").rename(res.out_dir / "examples" / "_part-00001.done")
