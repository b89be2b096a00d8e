"""``--engine ray``: the same run directory as a local run (rows, numbers, order), on a local Ray instance of
2 workers; a worker killed mid-run is restarted and its shard recomputed; a driver killed mid-run resumes."""

from __future__ import annotations

import json
import os

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

pytest.importorskip("ray.data")

from reasonsift.data.io import write_examples  # noqa: E402
from reasonsift.evaluate.stage import EvalStageConfig  # noqa: E402
from reasonsift.evaluate.stage import main as evaluate  # noqa: E402
from reasonsift.models.builtin import ensure_builtin_model  # noqa: E402
from reasonsift.profile import run_profile  # noqa: E402
from reasonsift.profile.config import ProfileConfig  # noqa: E402
from reasonsift.scale.ray_engine import CRASH_ENV  # noqa: E402
from reasonsift.tasks import get_task  # noqa: E402

RAY = {"engine": "ray", "ray_workers": 2, "progress": False}
VOLATILE = {"elapsed_s", "tokens_per_s"}


@pytest.fixture(scope="module", autouse=True)
def ray_instance(tmp_path_factory):
    """One local Ray instance for the module (actors are slow to start on 2 cores). Its workers inherit the
    crash hook: the actor that first takes profile shard 2 exits at once."""
    import ray

    ray.shutdown()
    flag = tmp_path_factory.mktemp("crash") / "crashed"
    os.environ[CRASH_ENV] = f"{flag}:2"
    try:
        yield flag
    finally:
        ray.shutdown()
        del os.environ[CRASH_ENV]


@pytest.fixture(scope="module")
def model_dir():
    return str(ensure_builtin_model("tiny-arith", progress=False))


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "pool.jsonl"
    write_examples(get_task("arith").generate(20, seed=5, split="train"), path)
    return path


def _profile(out, data, model_dir, **kw):
    cfg = ProfileConfig(data=str(data), model=model_dir, out_dir=str(out), shard_size=6, top_k=2, **kw)
    return run_profile(cfg)


def _table(root, name):
    return pd.read_parquet(root / name).reset_index(drop=True)


def _close(x, y, key=""):
    """Equal up to float rounding (an actor computes with its own thread count: another summation order)."""
    if isinstance(x, dict) and isinstance(y, dict):
        assert set(x) == set(y), key
        for k in x:
            _close(x[k], y[k], f"{key}.{k}")
    elif isinstance(x, float) or isinstance(y, float):
        assert x == pytest.approx(y, rel=1e-5, abs=1e-6), key
    else:
        assert x == y, key


def _same_profile(a, b):
    for name in ("examples", "forking.parquet"):
        pd.testing.assert_frame_equal(
            _table(a, name), _table(b, name), check_exact=False, rtol=1e-5, atol=1e-6
        )
    sa, sb = (json.loads((r / "stats.json").read_text()) for r in (a, b))
    _close(
        {k: v for k, v in sa.items() if k not in VOLATILE}, {k: v for k, v in sb.items() if k not in VOLATILE}
    )


@pytest.fixture(scope="module")
def local_profile(tmp_path_factory, data, model_dir):
    return _profile(tmp_path_factory.mktemp("local"), data, model_dir, progress=False).out_dir


def _driver_never_reads_whole(monkeypatch):
    """On Ray the driver validates the input chunk by chunk and the actors read their own chunks: a
    whole-file read on the driver fails the test."""

    def whole(*a, **k):
        raise AssertionError("the driver read the whole input")

    monkeypatch.setattr("reasonsift.data.io.read_examples", whole)


def test_profile_on_ray_equals_local_through_crashes_and_resumes(
    tmp_path, data, model_dir, local_profile, ray_instance, monkeypatch
):
    """Started in-process and killed after shard 0; resumed on Ray, where a worker dies (Ray restarts it and
    recomputes its shard) and then the driver is killed after one more shard; resumed on Ray again. The run
    directory ends equal to an uninterrupted local run: rows, numbers (up to float rounding), input order.
    On Ray the actors read their own shards of the file."""
    out = tmp_path / "run"
    kw = {"data": str(data), "model": model_dir, "out_dir": str(out), "shard_size": 6, "top_k": 2}
    written = []

    def crash(i):
        written.append(i)
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError, match="killed"):
        run_profile(ProfileConfig(**kw, progress=False), on_shard=crash)
    _driver_never_reads_whole(monkeypatch)
    with pytest.raises(RuntimeError, match="killed"):  # the engine options are runtime-only: resume on Ray
        run_profile(ProfileConfig(**kw, resume=True, **RAY), on_shard=crash)
    assert written[0] == 0 and written[1] != 0
    parts = {i: out / "examples" / f"part-{i:05d}.parquet" for i in written}
    before = {i: p.stat().st_mtime_ns for i, p in parts.items()}
    again = []
    res = run_profile(ProfileConfig(**kw, resume=True, **RAY), on_shard=again.append)
    assert sorted(again + written) == [0, 1, 2, 3]  # only the missing shards were computed
    assert {i: p.stat().st_mtime_ns for i, p in parts.items()} == before  # the written ones were kept
    assert ray_instance.read_text().startswith("killed the worker of shard 2")  # a worker did die
    assert res.n_profiled == 20 and len(list((out / "examples").glob("part-*.parquet"))) == 4
    ids = pq.read_table(out / "examples", columns=["id"])["id"].to_pylist()
    assert (
        ids == _table(local_profile, "examples")["id"].tolist()
    )  # input order, whatever order shards finished
    _same_profile(out, local_profile)
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["resolved"] == {"dtype": "float32"}
    manifest = json.loads((out / "manifest.json").read_text())
    local_manifest = json.loads((local_profile / "manifest.json").read_text())
    assert (
        manifest["models"]["student"]["files_sha256"] == local_manifest["models"]["student"]["files_sha256"]
    )


def test_profile_on_ray_from_parquet_row_groups(tmp_path, data, model_dir, local_profile, monkeypatch):
    """A Parquet pool whose row groups (4 rows) do not line up with the shards (6 rows), with --limit: each
    actor reads its rows, and the run equals the local run of the same records."""
    from reasonsift.data.io import read_examples

    exs = read_examples(str(data)).examples
    path = tmp_path / "pool.parquet"
    pq.write_table(pa.Table.from_pylist([e.to_dict() for e in exs]), path, row_group_size=4)
    local = _profile(tmp_path / "local", data, model_dir, progress=False, limit=15).out_dir
    _driver_never_reads_whole(monkeypatch)
    ray_run = _profile(tmp_path / "ray", path, model_dir, limit=15, **RAY)
    assert ray_run.n_profiled == 15
    _same_profile(ray_run.out_dir, local)


def test_eval_on_ray_equals_local_with_sampling(tmp_path, model_dir):
    kw = {"model": model_dir, "tasks": ["arith:test"], "limit": 10, "n": 2, "k": [1, 2], "temperature": 1.0,
          "shard_size": 3, "infogain": False, "progress": False, "workers": 1}  # fmt: skip
    a = evaluate(EvalStageConfig(out_dir=str(tmp_path / "local"), **kw))
    b = evaluate(EvalStageConfig(out_dir=str(tmp_path / "ray"), **kw, engine="ray", ray_workers=2))
    sa, sb = (pd.read_parquet(r.out_dir / "samples.parquet") for r in (a, b))
    pd.testing.assert_frame_equal(sa, sb)
    assert len(sb) == 20 and len(list((b.out_dir / "shards").glob("part-*.parquet"))) == 4
    assert a.results["metrics"] == b.results["metrics"] and a.results["quality"] == b.results["quality"]


def test_ray_refuses_in_process_models(tmp_path, data, model_dir):
    from reasonsift.models.load import load

    pair = load(model_dir)
    with pytest.raises(ValueError, match="^engine: --engine ray loads the models by name"):
        run_profile(ProfileConfig(data=str(data), model=model_dir, out_dir=str(tmp_path / "x"), **RAY), pair)


def test_engine_options_are_checked():
    with pytest.raises(ValueError, match="^engine: expected one of local, ray"):
        ProfileConfig(data="d", model="m", engine="spark")
    with pytest.raises(ValueError, match="^ray_workers: expected >= 1"):
        EvalStageConfig(model="m", out_dir="o", tasks=["arith"], ray_workers=0)
    with pytest.raises(ValueError, match="^ray_address: given with --engine local"):
        ProfileConfig(data="d", model="m", ray_address="auto")
