from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch
from typer.testing import CliRunner

from reasonsift.cli import app
from reasonsift.models.info import model_info

runner = CliRunner()


def test_model_info(saved_dir, tiny_model):
    facts = model_info(str(saved_dir))
    assert facts["architecture"] == "LlamaForCausalLM"
    assert facts["parameters"] == sum(p.numel() for p in tiny_model.parameters())
    assert facts["vocab_size"] == 105 and facts["context_length"] == 128
    assert facts["template"] == "present"
    res = runner.invoke(app, ["model", "info", str(saved_dir), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["template"] == "present"
    res = runner.invoke(app, ["model", "info", str(saved_dir)])
    assert "LlamaForCausalLM" in res.stdout and "present" in res.stdout


def test_model_info_plain_template(saved_dir):
    cfg = json.loads((saved_dir / "tokenizer_config.json").read_text())
    cfg.pop("chat_template", None)
    (saved_dir / "tokenizer_config.json").write_text(json.dumps(cfg))
    (saved_dir / "chat_template.jinja").unlink(missing_ok=True)
    assert model_info(str(saved_dir))["template"] == "plain"


def test_cli_refusal_is_a_clean_error(saved_dir):
    (saved_dir / "model.safetensors").unlink()
    res = runner.invoke(app, ["model", "info", str(saved_dir)])
    assert res.exit_code == 1 and "no weights" in res.output and "Traceback" not in res.output


def test_cli_pretrain_then_eval(tmp_path):
    out = tmp_path / "m"
    args = ["model", "pretrain", "-o", str(out), "--steps", "3", "--batch-size", "4", "--layers", "1"]
    args += ["--hidden", "16", "--heads", "2", "--intermediate", "32", "--mixture", "trace=1,answer=1"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "saved" in res.stdout
    rec = json.loads((out / "reasonsift_pretrain.json").read_text())
    assert rec["config"]["mixture"] == {"trace": 1.0, "answer": 1.0, "trace_only": 0.0}
    res = runner.invoke(
        app,
        [
            "model",
            "eval",
            str(out),
            "-n",
            "4",
            "--split",
            "test,ood",
            "--max-new-tokens",
            "4",
            "--json",
            str(tmp_path / "e.json"),
        ],
    )
    assert res.exit_code == 0, res.output
    scores = json.loads((tmp_path / "e.json").read_text())["scores"]
    assert [(s["split"], s["n"]) for s in scores] == [("test", 4), ("ood", 4)]
    states = ("correct", "wrong", "no_answer", "timeout", "error")
    assert all(sum(s[k] for k in states) == 4 and s["timeout"] == s["error"] == 0 for s in scores)
    res = runner.invoke(app, ["model", "pretrain", "-o", str(out), "--mixture", "thinking=1"])
    assert res.exit_code == 1 and "mixture" in res.output


def test_saved_model_loads_in_fresh_process_with_plain_transformers(saved_dir, tiny_model, tok, tmp_path):
    ids = tok("<|user|>12+30<|assistant|><think>", add_special_tokens=False).input_ids
    with torch.no_grad():
        want = tiny_model.eval()(torch.tensor([ids])).logits
    script = textwrap.dedent(
        f"""
        import sys, torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
        tok = AutoTokenizer.from_pretrained({str(saved_dir)!r})
        model = AutoModelForCausalLM.from_pretrained({str(saved_dir)!r}).eval()
        assert "reasonsift" not in sys.modules
        ids = tok.apply_chat_template([{{"role": "user", "content": "12+30"}}], add_generation_prompt=True)
        ids = (ids["input_ids"] if isinstance(ids, dict) or hasattr(ids, "keys") else ids) + tok.convert_tokens_to_ids(["<think>"])
        with torch.no_grad():
            torch.save(model(torch.tensor([ids])).logits, {str(tmp_path / "logits.pt")!r})
        """
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    subprocess.run([sys.executable, "-c", script], check=True, env=env, timeout=120)
    got = torch.load(tmp_path / "logits.pt")
    assert torch.equal(got, want)


@pytest.mark.slow
def test_lm_eval_harness_runs_on_saved_model(saved_dir, tmp_path):
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps({"q": f"{i}+1", "a": str(i + 1)}) + "\n" for i in range(4)))
    tasks = tmp_path / "tasks"
    tasks.mkdir()
    (tasks / "rs_tiny.yaml").write_text(
        textwrap.dedent(
            f"""
            task: rs_tiny
            dataset_path: json
            dataset_kwargs:
              data_files:
                test: {data}
            test_split: test
            output_type: generate_until
            doc_to_text: "<|user|>{{{{q}}}}<|assistant|>"
            doc_to_target: "{{{{a}}}}"
            generation_kwargs:
              until: ["</s>"]
              max_gen_toks: 8
              do_sample: false
            metric_list:
              - metric: exact_match
            """
        )
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    lm_eval = os.path.join(os.path.dirname(sys.executable), "lm_eval")
    cmd = [lm_eval, "--model", "hf", "--model_args", f"pretrained={saved_dir}", "--tasks", "rs_tiny"]
    cmd += [
        "--include_path",
        str(tasks),
        "--device",
        "cpu",
        "--batch_size",
        "2",
        "--output_path",
        str(tmp_path / "out"),
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "rs_tiny" in proc.stdout and "exact_match" in proc.stdout
