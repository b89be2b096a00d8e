import pytest
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

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


CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"]

TEXT = [
    "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May.",
    "First, compute half of 48, which is 24. Then add 48 and 24 to get 72. So the answer is 72.",
    "A train travels 60 miles per hour for 3 hours. Distance equals speed times time, 180 miles.",
] * 20


@pytest.fixture(scope="session")
def bpe_model_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("qwen-bpe")
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(
        TEXT,
        trainers.BpeTrainer(
            vocab_size=600,
            special_tokens=SPECIAL,
            show_progress=False,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        ),
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>", model_max_length=512
    )
    fast.chat_template = CHATML
    torch.manual_seed(0)
    cfg = Qwen2Config(
        vocab_size=len(fast), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=512, tie_word_embeddings=True,
        pad_token_id=fast.pad_token_id, eos_token_id=fast.eos_token_id,
    )  # fmt: skip
    model = Qwen2ForCausalLM(cfg)
    with torch.no_grad():
        model.get_output_embeddings().weight.mul_(20.0)  # peaked distributions: entropies vary
    model.save_pretrained(d)
    fast.save_pretrained(d)
    return d, fast
