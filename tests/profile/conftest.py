import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from reasonsift.data.example import Example
from reasonsift.models.tokenizer import build_tokenizer


def tiny_llama(tok, seed: int = 0, max_pos: int = 256) -> LlamaForCausalLM:
    torch.manual_seed(seed)
    cfg = LlamaConfig(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        intermediate_size=64,
        vocab_size=len(tok),
        max_position_embeddings=max_pos,
        pad_token_id=tok.pad_token_id,
    )
    m = LlamaForCausalLM(cfg).eval()
    # Random init gives near-uniform distributions; sharpen them so entropies and ranks vary.
    with torch.no_grad():
        m.lm_head.weight.mul_(40.0)
    return m


@pytest.fixture(scope="session")
def make_model():
    return tiny_llama


@pytest.fixture(scope="session")
def tok():
    return build_tokenizer()


@pytest.fixture(scope="session")
def model(tok):
    return tiny_llama(tok)


@pytest.fixture(scope="session")
def examples():
    from reasonsift.tasks import get_task

    exs = get_task("arith").generate(12, seed=3)
    exs.append(
        Example(
            id="mc",
            question="Pick 2+2",
            answer="B",
            trace="2+2=4",
            choices=["3", "4"],
            format="multiple_choice",
        )
    )
    exs.append(Example(id="notrace", question="1+1", answer="2"))
    exs.append(Example(id="lines", question="3+4+5", answer="12", trace="3+4=7\n7+5=12\n"))
    return exs
