"""The vLLM backend (``pip install reasonsift[vllm]``; vLLM needs a GPU), written against vLLM's documented
offline API: ``vllm.LLM(model=...)``, ``vllm.SamplingParams(n, temperature, top_p, max_tokens, stop, seed)``
and ``LLM.generate``. Same outputs as the HF backend: ``[prompt][sample]`` :class:`Generation` records with
the completion cut before the stop string, ``finish_reason`` mapped from vLLM's (``"stop"`` with a string
``stop_reason`` is a stop string, ``"stop"`` otherwise is EOS, ``"length"`` is ``max_tokens``).

Not run in this repository's CI (no GPU); see docs/evaluate.md. Budget forcing is HF-only for now.
"""

from __future__ import annotations

from reasonsift.evaluate.backends.base import Backend, Generation, ProgressFn, SamplingParams

INSTALL_HINT = "the vllm backend needs vLLM (and a GPU): pip install reasonsift[vllm]"


def import_vllm():
    """``vllm``, or an ``ImportError`` that says what to install."""
    try:
        import vllm
    except ImportError as e:
        raise ImportError(INSTALL_HINT) from e
    return vllm


class VLLMBackend(Backend):
    """``model``: a model directory / Hugging Face id (loaded with ``vllm.LLM(model, **llm_kwargs)``) or a
    ready ``vllm.LLM``. ``tokenizer`` is unused (vLLM loads the model's own) and accepted for symmetry."""

    name = "vllm"

    def __init__(self, model, tokenizer=None, **llm_kwargs):
        self.vllm = import_vllm()
        self.llm = self.vllm.LLM(model=str(model), **llm_kwargs) if isinstance(model, str) else model

    def _params(self, params: SamplingParams):
        return self.vllm.SamplingParams(
            n=params.n,
            temperature=params.temperature,
            top_p=params.top_p,
            max_tokens=params.max_new_tokens,
            stop=list(params.stop) or None,
            seed=params.seed,
        )

    def generate(
        self, prompts: list[str], params: SamplingParams, on_progress: ProgressFn | None = None
    ) -> list[list[Generation]]:
        if params.budget_forcing:
            raise ValueError(
                "min_thinking_tokens/max_thinking_tokens: budget forcing is implemented in the hf backend only"
            )
        outs = self.llm.generate(list(prompts), self._params(params), use_tqdm=False)
        result = []
        for req in outs:  # vLLM returns the requests in input order
            gens = []
            for c in req.outputs:
                if c.finish_reason == "length":
                    reason = "length"
                else:
                    reason = "stop" if isinstance(getattr(c, "stop_reason", None), str) else "eos"
                gens.append(Generation(text=c.text, n_tokens=len(c.token_ids), finish_reason=reason))
            result.append(gens)
            if on_progress:
                on_progress(len(gens), sum(g.n_tokens for g in gens))
        return result

    def loglikelihood(self, requests: list[tuple[str, str]]) -> list[float]:
        """lm-eval's vLLM recipe: one token of generation with ``prompt_logprobs=0`` over context +
        continuation; the sum of the continuation's prompt log-probs."""
        tok = self.llm.get_tokenizer()
        prompts, starts = [], []
        for ctx, cont in requests:
            c = tok(ctx, add_special_tokens=False).input_ids if ctx else []
            x = tok(cont, add_special_tokens=False).input_ids
            if not c:
                c = [tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id]
            prompts.append({"prompt_token_ids": c + x})
            starts.append(len(c))
        sp = self.vllm.SamplingParams(max_tokens=1, temperature=0.0, prompt_logprobs=0)
        outs = self.llm.generate(prompts, sp, use_tqdm=False)
        res = []
        for p, s, o in zip(prompts, starts, outs, strict=True):
            ids = p["prompt_token_ids"]
            res.append(float(sum(o.prompt_logprobs[i][ids[i]].logprob for i in range(s, len(ids)))))
        return res
