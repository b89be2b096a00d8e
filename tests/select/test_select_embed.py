"""mean_hidden_states against a per-text loop on the built-in tiny model."""

from pathlib import Path

import numpy as np
import pytest
import torch

import reasonsift
from reasonsift.models import load
from reasonsift.select.embed import mean_hidden_states

TEXTS = ["1+1=2", "What is 12 + 30? Let me add: 42", "7", "3*4 = 12, so the answer is 12.", "9-2"]


@pytest.fixture(scope="module")
def tiny():
    return load(Path(reasonsift.__file__).parent / "assets" / "models" / "tiny-arith", device="cpu")


def test_matches_a_per_text_loop(tiny):
    model, tok = tiny
    ref = []
    with torch.no_grad():
        for t in TEXTS:
            ids = torch.tensor([tok(t)["input_ids"]])
            ref.append(model(input_ids=ids, output_hidden_states=True).hidden_states[-1][0].mean(0).numpy())
    for bs in (1, 2, 16):
        got = mean_hidden_states(model, tok, TEXTS, batch_size=bs)
        assert got.shape == (len(TEXTS), model.config.hidden_size) and got.dtype == np.float32
        np.testing.assert_allclose(got, np.stack(ref), rtol=1e-4, atol=1e-5)
    # the test can fail: averaging over the padded positions too gives another vector for a short text
    ids = [tok(t)["input_ids"] for t in TEXTS[1:3]]
    w = max(map(len, ids))
    padded = torch.tensor([x + [tok.pad_token_id] * (w - len(x)) for x in ids])
    mask = (torch.arange(w)[None] < torch.tensor([len(x) for x in ids])[:, None]).long()
    with torch.no_grad():
        h = model(input_ids=padded, attention_mask=mask, output_hidden_states=True).hidden_states[-1]
    assert not np.allclose(h[1].mean(0).numpy(), ref[2], rtol=1e-4, atol=1e-5)


def test_refuses_empty_texts_and_bad_batch(tiny):
    model, tok = tiny
    assert mean_hidden_states(model, tok, []).shape == (0, model.config.hidden_size)
    with pytest.raises(ValueError, match="batch_size"):
        mean_hidden_states(model, tok, TEXTS, batch_size=0)
