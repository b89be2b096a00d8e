"""Export built-in tasks as lm-evaluation-harness tasks: one JSONL of items and one YAML per task and split.

    reasonsift eval --export-lm-eval DIR --task arith:test --task maze:ood --limit 200
    lm_eval --model hf --model_args pretrained=MODEL --include_path DIR --tasks reasonsift_arith_test \\
        --apply_chat_template

Each item's ``question`` is the user turn reasonsift renders (``prompt_text``: lettered options for multiple
choice) and ``answer`` the reference final answer (the letter for multiple choice). The model's reply is cut to
the text after its last ``</think>`` (a ``regex`` filter) and scored by lm-eval's ``exact_match`` with
whitespace stripped. That is stricter than reasonsift's own verifiers wherever a task accepts more than one
string (a maze has several optimal plans; arithmetic accepts ``+7``): reasonsift's ``eval`` is the reference,
the export is for running the same items inside lm-eval. Pass ``--apply_chat_template`` so the prompt is
rendered as reasonsift renders it.
"""

from __future__ import annotations

import json
from pathlib import Path

from reasonsift.data.render import completion_text, prompt_text
from reasonsift.utils.io import atomic_write_text

# The final answer: the text after the last </think>, which must be the reply's last line (a reply with no
# </think> gets lm-eval's fallback "[invalid]" and so counts as wrong; reasonsift's own verifier calls it
# no_answer when a <think> is left open).
AFTER_THINK = r"</think>\s*((?:(?!</think>)[^\n])*?)\s*$"


def task_name(name: str, split: str) -> str:
    return "reasonsift_" + f"{name}_{split}".replace(":", "_").replace("-", "_")


def export_lm_eval(
    out_dir: str | Path,
    specs: list[str],
    *,
    n: int = 100,
    data_seed: int = 0,
    difficulty: int | None = None,
    max_new_tokens: int | None = None,
) -> list[Path]:
    """Write ``<task>.jsonl`` + ``<task>.yaml`` for each ``NAME[:SPLIT]`` in ``specs``; returns the YAML paths."""
    from reasonsift.evaluate.stage import parse_task_spec
    from reasonsift.tasks import get_task

    if not specs:
        raise ValueError("tasks: --export-lm-eval needs at least one --task NAME[:SPLIT]")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for spec in specs:
        name, split = parse_task_spec(spec)
        exs = get_task(name).generate(n, seed=data_seed, split=split, difficulty=difficulty)
        tname = task_name(name, split)
        data = out / f"{tname}.jsonl"
        rows = [{"id": e.id, "question": prompt_text(e), "answer": e.answer} for e in exs]
        atomic_write_text(data, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        # Room for the reference reply twice over, in characters as a crude token bound when not given.
        budget = max_new_tokens or 2 * max(len(completion_text(e)) for e in exs) + 16
        yaml = out / f"{tname}.yaml"
        atomic_write_text(yaml, _yaml(tname, data.resolve(), budget))
        written.append(yaml)
    return written


def _yaml(name: str, data: Path, max_gen_toks: int) -> str:
    q = json.dumps  # YAML accepts JSON strings: quoting and escaping done right
    return "\n".join(
        [
            f"task: {name}",
            "dataset_path: json",
            "dataset_kwargs:",
            "  data_files:",
            f"    test: {q(str(data))}",
            "test_split: test",
            "output_type: generate_until",
            f"doc_to_text: {q('{{question}}')}",
            f"doc_to_target: {q('{{answer}}')}",
            "generation_kwargs:",
            "  until: []",
            f"  max_gen_toks: {max_gen_toks}",
            "  do_sample: false",
            "filter_list:",
            "  - name: after_think",
            "    filter:",
            "      - function: regex",
            f"        regex_pattern: {q(AFTER_THINK)}",
            "      - function: take_first",
            "metric_list:",
            "  - metric: exact_match",
            "    aggregation: mean",
            "    higher_is_better: true",
            "    ignore_case: false",
            "    ignore_punctuation: false",
            "",
        ]
    )
