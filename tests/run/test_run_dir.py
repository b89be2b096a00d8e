"""The run contract: create / overwrite / resume checks, shards with markers, rejects, manifest, configs."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import ClassVar

import pyarrow as pa
import pytest

from reasonsift.run import RunDir, StageConfig, build_manifest, input_record, read_manifest, run_record

SCHEMA = pa.schema([("id", pa.string()), ("x", pa.float32())])


@dataclass
class Cfg(StageConfig):
    RUNTIME_ONLY: ClassVar[tuple[str, ...]] = ("device",)

    data: str = ""
    batch_size: int = 4
    rho: float = 0.2
    device: str = "auto"
    dtype: str = "auto"
    tasks: list[str] = field(default_factory=lambda: ["arith"])
    limit: int | None = None

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"batch_size: expected >= 1, got {self.batch_size}")


def _record(cfg=None, sha="a" * 64, dtype="float32"):
    return run_record("t", cfg or Cfg(), {"data": {"path": "d.jsonl", "sha256": sha}}, {"dtype": dtype})


def _start(run, rec, **kw):
    run.begin(rec, **{"resume": False, "overwrite": False, **kw})


def test_create_then_rerun_needs_resume_or_overwrite(tmp_path):
    run = RunDir(tmp_path / "r", stage="t")
    run.check(_record(), resume=False, overwrite=False)  # nothing there yet: fine
    assert not (tmp_path / "r").exists()  # check writes nothing
    _start(run, _record())
    assert json.loads(run.config_path.read_text())["config"]["batch_size"] == 4
    with pytest.raises(ValueError, match=r"out_dir: .* already holds a t run; use --resume or --overwrite"):
        run.check(_record(), resume=False, overwrite=False)
    with pytest.raises(ValueError, match="exclude"):
        run.check(_record(), resume=True, overwrite=True)


@pytest.mark.parametrize(
    ("rec", "message"),
    [
        (_record(Cfg(rho=0.5)), r"rho: differs from the run .*0\.2 there, 0\.5 now"),
        (
            _record(sha="b" * 64),
            r"data: d\.jsonl is not the data .* \(sha256 aaaaaaaaaaaa there, bbbbbbbbbbbb now\)",
        ),
        (
            _record(dtype="bfloat16"),
            r"dtype: resolves to 'bfloat16' now but was 'float32' .*pass --dtype float32",
        ),
    ],
)
def test_resume_refuses_other_options_data_or_dtype(tmp_path, rec, message):
    run = RunDir(tmp_path, stage="t")
    _start(run, _record())
    with pytest.raises(ValueError, match=message):
        run.begin(rec, resume=True, overwrite=False)


def test_resume_allows_runtime_only_changes_and_keeps_the_config(tmp_path):
    run = RunDir(tmp_path, stage="t")
    _start(run, _record())
    before = run.config_path.read_text()
    run.begin(_record(Cfg(device="cpu")), resume=True, overwrite=False)
    assert run.config_path.read_text() == before


def test_overwrite_removes_only_the_stage_outputs(tmp_path):
    run = RunDir(tmp_path, stage="t", outputs=("stats.json", "ckpt*"))
    _start(run, _record())
    run.write_shard(0, [{"id": "a", "x": 1.0}], [], {"n": 1}, SCHEMA)
    for name in ("stats.json", "manifest.json", "notes.txt"):
        (tmp_path / name).write_text("{}")
    (tmp_path / "ckpt-1").mkdir()
    run.begin(_record(Cfg(rho=0.5)), resume=False, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json", "notes.txt"]
    assert json.loads(run.config_path.read_text())["config"]["rho"] == 0.5


def test_shards_marker_last_and_rejects_with_reasons(tmp_path):
    run = RunDir(tmp_path)
    run.schema = SCHEMA
    assert run.read().num_rows == 0
    run.write_shard(0, [{"id": "a", "x": 1.0}], [{"id": "b", "reason": "over the context"}], {"n": 1})
    run.write_shard(1, [{"id": "c", "x": 2.0}], [], {"n": 1})
    assert run.is_done(0) and run.done_info(0) == {"n": 1}
    assert run.read(["id"]).column("id").to_pylist() == ["a", "c"]
    assert run.collect_rejects(2) == 1
    assert json.loads((tmp_path / "rejects.jsonl").read_text())["reason"] == "over the context"
    with pytest.raises(ValueError, match="reason"):
        run.write_shard(2, [], [{"id": "d"}], {})
    assert not run.is_done(2)
    run.marker(1).unlink()  # a shard without its marker is not done (a crash between the two writes)
    assert not run.is_done(1)


def test_manifest_traces_inputs_to_their_runs(tmp_path):
    parent = tmp_path / "select"
    parent.mkdir()
    (parent / "selected.jsonl").write_text('{"id": "a"}\n')
    (parent / "manifest.json").write_text(json.dumps(build_manifest("select", {})))
    rec = input_record(parent / "selected.jsonl")
    assert rec["run_dir"] == str(parent.resolve()) and rec["stage"] == "select" and len(rec["sha256"]) == 64
    loose = tmp_path / "loose.jsonl"
    loose.write_text("{}\n")
    m = build_manifest(
        "profile", Cfg().to_dict(), inputs=[rec, input_record(loose)], resolved={"dtype": "float32"}
    )
    assert m["parents"] == [str(parent.resolve())] and m["stage"] == "profile"
    assert set(m) >= {"created", "models", "inputs", "config", "versions", "git_commit", "resolved"}
    run = tmp_path / "run"
    run.mkdir()
    (run / "manifest.json").write_text(json.dumps(m))
    assert read_manifest(run)["inputs"][1]["path"] == str(loose)
    with pytest.raises(FileNotFoundError, match="not a finished run"):
        read_manifest(tmp_path)


def test_config_from_dict_and_yaml(tmp_path):
    assert Cfg.from_dict({"rho": 1, "tasks": ["a"]}).rho == 1
    with pytest.raises(ValueError, match="^bogus: unknown Cfg field"):
        Cfg.from_dict({"bogus": 1})
    with pytest.raises(ValueError, match="^batch_size: expected int, got 'x'"):
        Cfg.from_dict({"batch_size": "x"})
    with pytest.raises(ValueError, match="^limit: expected"):
        Cfg.from_dict({"limit": 1.5})
    with pytest.raises(ValueError, match="^batch_size: expected >= 1"):
        Cfg.from_dict({"batch_size": 0})
    recipe = tmp_path / "r.yaml"
    recipe.write_text("batch_size: 8\nrho: 0.3  # share of forking tokens\n")
    cfg = Cfg.from_yaml(recipe, rho=0.4)
    assert (cfg.batch_size, cfg.rho) == (8, 0.4)  # the file, then the overrides
    recipe.write_text("batch_size: 0\n")
    with pytest.raises(ValueError, match=f"^{recipe}: batch_size: expected >= 1"):
        Cfg.from_yaml(recipe)
    recipe.write_text("- a\n")
    with pytest.raises(ValueError, match="mapping"):
        Cfg.from_yaml(recipe)
    assert Cfg.default("tasks") == ["arith"] and Cfg.default("limit") is None
    assert Cfg(device="cpu").result_dict() == {k: v for k, v in Cfg().to_dict().items() if k != "device"}


def test_a_resolved_fact_that_is_no_option_says_how_to_resume(tmp_path):
    run = RunDir(tmp_path, stage="pretrain", config_file="run_config.json")
    _start(run, run_record("pretrain", Cfg(), resolved={"precision": "float32"}))
    with pytest.raises(ValueError, match="^precision: .* run it on the same device to resume it"):
        run.begin(run_record("pretrain", Cfg(), resolved={"precision": "bf16"}), resume=True, overwrite=False)
    assert (tmp_path / "run_config.json").exists() and not (tmp_path / "config.json").exists()
