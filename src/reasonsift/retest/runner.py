"""``reasonsift retest CLAIM|all``: run each claim's arms, compute its verdict by the rule written in its
spec, and write ``verdicts.json``, ``report.md`` and ``report.html`` (docs/retest.md)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from reasonsift.retest.common import ARMS_DIR
from reasonsift.retest.report import markdown, page
from reasonsift.retest.spec import ClaimSpec, all_specs, get_spec
from reasonsift.retest.stats import arm_summary, check_scores, compare
from reasonsift.run import MANIFEST_FILE, RunDir, StageConfig, build_manifest, input_record, run_record
from reasonsift.utils.io import atomic_write_text

VERDICTS_FILE, REPORT_MD, REPORT_HTML = "verdicts.json", "report.md", "report.html"


@dataclass
class RetestConfig(StageConfig):
    RUNTIME_ONLY: ClassVar[tuple[str, ...]] = ("overwrite",)

    claim: str = "all"  # all, one claim id, or ids separated by commas
    model: str | None = None  # None: the built-in model
    data: str | None = None  # None: the built-in tasks
    test_data: str | None = None  # held-out examples (default: a 20% hold-out of --data)
    trained: str | None = None  # a post-trained model of --model (C2, C6; default: SFT it here)
    seeds: int = 3
    quick: bool = False
    steps: int | None = None  # override the claim's training steps (tests, quick looks)
    n_test: int | None = None  # override the number of held-out questions
    out_dir: str = ""
    overwrite: bool = False

    def __post_init__(self) -> None:
        if self.seeds < 1:
            raise ValueError(f"seeds: expected >= 1, got {self.seeds}")
        for name in ("steps", "n_test"):
            v = getattr(self, name)
            if v is not None and v < 1:
                raise ValueError(f"{name}: expected >= 1, got {v}")
        if self.test_data and not self.data:
            raise ValueError("test_data: --test-data needs --data")
        if self.claim != "all":
            for c in self.claims():
                get_spec(c)  # raises on an unknown claim

    def claims(self) -> list[str]:
        """The claims asked for: ``all``, one id, or ids separated by commas (``C1,C2,C5``)."""
        return [c.strip() for c in self.claim.split(",") if c.strip()]

    @property
    def seed_list(self) -> list[int]:
        return list(range(self.seeds))

    def validate(self) -> None:
        if not self.out_dir:
            raise ValueError("out_dir: not given")


def verdict_entry(spec: ClaimSpec, scores: dict, facts: dict, notes: list[str], seeds: list[int],
                  metrics: dict | None = None, effect: dict | None = None) -> dict:  # fmt: skip
    """The ``verdicts.json`` entry of one claim from its arms' scores (the rule decides the verdict): the
    paired difference of the rule's two arms, or the spec's own ``effect`` (``ClaimSpec.custom_effect``)."""
    check_scores(scores)
    metrics = metrics or {}
    for m in metrics.values():
        check_scores(m)
    r = spec.rule
    if spec.custom_effect:
        if effect is None:
            raise ValueError(f"claim {spec.id}: the spec computes its effect but the run gave none")
        main = {"diff": effect["diff"], "ci_low": effect["ci_low"], "ci_high": effect["ci_high"],
                "cohens_d": effect.get("cohens_d", float("nan"))}  # fmt: skip
    else:
        main = compare(scores[r.a], scores[r.b])
    what = dict(spec.arms)
    arms = {}
    for name, s in scores.items():
        arms[name] = {"metric": arm_summary(s), "what": what.get(name, ""), **facts.get(name, {})}
        other = {m: arm_summary(v[name]) for m, v in metrics.items() if name in v}
        if other:
            arms[name]["metrics"] = other
    return {
        "id": spec.id,
        "title": spec.title,
        "claim": spec.claim,
        "verdict": r.decide(main["diff"], main["ci_low"], main["ci_high"]),
        "rule": r.text(),
        "rule_a": r.a,
        "rule_b": r.b,
        "metric": r.metric,
        "unit": r.unit,
        "margin": r.margin,
        "effect": main["diff"],
        "ci_low": main["ci_low"],
        "ci_high": main["ci_high"],
        "cohens_d": main["cohens_d"],
        "seeds": seeds,
        "arms": arms,
        "comparisons": [
            {"a": a, "b": b, **compare(scores[a], scores[b])}
            for a, b in spec.comparisons
            if a in scores and b in scores
        ],
        "source": spec.source,
        "attribution_note": spec.attribution_note,
        "needs": spec.needs,
        "notes": notes,
        "caveat": spec.caveat,
        "n_questions": int(next(iter(scores.values())).shape[0]),
    }


def main(cfg: RetestConfig, on_claim=None) -> dict[str, Any]:
    """Run the claims, write the run's files; return ``{claim: entry}``."""
    cfg.validate()
    specs = all_specs() if cfg.claim == "all" else [get_spec(c) for c in cfg.claims()]
    out = Path(cfg.out_dir)
    run = RunDir(
        out,
        stage="retest",
        outputs=(VERDICTS_FILE, REPORT_MD, REPORT_HTML, "C*", "s1", "limo", ARMS_DIR, "data"),
    )
    inputs = {k: input_record(v) for k, v in (("data", cfg.data), ("test_data", cfg.test_data)) if v}
    run.begin(run_record("retest", cfg, inputs), resume=False, overwrite=cfg.overwrite)
    verdicts: dict[str, dict] = {}
    for spec in specs:
        if on_claim:
            on_claim(spec.id)
        res = spec.run(cfg, out / spec.id)
        verdicts[spec.id] = verdict_entry(
            spec, res.scores, res.facts, res.notes, cfg.seed_list, res.metrics, res.effect
        )
        _write(run, out, cfg, verdicts, inputs)  # after each claim: a long run shows what it has
    return verdicts


def _write(run: RunDir, out: Path, cfg: RetestConfig, verdicts: dict, inputs: dict) -> None:
    train_inputs = [input_record(p) for p in sorted([*out.glob("*/train.jsonl"), *out.glob("data/*.jsonl")])]
    manifest = build_manifest(
        "retest",
        cfg.to_dict(),
        inputs=[*inputs.values(), *train_inputs],
        result={cid: e["verdict"] for cid, e in verdicts.items()},
    )
    run.write_json(VERDICTS_FILE, verdicts)
    run.write_json(MANIFEST_FILE, manifest)
    atomic_write_text(out / REPORT_MD, markdown(verdicts, manifest))
    atomic_write_text(out / REPORT_HTML, page(verdicts, manifest))
