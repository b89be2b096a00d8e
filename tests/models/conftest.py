"""Tiny in-process models for model tests (a few tens of thousands of parameters, no network)."""

from __future__ import annotations

import pytest

from reasonsift.models.tiny import TinySpec, build_tiny_model
from reasonsift.models.tokenizer import build_tokenizer

TINY = TinySpec(hidden_size=32, num_layers=2, num_heads=2, intermediate_size=64, max_position_embeddings=128)


@pytest.fixture
def tok():
    return build_tokenizer()


@pytest.fixture
def tiny_model(tok):
    return build_tiny_model(tok, TINY, seed=0)


@pytest.fixture
def saved_dir(tmp_path, tok, tiny_model):
    path = tmp_path / "tiny"
    tiny_model.save_pretrained(path)
    tok.save_pretrained(path)
    return path
