"""Text embeddings from the student itself: the mean of its last hidden states over a text's real tokens.

The ``embedding`` column that stage "diversity" (``mode: coverage``) reads; any sentence embedder can fill the
same column instead.
"""

from __future__ import annotations

import numpy as np
import torch


@torch.no_grad()
def mean_hidden_states(model, tokenizer, texts: list[str], *, batch_size: int = 16) -> np.ndarray:
    """Mean of the last hidden states over each text's tokens (padding excluded).

    Args:
        model: a causal LM (``output_hidden_states`` supported); the last entry of ``hidden_states`` is used.
        tokenizer: its tokenizer; texts are tokenized one by one with its special tokens, then right-padded,
            so a real token never attends to padding and batching does not change the result.
        texts: N strings.

    Returns:
        ``[N, d]`` float32, d = the model's hidden size.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size: expected >= 1, got {batch_size}")
    ids = [tokenizer(t)["input_ids"] for t in texts]
    for i, x in enumerate(ids):
        if not x:
            raise ValueError(f"texts: text {i} has no tokens; its mean hidden state is undefined")
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else (tokenizer.eos_token_id or 0)
    device = next(model.parameters()).device
    out = []
    for lo in range(0, len(ids), batch_size):
        chunk = ids[lo : lo + batch_size]
        width = max(len(x) for x in chunk)
        input_ids = torch.tensor([x + [pad] * (width - len(x)) for x in chunk], device=device)
        mask = torch.tensor([[1] * len(x) + [0] * (width - len(x)) for x in chunk], device=device)
        h = model(input_ids=input_ids, attention_mask=mask, output_hidden_states=True).hidden_states[-1]
        m = mask.unsqueeze(-1).to(h.dtype)
        out.append(((h * m).sum(1) / m.sum(1)).float().cpu().numpy())
    if not out:
        return np.zeros((0, model.config.hidden_size), dtype=np.float32)
    return np.concatenate(out)
