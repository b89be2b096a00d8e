"""The built-in character-level tokenizer, built offline with ``tokenizers`` and wrapped as a
``PreTrainedTokenizerFast``.

Character level on purpose: a small byte-level BPE merges digits inconsistently (``'63'`` one token,
``'4','3'`` two), which hides carries from a tiny model. ``<think>``/``</think>`` are single (non-special)
tokens so that decoding keeps them; role markers and ``</s>`` are special.
"""

from __future__ import annotations

import string

from tokenizers import AddedToken, Tokenizer, decoders, models
from transformers import PreTrainedTokenizerFast

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<s>", "</s>"
USER, ASSISTANT, SYSTEM = "<|user|>", "<|assistant|>", "<|system|>"
THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
SPECIALS = [PAD, UNK, BOS, EOS, USER, ASSISTANT, SYSTEM]
ALPHABET = string.digits + string.ascii_letters + string.punctuation + " \n"

# Messages as TRL writes them: the assistant content carries ``<think>trace</think>answer``; a separate
# ``reasoning_content`` (the convention of several chat templates) is wrapped in <think> here too.
CHAT_TEMPLATE = (
    "{%- for m in messages -%}"
    "{%- if m['role'] == 'system' -%}<|system|>{{ m['content'] }}"
    "{%- elif m['role'] == 'user' -%}<|user|>{{ m['content'] }}"
    "{%- elif m['role'] == 'assistant' -%}<|assistant|>"
    "{%- if m.get('reasoning_content') -%}<think>{{ m['reasoning_content'] }}</think>{%- endif -%}"
    "{{ m['content'] }}</s>"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}<|assistant|>{%- endif -%}"
)


def build_tokenizer(model_max_length: int = 1024) -> PreTrainedTokenizerFast:
    """The built-in tokenizer: one token per character of :data:`ALPHABET`, plus special tokens."""
    vocab = {tok: i for i, tok in enumerate(SPECIALS)}
    for ch in ALPHABET:
        vocab.setdefault(ch, len(vocab))
    # BPE with no merges over a character vocabulary is exactly character-level; unknown characters -> <unk>.
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token=UNK))
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIALS])
    tok.add_tokens([AddedToken(t, special=False, normalized=False) for t in (THINK_OPEN, THINK_CLOSE)])
    tok.decoder = decoders.Fuse()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=BOS,
        eos_token=EOS,
        unk_token=UNK,
        pad_token=PAD,
        model_max_length=model_max_length,
        padding_side="right",
        clean_up_tokenization_spaces=False,
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast
