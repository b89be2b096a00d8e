"""Variable-length attention for packed rows, on any device: every packed sequence attends only within itself,
one sequence at a time with torch's SDPA (causal), so no work is spent on the blocks a dense block-diagonal
mask would mask out. It is what FlashAttention's ``varlen`` kernels do, for models loaded with SDPA or eager
attention (the only kernels a CPU has).

Registered with ``transformers``' ``AttentionInterface`` as :data:`NAME`; :func:`packed_attention` switches a
model to it for the duration of a packed forward (``transformers`` then builds no mask: the function reads
the sequence boundaries from the restarted ``position_ids`` the model passes to its attention). Models whose
kernel is already variable-length (FlashAttention, flex attention) keep it. Sliding windows and Gemma's
attention soft-cap are honoured (a masked float32 path for those sequences). Checked at start-up by
:meth:`reasonsift.profile.scoring.Scorer.check_packing` against each sequence run alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F

NAME = "reasonsift_varlen"
# Kernels that already skip the masked blocks of a packed row: left as they are.
VARLEN_KERNELS = ("flash_attention", "flash-attn", "flash_attn", "flex_attention")


def segments(position_ids: torch.Tensor) -> list[tuple[int, int]]:
    """``[(start, end), ...]`` of the sequences in one packed row: a new one wherever the position id does not
    go up by one (``transformers.masking_utils.find_packed_sequence_indices``' rule)."""
    n = int(position_ids.shape[0])
    if n == 0:
        return []
    step = torch.diff(position_ids) != 1
    starts = [0, *(torch.nonzero(step).flatten() + 1).tolist()]
    return list(zip(starts, [*starts[1:], n], strict=True))


def _masked(q, k, v, scale: float, window: int | None, softcap: float | None) -> torch.Tensor:
    """Causal attention with a sliding window and/or a soft-cap: scores in float32, as eager attention."""
    s = (q.float() @ k.float().transpose(-1, -2)) * scale
    if softcap is not None:
        s = torch.tanh(s / softcap) * softcap
    n = q.shape[-2]
    i = torch.arange(n, device=q.device)
    keep = i[:, None] >= i[None, :]
    if window is not None:
        keep &= (i[:, None] - i[None, :]) < window
    s = s.masked_fill(~keep, float("-inf"))
    return (torch.softmax(s, -1) @ v.float()).to(q.dtype)


@torch.compiler.disable  # data-dependent sequence boundaries: a graph break, not a recompile per row layout
def varlen_attention_forward(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    dropout: float = 0.0,
    scaling: float | None = None,
    sliding_window: int | None = None,
    softcap: float | None = None,
    position_ids: torch.Tensor | None = None,
    **kwargs,
) -> tuple[torch.Tensor, None]:
    """``query [B, Hq, L, D]``, ``key``/``value [B, Hkv, L, D]`` -> ``[B, L, Hq, D]`` (transformers'
    attention-function contract). Raises ``ValueError`` when it cannot be exact: no ``position_ids`` reached
    the attention, a mask was built anyway, or the layer needs something else (attention sinks, dropout)."""
    if position_ids is None:
        raise ValueError(f"{NAME}: {type(module).__name__} does not pass position_ids to its attention")
    if attention_mask is not None:
        raise ValueError(f"{NAME}: {type(module).__name__} built an attention mask; packed rows take none")
    if kwargs.get("s_aux") is not None or (module.training and dropout > 0):
        raise ValueError(f"{NAME}: attention sinks and dropout are not supported")
    b, hq, length, d = query.shape
    groups = hq // key.shape[1]
    if groups > 1:
        key, value = key.repeat_interleave(groups, 1), value.repeat_interleave(groups, 1)
    scale = scaling if scaling is not None else d**-0.5
    pos = position_ids.expand(b, -1) if position_ids.shape[0] != b else position_ids
    out = query.new_empty(b, length, hq, d)
    for row in range(b):
        for s, e in segments(pos[row]):
            q, k, v = query[row : row + 1, :, s:e], key[row : row + 1, :, s:e], value[row : row + 1, :, s:e]
            if softcap is not None or (sliding_window is not None and e - s > sliding_window):
                o = _masked(q, k, v, scale, sliding_window, softcap)
            else:
                o = F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=scale)
            out[row, s:e] = o[0].transpose(0, 1)
    return out, None


def _register() -> None:
    from transformers import AttentionInterface

    if NAME not in AttentionInterface._global_mapping:
        AttentionInterface.register(NAME, varlen_attention_forward)


def is_varlen(model) -> bool:
    """True when the model's own kernel already skips masked blocks (FlashAttention, flex attention)."""
    impl = str(getattr(getattr(model, "config", None), "_attn_implementation", "") or "")
    return any(k in impl for k in VARLEN_KERNELS)


def _configs(model) -> Iterator:
    """The model's config and its sub-configs that name an attention implementation (text_config, ...)."""
    cfg = getattr(model, "config", None)
    if cfg is None:
        return
    yield cfg
    for name in getattr(cfg, "sub_configs", {}) or {}:
        sub = getattr(cfg, name, None)
        if sub is not None and hasattr(sub, "_attn_implementation"):
            yield sub


@contextmanager
def packed_attention(model) -> Iterator[None]:
    """Run ``model`` with :data:`NAME` attention inside the block (unless its kernel is already
    variable-length); its own implementation is restored after, also on error."""
    if is_varlen(model):
        yield
        return
    _register()
    saved = [(c, c._attn_implementation) for c in _configs(model)]
    try:
        for c, _ in saved:
            c._attn_implementation = NAME
        yield
    finally:
        for c, impl in saved:
            c._attn_implementation = impl
