"""Models and workloads for ``profile_bench.py``: built deterministically so every method (and every worker
subprocess) sees the same weights and the same tokens.

Shapes of a :class:`Batch`: ``input_ids``/``attention_mask`` ``[B, L]`` (right-padded), ``score_mask``
``[B, L-1]`` bool. Position ``t`` of the model output predicts token ``t + 1`` (TRL's convention, the one
``reasonsift.ops.entropy`` uses), so ``score_mask[b, t]`` scores target ``input_ids[b, t + 1]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

MODELS = ("builtin", "qwen2-0.5b-shape", "qwen2-1.5b-shape")

# Shapes copied from the public configs of Qwen/Qwen2.5-0.5B and Qwen/Qwen2.5-1.5B (config.json).
QWEN_SHAPES = {
    "qwen2-0.5b-shape": dict(
        hidden_size=896,
        num_hidden_layers=24,
        num_attention_heads=14,
        num_key_value_heads=2,
        intermediate_size=4864,
        tie_word_embeddings=True,
    ),
    "qwen2-1.5b-shape": dict(
        hidden_size=1536,
        num_hidden_layers=28,
        num_attention_heads=12,
        num_key_value_heads=2,
        intermediate_size=8960,
        tie_word_embeddings=True,
    ),
}
QWEN_VOCAB = 151936

# Logit standard deviation given to random-init heads. HF's default init (std 0.02) makes every next-token
# distribution almost uniform (entropy ~ log V), which would let an off-by-one gather pass the agreement
# check; ~3 gives peaked, varied distributions. Speed does not depend on it.
RANDOM_HEAD_LOGIT_STD = 3.0


@dataclass
class Batch:
    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    score_mask: torch.Tensor
    rows: list[int] | None = None  # index of each row's source example, where the workload has them

    @property
    def targets(self) -> torch.Tensor:
        """``[N]`` target ids of the scored positions, row-major."""
        return self.input_ids[:, 1:][self.score_mask]

    def to(self, device: torch.device | str) -> Batch:
        ids, attn, score = (t.to(device) for t in (self.input_ids, self.attention_mask, self.score_mask))
        return Batch(ids, attn, score, self.rows)


@dataclass
class Workload:
    batches: list[Batch]
    description: str

    @property
    def n_scored(self) -> int:
        return int(sum(int(b.score_mask.sum()) for b in self.batches))

    @property
    def n_input(self) -> int:
        return int(sum(int(b.attention_mask.sum()) for b in self.batches))


@dataclass
class LoadedModel:
    model: torch.nn.Module
    description: str


def _scale_head(model: torch.nn.Module, seed: int) -> None:
    head = model.get_output_embeddings()
    d = head.weight.shape[1]
    g = torch.Generator().manual_seed(seed + 1)
    w = torch.randn(head.weight.shape, generator=g) * (RANDOM_HEAD_LOGIT_STD / d**0.5)
    with torch.no_grad():
        head.weight.copy_(w.to(head.weight.dtype))


def _random_init(config, cls, *, dtype: torch.dtype, device: str, seed: int) -> torch.nn.Module:
    # Initialise on the CPU in fp32 so the weights are identical on every machine and in every subprocess,
    # then move; a 1.5B model is ~6 GiB of fp32 for a moment, which any machine with that GPU has.
    torch.manual_seed(seed)
    model = cls(config)
    _scale_head(model, seed)
    return model.to(device=device, dtype=dtype).eval()


def builtin_checkpoint() -> Path | None:
    """Directory of the shipped (or already cached) ``tiny-arith`` checkpoint; ``None`` when there is none.

    Never pretrains one (``ensure_builtin_model`` would): a benchmark must not silently train for minutes.
    """
    try:
        from reasonsift.models.builtin import builtin_model_path, cache_dir
    except ImportError:
        return None
    try:
        return builtin_model_path("tiny-arith")
    except FileNotFoundError:
        cached = cache_dir() / "tiny-arith"
        return cached if (cached / "model.safetensors").is_file() else None


def build_model(name: str, *, dtype: torch.dtype, device: str, attn: str, seed: int = 0) -> LoadedModel:
    """The benchmark model ``name`` (one of :data:`MODELS`) in ``dtype`` on ``device``, in eval mode."""
    if name not in MODELS:
        raise ValueError(f"model: unknown {name!r}; expected one of {', '.join(MODELS)}")
    if name == "builtin":
        ckpt = builtin_checkpoint()
        if ckpt is not None:
            from reasonsift.models.load import load

            model, _ = load(str(ckpt), dtype=dtype, device=device)
            model.set_attn_implementation(attn)
            return LoadedModel(model, f"built-in checkpoint tiny-arith at {ckpt}")
        from transformers import LlamaForCausalLM

        from reasonsift.models.tiny import tiny_config
        from reasonsift.models.tokenizer import build_tokenizer

        cfg = tiny_config(build_tokenizer())
        cfg._attn_implementation = attn
        model = _random_init(cfg, LlamaForCausalLM, dtype=dtype, device=device, seed=seed)
        return LoadedModel(model, "random-init tiny Llama, built-in shape (no shipped checkpoint found)")
    from transformers import Qwen2Config, Qwen2ForCausalLM

    cfg = Qwen2Config(
        **QWEN_SHAPES[name],
        vocab_size=QWEN_VOCAB,
        max_position_embeddings=32768,
        rope_theta=1_000_000.0,
        rms_norm_eps=1e-6,
        attn_implementation=attn,
    )
    model = _random_init(cfg, Qwen2ForCausalLM, dtype=dtype, device=device, seed=seed)
    return LoadedModel(model, f"random-init Qwen2 ({name})")


def _pad(rows: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    attn = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r)
        attn[i, : len(r)] = 1
    return ids, attn


def arith_workload(
    *, batch: int, num_batches: int, seq_len: int, seed: int = 0, length_sort: bool = True
) -> Workload:
    """Built-in ``arith`` examples rendered through the chat template; the assistant turn is scored.

    Difficulty cycles 1..5 over the examples, so lengths vary ~3x as in a real dataset. With ``length_sort``
    the examples are ordered longest first before batching -- what ``reasonsift profile`` does
    (``profile.scoring.make_batches``) -- so padding stays small; without it a batch mixes all lengths and
    about half of its tokens are padding. The per-example loop does not pad either way.
    """
    from reasonsift.data.render import to_messages
    from reasonsift.models.tokenizer import build_tokenizer
    from reasonsift.tasks import get_task

    tok = build_tokenizer()
    task = get_task("arith")
    seqs, starts = [], []
    for i in range(batch * num_batches):
        msgs = to_messages(task.example(i, seed=seed, difficulty=1 + i % task.max_difficulty))
        full = tok.apply_chat_template(msgs, tokenize=False)
        prompt = tok.apply_chat_template(msgs[:1], tokenize=False, add_generation_prompt=True)
        if not full.startswith(prompt):
            raise ValueError("chat template: the prompt is not a prefix of the rendered conversation")
        seqs.append(tok(full, add_special_tokens=False)["input_ids"][:seq_len])
        starts.append(len(tok(prompt, add_special_tokens=False)["input_ids"]))
    order = list(range(len(seqs)))
    if length_sort:
        order.sort(key=lambda i: (-len(seqs[i]), i))
    out: list[Batch] = []
    for b in range(num_batches):
        rows = order[b * batch : (b + 1) * batch]
        ids, attn = _pad([seqs[i] for i in rows], tok.pad_token_id)
        # Target t + 1 is scored when it lies in the assistant turn and inside the sequence.
        pos = torch.arange(1, ids.shape[1]).unsqueeze(0)
        lens = attn.sum(1, keepdim=True)
        score = (pos >= torch.tensor([starts[i] for i in rows]).unsqueeze(1)) & (pos < lens)
        out.append(Batch(ids, attn, score, rows))
    sort = "sorted by length" if length_sort else "unsorted"
    desc = f"arith via chat template, {num_batches} x {batch} examples {sort}, assistant tokens scored"
    return Workload(out, desc)


def random_workload(*, vocab: int, batch: int, num_batches: int, seq_len: int, seed: int = 0) -> Workload:
    """Uniform random tokens, ``batch x seq_len`` per batch, no padding; every next token is scored."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(num_batches):
        ids = torch.randint(0, vocab, (batch, seq_len), generator=g)
        attn = torch.ones_like(ids)
        out.append(Batch(ids, attn, torch.ones(batch, seq_len - 1, dtype=torch.bool)))
    desc = f"random tokens, {num_batches} batch(es) of {batch} x {seq_len}, all next tokens scored"
    return Workload(out, desc)


def build_workload(
    name: str, *, vocab: int, batch: int, num_batches: int, seq_len: int, length_sort: bool = True
) -> Workload:
    if batch < 1:
        raise ValueError(f"batch: must be >= 1, got {batch}")
    if num_batches < 1:
        raise ValueError(f"num_batches: must be >= 1, got {num_batches}")
    if seq_len < 2:
        raise ValueError(f"seq_len: must be >= 2 (one input and one target), got {seq_len}")
    if name == "builtin":
        return arith_workload(batch=batch, num_batches=num_batches, seq_len=seq_len, length_sort=length_sort)
    return random_workload(vocab=vocab, batch=batch, num_batches=num_batches, seq_len=seq_len)
