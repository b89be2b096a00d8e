"""A real reasoning-gym dataset, written as JSONL items, imported by the gym importer."""

import json

import pytest

reasoning_gym = pytest.importorskip("reasoning_gym")

from reasonsift.data.io import read_examples  # noqa: E402


def test_real_reasoning_gym_basic_arithmetic(tmp_path):
    ds = reasoning_gym.create_dataset("basic_arithmetic", size=5, seed=1)
    items = [{"question": x["question"], "answer": x["answer"], "metadata": x["metadata"]} for x in ds]
    p = tmp_path / "basic_arithmetic.jsonl"
    p.write_text("".join(json.dumps(x) + "\n" for x in items), encoding="utf-8")
    r = read_examples(str(p))
    assert r.format == "gym" and r.n_read == 5 and not r.rejects
    for i, (ex, item) in enumerate(zip(r.examples, items, strict=True)):
        assert ex.id == f"basic_arithmetic-{i + 1}"
        assert (ex.question, ex.answer, ex.trace, ex.format) == (
            item["question"],
            item["answer"],
            "",
            "free_form",
        )
        assert ex.domain == "basic_arithmetic"
        assert ex.source == f"basic_arithmetic:{item['metadata']['source_index']}"
        assert ex.meta == json.loads(json.dumps(item["metadata"]))
        # the reference answer still scores 1.0 with the gym's own verifier after import
        assert ds.score_answer(ex.answer, entry=ds[i]) == 1.0
