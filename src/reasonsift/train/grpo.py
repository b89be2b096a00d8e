"""GRPO with verifiable rewards on TRL's ``GRPOTrainer``, with forking-token and control masks.

Prompts are the user turn ``reasonsift eval`` renders (:func:`reasonsift.data.render.prompt_text`, through the
model's chat template), from a built-in task (``task``) or a data file (``data``). The reward of a completion
is its verifier's outcome (:mod:`reasonsift.evaluate.verify`: 1 for ``correct``, else 0), plus
``format_reward`` when it gives any extractable answer; each step's outcomes are counted by state.

The policy-gradient loss is TRL's (``loss_type``: dapo, grpo, bnpo, dr_grpo). TRL restricts it to high-entropy
tokens with ``top_entropy_quantile`` (arXiv 2506.01939) through its hook ``get_high_entropy_mask``; this module
overrides that hook to choose

* ``mask``: ``all`` completion tokens, ``forking`` (top ``rho`` by entropy), ``bottom`` (the rest) or
  ``random`` (as many as ``forking`` keeps in each sequence, drawn uniformly: the control);
* ``pool``: ``micro-batch`` (TRL's own: the micro-batch's completion tokens, gathered over processes),
  ``batch`` (every completion token of the optimizer step) or ``sequence`` (each completion alone);
* ``normalize``: ``all`` (the loss type's own divisor over all completion tokens: the paper) or ``selected``
  (the selected tokens instead: its code).

It also logs, per optimizer step, the kept fraction, entropy percentiles and the overlap of the forking
positions with the starting model's on the same completions (``curves.jsonl``).
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import torch

from reasonsift.ops.loss_masks import NORMALIZERS, bottom_mask, forking_loss_mask, random_matched_mask
from reasonsift.ops.masks import DEFAULT_RHO, check_rho, forking_threshold, threshold_mask
from reasonsift.run import (
    RunDir,
    StageConfig,
    examples_input,
    model_identity,
    run_record,
)
from reasonsift.train.common import (
    CURVES_FILE,
    OUTPUTS,
    absolute_base,
    append_curve,
    as_float,
    check_common,
    lora_config,
    resolve_device,
    resume_point,
    train_to_end,
    trainer_args,
)

GRPO_MASKS = ("all", "forking", "bottom", "random")
GRPO_POOLS = ("micro-batch", "batch", "sequence")
LOSS_TYPES = ("dapo", "grpo", "bnpo", "dr_grpo")
STATES = ("correct", "wrong", "no_answer", "timeout", "error")
PERCENTILES = (10, 50, 90)


@dataclass
class GRPORunConfig(StageConfig):
    RUNTIME_ONLY: ClassVar[tuple[str, ...]] = ("resume", "overwrite", "save_every", "device", "report_to")

    model: str = ""
    task: str | None = None  # a built-in task (or gym:NAME): prompts generated from its train split
    data: str | None = None  # or a data file of examples with answers
    out_dir: str = ""
    n_prompts: int = 1024  # with --task: how many train items
    difficulty: int | None = None  # with --task: the task's difficulty (None = its default)
    data_seed: int = 0  # with --task: the items' seed
    verifier: str = "auto"  # evaluate's verifier kind: auto, task, mc, math, exact
    format_reward: float = 0.0  # added when the completion gives an extractable answer (0 = correctness only)
    mask: str = "all"  # tokens in the policy loss: all, forking, bottom, random
    rho: float = DEFAULT_RHO  # forking share: TRL's top_entropy_quantile
    pool: str = "micro-batch"  # where the entropy quantile is taken: micro-batch (TRL's), batch, sequence
    normalize: str = "all"  # all completion tokens (the paper) or the selected tokens (its code)
    loss_type: str = "dapo"  # TRL's: dapo, grpo, bnpo, dr_grpo
    num_generations: int = 8  # completions per prompt (the group)
    batch_size: int = 64  # completions per device per micro-batch (a multiple of num_generations)
    grad_accum: int = 1  # micro-batches per optimizer step
    max_steps: int = 100
    lr: float = 1e-5
    lr_scheduler: str = "constant"
    warmup_steps: int = 0
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    temperature: float = 1.0
    beta: float = 0.0  # KL coefficient to the starting model (TRL's default 0)
    epsilon: float = 0.2  # PPO clip
    max_completion_length: int | None = None  # None: twice the longest reference completion + 16 (as eval)
    lora: bool = False  # Tina preset: r 32, alpha 128, all linear projections
    overlap_every: int = 1  # forking-position overlap with the starting model every N steps (0 = never)
    seed: int = 0
    save_every: int = 50
    report_to: str = "none"
    device: str = "auto"
    resume: bool = False
    overwrite: bool = False

    def __post_init__(self) -> None:
        for name, allowed in (
            ("mask", GRPO_MASKS),
            ("pool", GRPO_POOLS),
            ("normalize", NORMALIZERS),
            ("loss_type", LOSS_TYPES),
        ):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name}: expected one of {', '.join(allowed)}, got {getattr(self, name)!r}")
        check_rho(self.rho)
        check_common(self)
        for name in ("n_prompts", "grad_accum"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: expected >= 1, got {getattr(self, name)}")
        if self.num_generations < 2:
            raise ValueError(f"num_generations: expected >= 2 (a group), got {self.num_generations}")
        if self.batch_size % self.num_generations:
            raise ValueError(
                f"batch_size: {self.batch_size} completions is not a multiple of num_generations "
                f"{self.num_generations}"
            )
        if not self.temperature > 0:
            raise ValueError(f"temperature: expected > 0, got {self.temperature}")
        if self.max_completion_length is not None and self.max_completion_length < 1:
            raise ValueError(f"max_completion_length: expected >= 1, got {self.max_completion_length}")
        if self.overlap_every < 0:
            raise ValueError(f"overlap_every: expected >= 0, got {self.overlap_every}")
        if self.normalize == "selected" and self.mask != "all":
            if self.loss_type == "dr_grpo":
                raise ValueError(
                    "normalize: 'selected' has no meaning for loss_type dr_grpo (a constant divisor)"
                )
            if self.loss_type == "dapo" and self.grad_accum > 1:
                raise ValueError(
                    "normalize: 'selected' with loss_type dapo needs grad_accum 1 (dapo divides by the "
                    "whole optimizer step's tokens)"
                )

    def validate(self) -> None:
        if not self.model:
            raise ValueError("model: not given")
        if not self.out_dir:
            raise ValueError("out_dir: not given")
        if (self.task is None) == (self.data is None):
            raise ValueError("task: give exactly one of --task and --data")


# -- prompts and rewards -------------------------------------------------------------------------------


def load_examples(cfg: GRPORunConfig) -> list:
    """The training items: ``n_prompts`` train items of ``task``, or every example of ``data`` (each must
    have an answer to verify against)."""
    if cfg.task is not None:
        from reasonsift.tasks import get_task

        return get_task(cfg.task).generate(
            cfg.n_prompts, seed=cfg.data_seed, split="train", difficulty=cfg.difficulty
        )
    from reasonsift.data.io import read_examples

    examples = read_examples(cfg.data).examples
    if not examples:
        raise ValueError(f"data: {cfg.data} holds no examples")
    for i, ex in enumerate(examples, 1):
        if not str(ex.answer).strip():
            raise ValueError(
                f"data: {cfg.data}: record {i} ({ex.id!r}): field 'answer' is empty; GRPO needs it"
            )
    return examples


def prompt_rows(examples) -> list[dict]:
    """TRL's conversational prompt format (TRL applies the chat template with the generation prompt, as
    ``reasonsift eval`` renders it) and the example itself, for the reward function."""
    from reasonsift.data.render import prompt_text

    return [
        {"prompt": [{"role": "user", "content": prompt_text(ex)}], "example": json.dumps(ex.to_dict())}
        for ex in examples
    ]


class VerifierReward:
    """A TRL reward function: 1 for a correct completion, else 0, plus ``format_reward`` for any extractable
    answer. Counts the outcomes by state until :meth:`take`."""

    def __init__(self, kind: str = "auto", format_reward: float = 0.0):
        self.kind, self.format_reward = kind, format_reward
        self.__name__ = "verifier"  # TRL logs rewards under the function's name
        self.counts: Counter[str] = Counter()
        self._examples: dict[str, Any] = {}

    def __call__(self, prompts, completions, example, **_: Any) -> list[float]:
        from reasonsift.data.example import Example
        from reasonsift.evaluate.verify import verify_all

        texts = [c if isinstance(c, str) else c[-1]["content"] for c in completions]
        exs = []
        for e in example:
            if e not in self._examples:
                self._examples[e] = Example.from_dict(json.loads(e))
            exs.append(self._examples[e])
        outcomes = verify_all(texts, exs, kind=self.kind)
        self.counts.update(o.state for o in outcomes)
        return [
            float(o.correct)
            + (self.format_reward if o.state not in ("no_answer", "error", "timeout") else 0.0)
            for o in outcomes
        ]

    def take(self) -> dict[str, int]:
        out = {s: self.counts.get(s, 0) for s in STATES}
        self.counts.clear()
        return out


# -- the token mask ------------------------------------------------------------------------------------


def select_tokens(
    mask: str,
    forking: torch.Tensor,
    completion: torch.Tensor,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """The tokens in the policy loss, ``[B, T]`` bool, given the forking mask of the chosen pool."""
    completion = completion.bool()
    if mask == "all":
        return completion
    if mask == "forking":
        return forking & completion
    if mask == "bottom":
        return bottom_mask(forking, completion)
    return random_matched_mask(completion, (forking & completion).sum(1), generator)


def selected_weights(sel: torch.Tensor, completion: torch.Tensor, loss_type: str) -> torch.Tensor:
    """``normalize=selected``: weights on the selected tokens so that the loss type's divisor (all completion
    tokens) becomes the selected tokens: per sequence for ``grpo``, over the micro-batch otherwise."""
    sel_f, comp = sel.float(), completion.float()
    if loss_type == "grpo":
        n_sel = sel_f.sum(-1, keepdim=True)
        return sel_f * torch.where(n_sel > 0, comp.sum(-1, keepdim=True) / n_sel.clamp(min=1), 0.0)
    n_sel = sel_f.sum()
    return sel_f * (comp.sum() / n_sel if n_sel > 0 else 0.0)


def entropy_percentiles(entropy: torch.Tensor, completion: torch.Tensor) -> dict[str, float | None]:
    vals = entropy[completion.bool()].float()
    if vals.numel() == 0:
        return {f"entropy_p{p}": None for p in PERCENTILES}
    q = torch.quantile(vals, torch.tensor([p / 100 for p in PERCENTILES], dtype=vals.dtype))
    return {f"entropy_p{p}": float(v) for p, v in zip(PERCENTILES, q, strict=True)}


def overlap(current: torch.Tensor, start: torch.Tensor) -> tuple[int, int]:
    """(|current ∩ start|, |current|): the share of today's forking positions that forked at the start."""
    return int((current & start).sum()), int(current.sum())


def make_trainer_class():
    from trl import GRPOTrainer

    class ForkingGRPOTrainer(GRPOTrainer):
        """``GRPOTrainer`` with :func:`select_tokens` in TRL's entropy-mask hook, and ``curves.jsonl``."""

        def __init__(self, *a, run_cfg: GRPORunConfig, curves: Path, reward: VerifierReward, **kw):
            super().__init__(*a, **kw)
            self.run_cfg, self.curves_path, self.reward = run_cfg, curves, reward
            self._start_model = None
            if run_cfg.overlap_every and not run_cfg.lora:
                # The starting model, frozen: the reference of the overlap (a LoRA run disables its adapter).
                self._start_model = self.ref_model or copy.deepcopy(self.accelerator.unwrap_model(self.model))
                self._start_model.eval().requires_grad_(False)
            self._inputs: dict | None = None
            self._reset()

        def _reset(self) -> None:
            self._acc: dict[str, Any] = {"tokens_in_loss": 0, "completion_tokens": 0, "tokens": 0}
            self._entropies: list[torch.Tensor] = []
            self._overlap = [0, 0]

        # TRL computes the policy loss on one micro-batch here; keep the inputs for the hook below.
        def _compute_loss(self, model, inputs):
            self._inputs = inputs
            try:
                return super()._compute_loss(model, inputs)
            finally:
                self._inputs = None

        def _generate_and_score_completions(self, inputs):
            out = super()._generate_and_score_completions(inputs)
            cfg = self.run_cfg
            if cfg.pool == "batch" and cfg.mask != "all" and self.args.gradient_accumulation_steps > 1:
                out["entropy_tau"] = self._batch_tau(out)
            return out

        @torch.no_grad()
        def _entropy_of(self, model, x: dict, rows: slice = slice(None)) -> torch.Tensor:
            """Per-token entropies of ``model`` on the completions of ``x`` (TRL's batch dict), rows ``rows``."""
            ids = torch.cat([x["prompt_ids"][rows], x["completion_ids"][rows]], 1)
            att = torch.cat([x["prompt_mask"][rows], x["completion_mask"][rows]], 1)
            keep = x["completion_ids"].shape[1]
            return self._get_per_token_logps_and_entropies(model, ids, att, keep, compute_entropy=True)[1]

        @torch.no_grad()
        def _batch_tau(self, out: dict) -> torch.Tensor:
            """tau over every completion token of the optimizer step (all its micro-batches, all processes),
            under the weights the step's losses are taken with; one copy per row so TRL's split keeps it."""
            n, step = out["prompt_ids"].shape[0], self.args.per_device_train_batch_size
            ents = []
            for i in range(0, n, step):
                rows = slice(i, i + step)
                ents.append(
                    self._entropy_of(self.model, out, rows)[out["completion_mask"][rows].bool()].float()
                )
            local = torch.cat(ents) if ents else torch.zeros(0)
            pad = -1e9  # as TRL: entropies are >= 0, so the sentinel never collides
            gathered = self.accelerator.gather(
                self.accelerator.pad_across_processes(local, dim=0, pad_index=pad)
            )
            gathered = gathered[gathered != pad]
            tau = forking_threshold(gathered, torch.ones_like(gathered, dtype=torch.bool), self.run_cfg.rho)
            return torch.full((n,), float(tau), device=out["prompt_ids"].device)

        def get_high_entropy_mask(self, entropies, mask, threshold):
            cfg, comp = self.run_cfg, mask.bool()
            inputs = self._inputs or {}  # set while TRL computes a loss (_compute_loss)
            if cfg.pool == "micro-batch" or (cfg.pool == "batch" and inputs.get("entropy_tau") is None):
                forking = super().get_high_entropy_mask(entropies, mask, 1 - cfg.rho)
            elif cfg.pool == "batch":
                forking = threshold_mask(entropies, comp, inputs["entropy_tau"][0])
            else:
                forking = forking_loss_mask(entropies, comp, cfg.rho, "sequence")
            gen = torch.Generator().manual_seed(cfg.seed * 1_000_003 + self.state.global_step)
            sel = select_tokens(cfg.mask, forking, comp, gen).to(entropies.device)
            if self.model.training and self._inputs is not None:
                self._log_tokens(entropies, comp, forking, sel)
            if cfg.normalize == "selected" and cfg.mask != "all":
                return selected_weights(sel, comp, cfg.loss_type)
            return sel

        @torch.no_grad()
        def _log_tokens(self, entropies, comp, forking, sel) -> None:
            self._acc["tokens_in_loss"] += int(sel.sum())
            self._acc["completion_tokens"] += int(comp.sum())
            self._acc["tokens"] += int(self._inputs["prompt_mask"].sum()) + int(comp.sum())
            self._entropies.append(entropies.detach()[comp].float().cpu())
            every = self.run_cfg.overlap_every
            if every and self.state.global_step % every == 0:
                start = self._start_entropies()
                start_fork = self._forking_like(start, comp)
                both, cur = overlap(forking & comp, start_fork)
                self._overlap[0] += both
                self._overlap[1] += cur

        def _forking_like(self, entropies, comp):
            """The starting model's forking mask with the run's pool (micro-batch and batch: this micro-batch)."""
            pool = "sequence" if self.run_cfg.pool == "sequence" else "batch"
            return forking_loss_mask(entropies, comp, self.run_cfg.rho, pool)

        def _start_entropies(self) -> torch.Tensor:
            if self._start_model is not None:
                return self._entropy_of(self._start_model, self._inputs)
            model = self.accelerator.unwrap_model(self.model)
            with model.disable_adapter():
                return self._entropy_of(model, self._inputs)

        def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
            # TRL's log adds its step metrics (reward, reward_std, lengths, ...) to ``logs`` in place.
            train_step = "loss" in logs and self.model.training
            super().log(logs, start_time)
            if not train_step:
                return
            ent = torch.cat(self._entropies) if self._entropies else torch.zeros(0)
            done = self._acc["completion_tokens"]
            entry = {
                "step": self.state.global_step,
                "loss": float(logs["loss"]),
                "tokens_in_loss": self._acc["tokens_in_loss"],
                "completion_tokens": done,
                "tokens": self._acc["tokens"],
                "lr": logs.get("learning_rate"),
                "grad_norm": as_float(logs.get("grad_norm")),
                "reward": as_float(logs.get("reward")),
                "reward_std": as_float(logs.get("reward_std")),
                "frac_reward_zero_std": as_float(logs.get("frac_reward_zero_std")),
                "kept_fraction": self._acc["tokens_in_loss"] / done if done else None,
                **entropy_percentiles(ent, torch.ones_like(ent, dtype=torch.bool)),
                "forking_overlap": self._overlap[0] / self._overlap[1] if self._overlap[1] else None,
                "completion_length": as_float(logs.get("completions/mean_length")),
                "kl": as_float(logs.get("kl")),
                "outcomes": self.reward.take(),
            }
            if self.is_world_process_zero():  # one curve, however many processes
                append_curve(self.curves_path, entry)
            self._reset()

    return ForkingGRPOTrainer


def build_trainer(cfg: GRPORunConfig, model, tok, examples, out: Path, device: str, max_len: int, reward):
    """The TRL ``GRPOTrainer`` subclass for ``cfg`` on ``examples``' prompts, rewarded by ``reward``."""
    from datasets import Dataset
    from trl import GRPOConfig

    args = GRPOConfig(
        **trainer_args(cfg, out, device),
        gradient_accumulation_steps=cfg.grad_accum,
        num_generations=cfg.num_generations,
        max_completion_length=max_len,
        temperature=cfg.temperature,
        beta=cfg.beta,
        epsilon=cfg.epsilon,
        loss_type=cfg.loss_type,
        # TRL calls its entropy-mask hook only below 1; the hook (overridden) takes rho and the mask from
        # the run's config, and with mask "all" keeps every completion token: the plain loss.
        top_entropy_quantile=min(cfg.rho, 0.999),
        remove_unused_columns=False,
    )
    return make_trainer_class()(
        model=model,
        reward_funcs=[reward],
        args=args,
        train_dataset=Dataset.from_list(prompt_rows(examples)),
        processing_class=tok,
        peft_config=lora_config() if cfg.lora else None,
        run_cfg=cfg,
        curves=out / CURVES_FILE,
        reward=reward,
    )


# -- main ----------------------------------------------------------------------------------------------


def main(cfg: GRPORunConfig) -> dict[str, Any]:
    """Train, write ``curves.jsonl``, ``cost.json``, ``model/`` (and ``model-merged/`` with LoRA) and the
    manifest in ``cfg.out_dir``; return the cost record."""
    cfg.validate()
    from reasonsift.evaluate.accuracy import default_max_new_tokens
    from reasonsift.models.load import load

    out = Path(cfg.out_dir)
    run = RunDir(out, stage="grpo", outputs=OUTPUTS)
    examples = load_examples(cfg)
    inputs = {"data": examples_input(cfg.data, examples)}
    run.check(run_record("grpo", cfg, inputs), resume=cfg.resume, overwrite=cfg.overwrite)
    model, tok = load(cfg.model, device="cpu", dtype="float32")
    model_in = model_identity(model, cfg.model, None)
    absolute_base(model, cfg.model)
    max_len = cfg.max_completion_length or default_max_new_tokens(tok, examples)
    device = resolve_device(cfg.device)
    run.begin(run_record("grpo", cfg, inputs), resume=cfg.resume, overwrite=cfg.overwrite)
    resume_from, _ = resume_point(out, cfg.resume)

    reward = VerifierReward(cfg.verifier, cfg.format_reward)
    trainer = build_trainer(cfg, model, tok, examples, out, device, max_len, reward)

    def grpo_cost(log: list[dict]) -> dict[str, Any]:
        last = [e["reward"] for e in log[-10:] if e.get("reward") is not None]
        return {
            "completions": sum(sum(e["outcomes"].values()) for e in log),
            "max_completion_length": max_len,
            "final_reward": sum(last) / len(last) if last else None,
        }

    return train_to_end(
        trainer, tok, run, cfg, stage="grpo", out=out, device=device, resume_from=resume_from,
        model_in=model_in, inputs=inputs, resolved={"max_completion_length": max_len}, cost_extra=grpo_cost,
    )  # fmt: skip
