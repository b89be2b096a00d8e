"""The pretraining data: an endless, seeded stream of documents from built-in tasks.

Three kinds of document, mixed by weight, all rendered with the chat template via
:func:`reasonsift.data.render.to_messages`:

- ``trace``: question + ``<think>trace</think>answer`` — the model learns to reason when asked;
- ``answer``: question + answer only — reasoning is never shown;
- ``trace_only``: an assistant turn ``<think>trace</think>answer`` with no question. A model pretrained on
  ``answer`` + ``trace_only`` has seen how to compute but never *when* to think after a question: a *base*
  model whose reasoning is latent (Venhoff et al., arXiv 2510.07364; CLAIMS.md C2).

The batch for step ``s`` is a pure function of ``(seed, s)``, so a resumed run sees exactly the documents an
uninterrupted one would have.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping, Sequence

from transformers import PreTrainedTokenizerBase

from reasonsift.data.example import Example
from reasonsift.data.render import completion_text, to_messages
from reasonsift.models.template import render
from reasonsift.tasks import get_task

KINDS = ("trace", "answer", "trace_only")


def parse_mixture(spec: str) -> dict[str, float]:
    """``"trace=1,answer=0.5"`` -> ``{"trace": 1.0, "answer": 0.5, "trace_only": 0.0}``.

    >>> parse_mixture("trace=3,answer=1")
    {'trace': 3.0, 'answer': 1.0, 'trace_only': 0.0}
    """
    out = dict.fromkeys(KINDS, 0.0)
    for part in filter(None, (p.strip() for p in spec.split(","))):
        key, sep, val = part.partition("=")
        key = key.strip()
        if not sep or key not in KINDS:
            raise ValueError(f"mixture: expected kind=weight with kind in {', '.join(KINDS)}, got {part!r}")
        try:
            out[key] = float(val)
        except ValueError:
            raise ValueError(f"mixture: weight of {key!r} is not a number: {val!r}") from None
    check_mixture(out)
    return out


def check_mixture(mixture: Mapping[str, float]) -> None:
    unknown = set(mixture) - set(KINDS)
    if unknown:
        raise ValueError(f"mixture: unknown kinds {sorted(unknown)}; expected {', '.join(KINDS)}")
    if any(w < 0 for w in mixture.values()) or sum(mixture.values()) <= 0:
        raise ValueError(f"mixture: weights must be >= 0 with a positive sum, got {dict(mixture)}")


def render_document(tokenizer: PreTrainedTokenizerBase, ex: Example, kind: str) -> str:
    """One training document of ``kind`` for ``ex``."""
    if kind == "trace":
        messages = to_messages(ex)
    elif kind == "answer":
        messages = to_messages(ex, trace="")
    elif kind == "trace_only":
        messages = [{"role": "assistant", "content": completion_text(ex)}]
    else:
        raise ValueError(f"kind: unknown {kind!r}; expected one of {', '.join(KINDS)}")
    return render(tokenizer, messages)


def batch_documents(
    tokenizer: PreTrainedTokenizerBase,
    tasks: Sequence[str],
    mixture: Mapping[str, float],
    *,
    seed: int,
    step: int,
    batch_size: int,
    difficulty: int | None = None,
) -> list[str]:
    """The ``batch_size`` documents of training step ``step``: task uniform, kind by ``mixture`` weight.

    Item indices ``step * batch_size + j`` are distinct across the run, so no training item repeats.
    """
    rng = random.Random(f"pretrain:{seed}:{step}")
    kinds = [k for k in KINDS if mixture.get(k, 0) > 0]
    weights = [mixture[k] for k in kinds]
    docs = []
    for j in range(batch_size):
        task = get_task(rng.choice(list(tasks)))
        kind = rng.choices(kinds, weights)[0]
        ex = task.example(step * batch_size + j, seed=seed, split="train", difficulty=difficulty)
        docs.append(render_document(tokenizer, ex, kind))
    return docs


def chain_hash(previous: str, docs: Sequence[str]) -> str:
    """Running data hash: ``sha256(previous || sha256(docs))`` — resumable, order-sensitive."""
    h = hashlib.sha256()
    for d in docs:
        h.update(d.encode("utf-8"))
        h.update(b"\0")
    return hashlib.sha256(f"{previous}:{h.hexdigest()}".encode()).hexdigest()
