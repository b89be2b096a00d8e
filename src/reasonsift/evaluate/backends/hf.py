"""The Hugging Face backend: batched decoding with left padding and the KV cache, stop strings, seeded
sampling, n samples per prompt and s1 budget forcing, on any ``transformers`` causal LM.

Its own decode loop rather than ``model.generate``: budget forcing replaces a token the model chose (the
early ``</think>`` becomes the first token of "Wait", the rest is injected on the next steps) and each sample
draws from its own seeded stream, neither of which ``generate`` offers. The model-facing parts are the ones
``generate`` uses: the model's own cache (``past_key_values``), position ids from the attention mask (left
padding), ``logits_to_keep=1`` and transformers' ``TopPLogitsWarper``.

Determinism: sample ``j`` of a prompt draws its uniforms from ``random.Random`` seeded by
``(seed, j, prompt text)`` (inverse-CDF sampling: one uniform per token), so a sample does not depend on the
process, the device's RNG or its batch mates; the same seed and batch size give identical samples (another
batch size changes only float rounding in the padded forward).
"""

from __future__ import annotations

import hashlib
import inspect
import random
from dataclasses import dataclass, field, replace

import torch
from transformers.generation.logits_process import TopPLogitsWarper

from reasonsift.data.render import THINK_CLOSE, THINK_OPEN
from reasonsift.evaluate.backends.base import WAIT, Backend, Generation, ProgressFn, SamplingParams

BEFORE, THINKING, ANSWER = 0, 1, 2  # a sample's phase for budget forcing


def sample_rng(seed: int, sample: int, prompt: str) -> random.Random:
    """The uniform stream of one sample: a stable 64-bit hash of ``(seed, sample, prompt)``."""
    h = hashlib.blake2b(f"{seed}\0{sample}\0{prompt}".encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(h, "little"))


def sample_tokens(logits: torch.Tensor, params: SamplingParams, uniforms: list[float]) -> list[int]:
    """``logits [A, V]`` -> one token per row: argmax when greedy, else temperature, top-p and inverse-CDF
    sampling with ``uniforms[a]`` in [0, 1) (the first token whose cumulative probability exceeds it)."""
    if params.greedy:
        return logits.argmax(-1).tolist()
    z = logits.float() / params.temperature
    if params.top_p < 1.0:
        z = TopPLogitsWarper(params.top_p)(None, z)
    cdf = torch.softmax(z, -1).double().cumsum(-1)
    u = torch.tensor(uniforms, dtype=torch.float64, device=cdf.device)[:, None] * cdf[:, -1:]
    return torch.searchsorted(cdf, u, right=True).clamp(max=cdf.shape[-1] - 1)[:, 0].tolist()


@dataclass
class Budget:
    """s1 budget forcing with single-token ``<think>`` / ``</think>`` ids and the "Wait" text tokens.

    ``early_end``: tokens that end thinking before ``lo`` and are replaced by "Wait": ``</think>`` (s1) and the
    end-of-sequence tokens (a model that stops while still thinking has closed its thinking too)."""

    open_id: int
    close_id: int
    wait_ids: list[int]
    lo: int | None
    hi: int | None
    early_end: frozenset[int] = frozenset()


@dataclass
class Row:
    """One sample being decoded: its tokens, its random stream and its budget-forcing state."""

    rng: random.Random
    phase: int = BEFORE
    ids: list[int] = field(default_factory=list)
    thought: int = 0  # thinking tokens so far (between <think> and </think>, forced ones included)
    queue: list[int] = field(default_factory=list)  # "Wait" tokens still to inject
    n_forced: int = 0
    finish: str | None = None

    def push(self, tok: int, budget: Budget | None) -> int:
        """Record the next token (the model's choice ``tok`` unless budget forcing overrides it)."""
        if self.queue:
            tok = self.queue.pop(0)
        if budget is not None:
            if self.phase == THINKING and budget.hi is not None and self.thought >= budget.hi:
                if tok != budget.close_id:
                    tok, self.n_forced, self.queue = budget.close_id, self.n_forced + 1, []
            elif (
                self.phase == THINKING
                and tok in budget.early_end
                and budget.lo is not None
                and self.thought < budget.lo
            ):
                tok, *self.queue = budget.wait_ids
                self.n_forced += 1
            if self.phase == BEFORE and tok == budget.open_id:
                self.phase = THINKING
            elif self.phase == THINKING:
                if tok == budget.close_id:
                    self.phase = ANSWER
                else:
                    self.thought += 1
        self.ids.append(tok)
        return tok


class HFBackend(Backend):
    """``batch_size``: sequences (prompt x sample) decoded together; prompts are sorted by length first."""

    name = "hf"

    def __init__(self, model, tokenizer, *, batch_size: int = 32, device: str | torch.device | None = None):
        if batch_size < 1:
            raise ValueError(f"batch_size: expected >= 1, got {batch_size}")
        self.model = model if device is None else model.to(device)
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.device = next(self.model.parameters()).device
        self.pad_id = next(i for i in (tokenizer.pad_token_id, tokenizer.eos_token_id, 0) if i is not None)
        eos: set[int] = set()
        gen_cfg = getattr(model, "generation_config", None)
        for v in (getattr(gen_cfg, "eos_token_id", None), model.config.eos_token_id, tokenizer.eos_token_id):
            eos.update([v] if isinstance(v, int) else (v or []))
        self.eos_ids = eos
        args = inspect.signature(model.forward).parameters
        self._keep_arg = "logits_to_keep" in args
        # transformers 5.2x renamed past_key_values to cache (the old name warns); 4.x knows only the old one
        self._cache_arg = "cache" if "cache" in args else "past_key_values"
        self._scorer = None

    # -- generation ---------------------------------------------------------------------------------
    def _budget(self, params: SamplingParams) -> Budget | None:
        if not params.budget_forcing:
            return None
        ids = [self.tokenizer(t, add_special_tokens=False).input_ids for t in (THINK_OPEN, THINK_CLOSE)]
        if any(len(i) != 1 for i in ids):
            field_name = (
                "min_thinking_tokens" if params.min_thinking_tokens is not None else "max_thinking_tokens"
            )
            raise ValueError(
                f"{field_name}: budget forcing needs {THINK_OPEN} and {THINK_CLOSE} to be single tokens of this "
                f"tokenizer (they encode to {ids})"
            )
        wait = self.tokenizer(WAIT, add_special_tokens=False).input_ids
        lo, hi = params.min_thinking_tokens, params.max_thinking_tokens
        return Budget(ids[0][0], ids[1][0], wait, lo, hi, frozenset({ids[1][0], *self.eos_ids}))

    def generate(
        self, prompts: list[str], params: SamplingParams, on_progress: ProgressFn | None = None
    ) -> list[list[Generation]]:
        enc = [self.tokenizer(p, add_special_tokens=False).input_ids for p in prompts]
        for i, e in enumerate(enc):
            if not e:
                raise ValueError(f"prompts[{i}]: empty prompt")
        budget = self._budget(params)
        runs = 1 if params.greedy else params.n  # greedy samples are identical: decode once, copy
        copies = params.n if params.greedy else 1
        jobs = sorted(
            ((i, j) for i in range(len(prompts)) for j in range(runs)), key=lambda r: (len(enc[r[0]]), r)
        )
        out: list[list[Generation | None]] = [[None] * params.n for _ in prompts]
        was_training = self.model.training
        self.model.eval()
        try:
            for s in range(0, len(jobs), self.batch_size):
                batch = jobs[s : s + self.batch_size]
                rows = [Row(sample_rng(params.seed, j, prompts[i])) for i, j in batch]
                if budget is not None:
                    for (i, _), row in zip(batch, rows, strict=True):
                        e = enc[i]
                        last_open = max((k for k, t in enumerate(e) if t == budget.open_id), default=-1)
                        last_close = max((k for k, t in enumerate(e) if t == budget.close_id), default=-1)
                        row.phase = THINKING if last_open > last_close else BEFORE
                gens = self._decode([enc[i] for i, _ in batch], rows, params, budget, on_progress, copies)
                for (i, j), g in zip(batch, gens, strict=True):
                    if copies > 1:
                        out[i] = [replace(g) for _ in range(copies)]
                    else:
                        out[i][j] = g
        finally:
            self.model.train(was_training)
        return out  # type: ignore[return-value]

    def _forward(self, ids, mask, pos, cache):
        kw = {"logits_to_keep": 1} if self._keep_arg else {}
        kw[self._cache_arg] = cache
        out = self.model(input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=True, **kw)
        new_cache = getattr(out, "cache", None)
        return out.logits[:, -1, :], out.past_key_values if new_cache is None else new_cache

    @torch.inference_mode()
    def _decode(
        self,
        prompts: list[list[int]],
        rows: list[Row],
        params: SamplingParams,
        budget: Budget | None,
        on_progress: ProgressFn | None,
        copies: int,
    ) -> list[Generation]:
        width = max(len(p) for p in prompts)
        ids = torch.full((len(prompts), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(prompts), width), dtype=torch.long)
        for r, p in enumerate(prompts):
            ids[r, width - len(p) :] = torch.tensor(p, dtype=torch.long)
            mask[r, width - len(p) :] = 1
        ids, mask = ids.to(self.device), mask.to(self.device)
        pos = (mask.cumsum(-1) - 1).clamp(min=0)  # left padding: real tokens count from 0, as generate does
        logits, cache = self._forward(ids, mask, pos, None)
        next_pos = pos[:, -1:] + 1
        active = list(range(len(rows)))  # rows still decoding, in cache order
        stop_window = 2 * max((len(s) for s in params.stop), default=0) + 4
        for step in range(params.max_new_tokens):
            uniforms = [] if params.greedy else [rows[a].rng.random() for a in active]
            chosen = sample_tokens(logits, params, uniforms)
            keep, done = [], 0
            for k, (a, t) in enumerate(zip(active, chosen, strict=True)):
                row = rows[a]
                t = row.push(t, budget)
                chosen[k] = t
                if t in self.eos_ids:
                    row.finish = "eos"
                elif params.stop and self._hit_stop(row.ids[-stop_window:], params.stop):
                    row.finish = "stop"
                elif step == params.max_new_tokens - 1:
                    row.finish = "length"
                if row.finish:
                    done += 1
                else:
                    keep.append(k)
            if on_progress:
                on_progress(done * copies, len(active) * copies)
            if not keep:
                break
            nxt = torch.tensor(chosen, dtype=torch.long, device=self.device)[:, None]
            if len(keep) < len(active):
                sel = torch.tensor(keep, dtype=torch.long, device=self.device)
                cache.batch_select_indices(sel)
                nxt, mask, next_pos = nxt[sel], mask[sel], next_pos[sel]
                active = [active[k] for k in keep]
            mask = torch.cat([mask, mask.new_ones((len(active), 1))], dim=1)
            logits, cache = self._forward(nxt, mask, next_pos, cache)
            next_pos = next_pos + 1
        return [self._finish(r, params) for r in rows]

    def _hit_stop(self, tail: list[int], stop: list[str]) -> bool:
        text = self.tokenizer.decode(tail, skip_special_tokens=True)
        return any(s in text for s in stop)

    def _finish(self, row: Row, params: SamplingParams) -> Generation:
        text = self.tokenizer.decode(row.ids, skip_special_tokens=True)
        finish = row.finish or "length"
        cuts = [text.find(s) for s in params.stop if s in text]
        if cuts:
            text, finish = text[: min(cuts)], "stop"
        return Generation(text=text, n_tokens=len(row.ids), finish_reason=finish, n_forced=row.n_forced)

    # -- log-likelihood -----------------------------------------------------------------------------
    def loglikelihood(self, requests: list[tuple[str, str]]) -> list[float]:
        from reasonsift.profile.scoring import Request, Scorer

        if self._scorer is None:
            self._scorer = Scorer(self.model, self.pad_id)
        reqs = []
        for i, (ctx, cont) in enumerate(requests):
            c = self.tokenizer(ctx, add_special_tokens=False).input_ids if ctx else []
            x = self.tokenizer(cont, add_special_tokens=False).input_ids
            if not x:
                raise ValueError(f"requests[{i}]: empty continuation")
            if not c:  # lm-eval's convention: an empty context is the end-of-text (here BOS if any) token
                c = [
                    next(
                        t
                        for t in (self.tokenizer.bos_token_id, self.tokenizer.eos_token_id, 0)
                        if t is not None
                    )
                ]
            reqs.append(Request(c + x, len(c)))
        run = self._scorer.score(reqs, batch_size=self.batch_size, logprob_only=True)
        return [float(s.logprob.astype("float64").sum()) for s in run.scores]
