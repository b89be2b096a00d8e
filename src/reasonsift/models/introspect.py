"""Where a ``*ForCausalLM`` keeps its backbone and LM head, and what its ``forward`` does to the logits after
the head.

The scorer runs the backbone once and the head over row chunks itself (never ``B x L x V`` logits), so it must
reproduce every step of the model's own ``forward`` between the last hidden state and ``.logits``. In
``transformers`` those steps are a scalar rescaling and/or a tanh soft-cap, keyed by config fields whose
meaning depends on the architecture (``logits_scaling`` divides in Granite, multiplies in HyperCLOVA X and
divides the hidden states in MiniCPM3). :func:`logit_transform` encodes the ones found in the
``*ForCausalLM.forward`` methods of ``transformers`` 5.x; anything else is caught by the scorer's start-up
probe against ``model(...).logits`` (:meth:`reasonsift.profile.scoring.Scorer.check_logits`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

# Fallback attribute names when get_decoder() / get_output_embeddings() give nothing usable: the body of
# LLaMA-style models (`model`), GPT-2 / GPT-J / BLOOM / Falcon (`transformer`), GPT-NeoX (`gpt_neox`);
# the head of GPT-NeoX (`embed_out`), BioGPT / TrOCR (`output_projection`), RWKV (`head`).
BODY_NAMES = ("model", "transformer", "gpt_neox", "backbone", "decoder")
HEAD_NAMES = ("lm_head", "embed_out", "output_projection", "output", "head")

# model_type -> the config field that rescales the logits, and how. From `*ForCausalLM.forward`:
#   granite*:   logits = logits / config.logits_scaling          (modeling_granite.py, "main diff with Llama")
#   minicpm3:   hidden_states = hidden_states / config.logits_scaling  (bias-free head: same as dividing logits)
#   hyperclovax: logits = lm_head(h) * config.logits_scaling     ("cf. GraniteForCausalLM which divides")
#   cohere*:    logits = logits * self.logit_scale (= config.logit_scale)
#   falcon_h1:  logits = lm_head(h) * self.model.lm_head_multiplier (= config.lm_head_multiplier)
#   muse_*:     logits = logits * config.output_multiplier, then the Gemma-style soft-cap
_DIVIDE = "divide"
_MULTIPLY = "multiply"
SCALE_FIELDS: dict[str, tuple[str, str]] = {
    "granite": ("logits_scaling", _DIVIDE),
    "granitemoe": ("logits_scaling", _DIVIDE),
    "granitemoeshared": ("logits_scaling", _DIVIDE),
    "granitemoehybrid": ("logits_scaling", _DIVIDE),
    "granite_swa": ("logits_scaling", _DIVIDE),
    "granitemoe_swa": ("logits_scaling", _DIVIDE),
    "granite_docling": ("logits_scaling", _DIVIDE),
    "granite4_vision": ("logits_scaling", _DIVIDE),
    "minicpm3": ("logits_scaling", _DIVIDE),
    "hyperclovax": ("logits_scaling", _MULTIPLY),
    "hyperclovax_vision_v2": ("logits_scaling", _MULTIPLY),
    "cohere": ("logit_scale", _MULTIPLY),
    "cohere2": ("logit_scale", _MULTIPLY),
    "cohere2_moe": ("logit_scale", _MULTIPLY),
    "cohere_compass": ("logit_scale", _MULTIPLY),
    "falcon_h1": ("lm_head_multiplier", _MULTIPLY),
    "muse_glimmer": ("output_multiplier", _MULTIPLY),
    "muse_spark": ("output_multiplier", _MULTIPLY),
}
# Soft-cap fields: `cap * tanh(logits / cap)`. Gemma 2/3/3n/4, VaultGemma, NanoChat, Inkling2, Beam and the
# MuSe models use `final_logit_softcapping`; RecurrentGemma `logits_soft_cap`; xLSTM `output_logit_soft_cap`.
SOFTCAP_FIELDS = ("final_logit_softcapping", "logits_soft_cap", "output_logit_soft_cap")


@dataclass(frozen=True)
class LogitTransform:
    """``z -> cap * tanh(scale * z / cap)`` (each part only when set), applied to the head's output in
    float32: more accurate than the model's own bf16 tanh, and the statistics upcast to float32 anyway."""

    scale: float = 1.0
    softcap: float | None = None
    source: str = ""  # the config fields it came from, for error messages

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        """``z``: ``[..., V]`` head output; returns float32 ``[..., V]``."""
        z = z.float()
        if self.scale != 1.0:
            z = z * self.scale
        if self.softcap:
            z = torch.tanh(z / self.softcap) * self.softcap
        return z


def _configs(model: nn.Module) -> list:
    """The model's config, then its text config (multimodal wrappers keep the LM fields there)."""
    cfg = getattr(model, "config", None)
    if cfg is None:
        return []
    out = [cfg]
    get_text = getattr(cfg, "get_text_config", None)
    text = get_text() if callable(get_text) else None
    if text is not None and text is not cfg:
        out.append(text)
    return out


def _field(cfgs: list, name: str):
    for c in cfgs:
        v = getattr(c, name, None)
        if v is not None:
            return v
    return None


def model_type(model: nn.Module) -> str:
    cfg = getattr(model, "config", None)
    return str(getattr(cfg, "model_type", "") or "")


def describe(model: nn.Module) -> str:
    """``"GraniteForCausalLM (model_type 'granite')"``, for error messages."""
    return f"{type(model).__name__} (model_type {model_type(model)!r})"


def backbone(model: nn.Module) -> nn.Module:
    """The transformer body of a ``*ForCausalLM``: everything before the LM head, called as
    ``body(input_ids=..., attention_mask=..., use_cache=False)``, returning the final (post-norm) hidden
    states as ``out[0]`` / ``out.last_hidden_state``."""
    get = getattr(model, "get_decoder", None)
    try:
        body = get() if callable(get) else None
    except (AttributeError, NotImplementedError, ValueError):
        body = None
    if isinstance(body, nn.Module) and body is not model:
        return body
    for name in (getattr(model, "base_model_prefix", None), *BODY_NAMES):
        body = getattr(model, name, None) if name else None
        if isinstance(body, nn.Module) and body is not model:
            return body
    raise ValueError(
        f"cannot find the backbone of {describe(model)}: expected .get_decoder() or one of the attributes "
        f"{', '.join(BODY_NAMES)}; pass exact=True (--exact-logits) to score with the model's full forward"
    )


def output_head(model: nn.Module) -> nn.Module:
    """The LM head (``d -> V``): ``get_output_embeddings()`` or a known attribute name."""
    get = getattr(model, "get_output_embeddings", None)
    try:
        head = get() if callable(get) else None
    except (AttributeError, NotImplementedError):
        head = None
    if isinstance(head, nn.Module):
        return head
    for name in HEAD_NAMES:
        head = getattr(model, name, None)
        if isinstance(head, nn.Module):
            return head
    raise ValueError(
        f"cannot find the LM head of {describe(model)}: expected .get_output_embeddings() or one of the "
        f"attributes {', '.join(HEAD_NAMES)}; pass exact=True (--exact-logits) to score with the model's "
        "full forward"
    )


def head_vocab_size(head: nn.Module) -> int:
    """Rows of the head's output (``V``)."""
    n = getattr(head, "out_features", None)
    if n is None:
        n = head.weight.shape[0]
    return int(n)


def logit_transform(model: nn.Module) -> LogitTransform | None:
    """What ``model.forward`` does to the head's output, or ``None`` when ``logits = head(hidden)``.

    Scales come from :data:`SCALE_FIELDS` (keyed by ``config.model_type``: the same field name means
    different things in different architectures); the soft-cap from any of :data:`SOFTCAP_FIELDS`, which
    mean ``cap * tanh(z / cap)`` wherever they occur.
    """
    cfgs = _configs(model)
    mt = model_type(model)
    scale, parts = 1.0, []
    if mt in SCALE_FIELDS:
        name, how = SCALE_FIELDS[mt]
        v = _field(cfgs, name)
        if v is not None and float(v) != 1.0:
            scale = 1.0 / float(v) if how == _DIVIDE else float(v)
            parts.append(f"logits {'/' if how == _DIVIDE else '*'} config.{name} ({float(v):g})")
    softcap = None
    for name in SOFTCAP_FIELDS:
        v = _field(cfgs, name)
        if v:
            softcap = float(v)
            parts.append(f"{v:g} * tanh(logits / config.{name})")
            break
    if scale == 1.0 and softcap is None:
        return None
    return LogitTransform(scale, softcap, "; ".join(parts))


def logits_fn(model: nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
    """``hidden [N, d] -> logits [N, V]``: the head and then :func:`logit_transform`, as ``forward`` does."""
    head, tf = output_head(model), logit_transform(model)
    if tf is None:
        return head
    return lambda h: tf(head(h))
