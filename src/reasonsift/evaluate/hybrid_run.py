"""``reasonsift eval --hybrid-base``: the C2 hybrid-decoding report of an eval run (``hybrid.json``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reasonsift.evaluate.stage import EvalStageConfig, Question


def hybrid_report(cfg: EvalStageConfig, qs: list[Question], trained, max_new: int) -> dict:
    """CLAIMS.md C2 on these questions: accuracy of the base model, of the evaluated (trained) model and of
    hybrid decoding (steer where the greedy tokens differ; and only at the base model's forking tokens),
    fraction steered, and gap recovered with a bootstrap CI over questions (docs/evaluate.md)."""
    import numpy as np

    from reasonsift.evaluate.hybrid import gap_recovered_ci, hybrid_decode
    from reasonsift.evaluate.stage import render_prompt
    from reasonsift.evaluate.verify import verify_all
    from reasonsift.models.load import load_with

    base, _ = load_with(cfg, cfg.hybrid_base)
    lm, tok = trained
    prompts = [render_prompt(tok, q.ex) for q in qs]
    exs = [q.ex for q in qs]
    kw = dict(max_new_tokens=max_new, batch_size=cfg.batch_size)
    arms = {
        "base": hybrid_decode(base, lm, tok, prompts, only_forking=True, threshold=float("inf"), **kw),
        "trained": hybrid_decode(
            base, lm, tok, prompts, **kw
        ),  # steering wherever they differ = trained greedy
        "hybrid_forking": hybrid_decode(base, lm, tok, prompts, only_forking=True, rho=cfg.hybrid_rho, **kw),
    }
    correct = {}
    out: dict = {
        "base_model": cfg.hybrid_base,
        "trained_model": cfg.model,
        "n_questions": len(qs),
        "arms": {},
    }
    for name, res in arms.items():
        outcomes = verify_all(
            res.texts, exs, timeout=cfg.verifier_timeout, workers=cfg.workers, kind=cfg.verifier
        )
        correct[name] = np.array([o.correct for o in outcomes], dtype=np.float64)
        out["arms"][name] = {
            "accuracy": float(correct[name].mean()) if len(qs) else None,
            "fraction_steered": res.fraction_steered,
            "states": {
                st: sum(o.state == st for o in outcomes) for st in sorted({o.state for o in outcomes})
            },
        }
    out["arms"]["hybrid_forking"]["threshold"] = arms["hybrid_forking"].threshold
    out["arms"]["hybrid_forking"]["rho"] = cfg.hybrid_rho
    out["gap_recovered"] = {
        "hybrid_forking": gap_recovered_ci(
            correct["base"], correct["trained"], correct["hybrid_forking"], seed=cfg.seed
        )
    }
    out["note"] = (
        "steering wherever the models disagree reproduces the trained model's greedy decoding (its gap recovered "
        "is 1 by construction); its fraction_steered is the informative number. The forking-only arm is the test."
    )
    return out
