"""The ``global`` forking pool across real processes: two CPU processes (gloo, accelerate's gather) each get
the mask of tau taken over both processes' completion tokens — checked against a plain quantile of the union."""

from __future__ import annotations

import math
import os
import socket

import torch
import torch.multiprocessing as mp

RHO = 0.3


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _process(rank: int, port: int, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE="2",
                      LOCAL_RANK=str(rank), OMP_NUM_THREADS="1")  # fmt: skip
    from accelerate import Accelerator

    from reasonsift.ops.loss_masks import PAD_ENTROPY, forking_loss_mask

    acc = Accelerator(cpu=True)
    g = torch.Generator().manual_seed(rank)
    entropy = torch.rand(2, 5 + 3 * rank, generator=g) * 4  # the processes hold different lengths
    completion = torch.rand(entropy.shape, generator=g) > 0.3
    gather = lambda t: acc.gather(acc.pad_across_processes(t, dim=0, pad_index=PAD_ENTROPY))  # noqa: E731
    mask = forking_loss_mask(entropy, completion, RHO, "global", gather)
    torch.save((entropy, completion, mask), f"{out}/rank{rank}.pt")


def test_global_pool_across_two_processes(tmp_path):
    mp.spawn(_process, args=(_free_port(), str(tmp_path)), nprocs=2)
    parts = [torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1)]
    vals = sorted(float(x) for h, c, _ in parts for x in h[c])
    pos = (1 - RHO) * (len(vals) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    tau = vals[lo] + (vals[hi] - vals[lo]) * (pos - lo)
    kept = 0
    for h, c, m in parts:
        want = [
            [bool(c[b, t]) and float(h[b, t]) >= tau for t in range(h.shape[1])] for b in range(h.shape[0])
        ]
        assert m.tolist() == want
        kept += int(m.sum())
    assert 0 < kept < len(vals)
