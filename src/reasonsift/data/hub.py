"""Hugging Face ``datasets`` inputs: a local ``save_to_disk`` directory, or a hub id where a network exists.

Offline (``HF_HUB_OFFLINE=1`` / ``HF_DATASETS_OFFLINE=1``, or the Hub unreachable) a hub id fails at once
with a message naming the id and suggesting a local path, instead of hanging in retries.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from urllib.parse import urlparse

from reasonsift.data.raw import RawRecord, RawSource, file_problem

_TRUE = ("1", "true", "yes", "on")


def _local_hint(repo_id: str) -> str:
    return (
        f"where a network exists run datasets.load_dataset({repo_id!r}).save_to_disk(DIR) "
        "and pass DIR (or a .jsonl/.parquet file) instead"
    )


def read_disk(p: Path, *, split: str = "train") -> RawSource:
    """Rows of a ``Dataset``/``DatasetDict`` saved with ``save_to_disk`` (line = row + 1)."""
    markers = ("dataset_info.json", "state.json", "dataset_dict.json")
    if not any((p / m).exists() for m in markers):
        raise file_problem(
            str(p), "a directory, but not a Hugging Face save_to_disk directory (no dataset_info.json)"
        )
    import datasets

    ds = datasets.load_from_disk(str(p))
    if isinstance(ds, datasets.DatasetDict):
        if split not in ds:
            raise file_problem(str(p), f"no split {split!r}; available: {', '.join(ds)}")
        ds = ds[split]
    return _source(str(p), p.name, p.name, ds)


def read_hub(repo_id: str, *, split: str = "train") -> RawSource:
    """Rows of ``split`` of a Hub dataset; fails fast (``DataError``) when offline."""
    if any(os.environ.get(v, "").lower() in _TRUE for v in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")):
        raise file_problem(
            repo_id,
            f"not a local path, and HF_HUB_OFFLINE is set so the hub dataset {repo_id!r} cannot be "
            f"downloaded; {_local_hint(repo_id)}",
        )
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    if not hub_reachable(endpoint):
        raise file_problem(
            repo_id,
            f"not a local path, and {endpoint} cannot be reached to download the hub dataset "
            f"{repo_id!r}; {_local_hint(repo_id)}",
        )
    import datasets

    try:
        ds = datasets.load_dataset(repo_id, split=split)
    except Exception as e:  # the hub raises many types; the user needs the id and a way out, not a traceback
        raise file_problem(
            repo_id,
            f"could not load hub dataset {repo_id!r} ({type(e).__name__}: {e}); {_local_hint(repo_id)}",
        ) from None
    return _source(repo_id, repo_id, repo_id.rsplit("/", 1)[-1], ds)


def hub_reachable(endpoint: str, timeout: float = 5.0) -> bool:
    """A TCP connect to the endpoint, so that no network means a quick answer rather than minutes of retries.

    Behind an HTTP(S) proxy a direct connect proves nothing, so the check is skipped there.
    """
    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")):
        return True
    url = urlparse(endpoint)
    try:
        with socket.create_connection((url.hostname or "", url.port or 443), timeout=timeout):
            return True
    except OSError:
        return False


def _source(path: str, name: str, stem: str, ds) -> RawSource:
    src = RawSource(path, name, stem, "hf")
    src.records = [RawRecord(i, r, r) for i, r in enumerate(ds.to_list(), 1)]
    if not src.records:
        raise file_problem(path, "empty dataset (no records)")
    return src
