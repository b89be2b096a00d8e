import json

import pandas as pd
from typer.testing import CliRunner

from reasonsift.cli import app


def test_profile_cli_end_to_end(tmp_path, model, tok, examples):
    mdir = tmp_path / "m"
    model.save_pretrained(mdir)
    tok.save_pretrained(mdir)
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(e.to_dict()) + "\n" for e in examples[:6]))
    out = tmp_path / "run"
    args = ["profile", str(data), "--model", str(mdir), "-o", str(out), "--shard-size", "4", "--no-infogain"]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    assert "forking tau" in r.output
    df = pd.read_parquet(out / "examples")
    assert len(df) == 6 and df.ifd.notna().all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["inputs"][0]["sha256"] and manifest["models"]["student"]["files_sha256"]
    # a second run into the same directory needs --resume or --overwrite: a clean error, not a traceback
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 1 and "--resume" in r.output
    # packing is runtime-only: a run may resume with it (equality with padded runs: test_profile_engine)
    r = CliRunner().invoke(app, [*args, "--resume", "--packing", "--pack-length", "40"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(app, [*args, "--overwrite", "--pack-length", "0"])
    assert r.exit_code == 1 and "--pack-length: expected >= 1" in r.output
    r = CliRunner().invoke(app, [*args[:-1], "--overwrite", "--rho", "1.5"])
    assert r.exit_code == 1 and "rho" in r.output
