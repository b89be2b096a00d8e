"""Load any Hugging Face causal LM safely: local directory first, hub id second, with clear refusals.

Safety defaults:
- ``trust_remote_code=False``: a repository's own Python (``config.auto_map``) would run on this machine.
- safetensors only: a pickle checkpoint (``pytorch_model.bin``) can execute arbitrary code when unpickled, so
  it is refused unless ``allow_pickle=True``.
- a hub id without network (or with ``HF_HUB_OFFLINE=1``) fails at once with a ``ValueError`` naming the id and
  suggesting a local path, instead of a long hang or a raw traceback.
"""

from __future__ import annotations

import json
import os
import pickle
import re
from pathlib import Path

import torch
from safetensors import SafetensorError
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

# What a hub download needs: configs, tokenizer files, safetensors weights (pickles only when allowed).
_HUB_PATTERNS = ["*.json", "*.safetensors", "*.model", "*.txt", "*.jinja", "*.tiktoken"]
_ETAG_TIMEOUT_S = 5.0
_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


_DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


def check_device(name: str | torch.device) -> None:
    """Refuse a device string that is not auto, cpu, cuda, cuda:N or mps, before any model is loaded.

    Only the spelling is checked here; whether CUDA is present is :func:`resolve_device`'s question.
    """
    if isinstance(name, torch.device):
        return
    if not isinstance(name, str) or not _DEVICE.match(name):
        raise ValueError(
            f"device: expected auto, cpu, cuda, cuda:N or mps, got {name!r}; pass one of these to --device"
        )


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    check_device(device)
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device: {device!r} requested but CUDA is not available")
    return dev


def resolve_dtype(dtype: str | torch.dtype, device: torch.device) -> torch.dtype:
    """``auto``: bfloat16 on CUDA, float32 on CPU (bf16 matmuls on CPU are slow and lossy)."""
    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype == "auto":
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    if dtype not in _DTYPES:
        raise ValueError(f"dtype: unknown {dtype!r}; expected auto, {', '.join(_DTYPES)}")
    return _DTYPES[dtype]


def is_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def _looks_like_path(name: str) -> bool:
    # Hub ids are "name" or "org/name"; anything else with a separator, or starting with . ~ /, is a path.
    return name.startswith((".", "~", "/")) or name.count("/") > 1 or os.sep != "/" and os.sep in name


def resolve_local_dir(name_or_path: str, *, revision: str | None = None, allow_pickle: bool = False) -> Path:
    """A local directory holding the model: ``name_or_path`` itself, or the hub snapshot (cache first)."""
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        return path
    if path.exists() or _looks_like_path(name_or_path):
        raise FileNotFoundError(f"model: {name_or_path!r} is not a model directory")
    from huggingface_hub import snapshot_download

    patterns = _HUB_PATTERNS + (["*.bin", "*.pt"] if allow_pickle else [])
    try:
        return Path(
            snapshot_download(name_or_path, revision=revision, allow_patterns=patterns, local_files_only=True)
        )
    except Exception:  # not cached: go online below (unless offline)
        pass
    hint = "pass a local directory (e.g. one saved with save_pretrained or `reasonsift model pretrain`)"
    if is_offline():
        raise ValueError(
            f"model: {name_or_path!r} is not a local directory and not in the Hugging Face cache, and "
            f"HF_HUB_OFFLINE is set; {hint}"
        )
    try:
        return Path(
            snapshot_download(
                name_or_path, revision=revision, allow_patterns=patterns, etag_timeout=_ETAG_TIMEOUT_S
            )
        )
    except Exception as e:  # network, auth, not found: one clear message instead of a traceback
        first_line = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise ValueError(
            f"model: could not fetch {name_or_path!r} from the Hugging Face Hub "
            f"({type(e).__name__}: {first_line}); {hint}"
        ) from None


def check_weights(model_dir: Path, *, allow_pickle: bool) -> bool:
    """True when the directory has safetensors weights; refuse pickles unless allowed. Returns use_safetensors."""
    if any(model_dir.glob("*.safetensors")) or (model_dir / "model.safetensors.index.json").exists():
        return True
    pickles = sorted(p.name for p in model_dir.glob("*.bin")) + sorted(p.name for p in model_dir.glob("*.pt"))
    if pickles:
        if not allow_pickle:
            raise ValueError(
                f"model: {model_dir} has only pickle weights ({', '.join(pickles)}) and no safetensors; "
                "unpickling can execute arbitrary code, so this is refused. Convert the checkpoint to "
                "safetensors, or pass allow_pickle=True (--allow-pickle) if you trust its source"
            )
        return False
    raise FileNotFoundError(f"model: no weights (*.safetensors) in {model_dir}")


def weight_files(model_dir: Path) -> list[str]:
    """Names of the checkpoint files in ``model_dir`` (safetensors, else pickles), for messages."""
    names = sorted(p.name for p in model_dir.glob("*.safetensors"))
    return names or sorted(p.name for p in [*model_dir.glob("*.bin"), *model_dir.glob("*.pt")])


def check_safetensors(model_dir: Path) -> None:
    """Read every safetensors header (cheap: no tensor data) so that a corrupt or truncated file is named."""
    from safetensors import safe_open

    for f in sorted(model_dir.glob("*.safetensors")):
        try:
            with safe_open(str(f), framework="pt"):
                pass
        except (SafetensorError, OSError) as e:
            raise ValueError(
                f"model: {f} is not a valid safetensors file ({_first_line(e)}); the checkpoint is "
                "corrupt or incomplete, download or save it again"
            ) from None


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else ""


def check_remote_code(model_dir: Path, *, trust_remote_code: bool) -> None:
    """Refuse a model whose class exists only as code in its repository unless ``trust_remote_code``."""
    cfg_path = model_dir / "config.json"
    if not cfg_path.is_file():
        raise FileNotFoundError(f"model: no config.json in {model_dir}")
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    if trust_remote_code or "auto_map" not in cfg:
        return
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    if cfg.get("model_type") not in CONFIG_MAPPING:
        raise ValueError(
            f"model: {model_dir} needs its own code (config.auto_map, model_type "
            f"{cfg.get('model_type')!r}); running it executes the repository's Python on this machine. "
            "Pass trust_remote_code=True (--trust-remote-code) only if you trust its author"
        )


def load(
    name_or_path: str | os.PathLike,
    *,
    revision: str | None = None,
    dtype: str | torch.dtype = "auto",
    device: str | torch.device = "auto",
    trust_remote_code: bool = False,
    allow_pickle: bool = False,
    attn_implementation: str | None = None,
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load a causal LM and its tokenizer (eval mode, pad token set) from a directory or a hub id.
    ``attn_implementation``: passed to ``from_pretrained`` (``sdpa``, ``eager``, ``flash_attention_2``, ...);
    None keeps transformers' choice."""
    dev = resolve_device(device)
    dt = resolve_dtype(dtype, dev)
    model_dir = resolve_local_dir(str(name_or_path), revision=revision, allow_pickle=allow_pickle)
    check_remote_code(model_dir, trust_remote_code=trust_remote_code)
    use_safetensors = check_weights(model_dir, allow_pickle=allow_pickle)
    if use_safetensors:
        check_safetensors(model_dir)
    tok = AutoTokenizer.from_pretrained(model_dir, trust_remote_code=trust_remote_code)
    try:
        attn = {"attn_implementation": attn_implementation} if attn_implementation else {}
        model = AutoModelForCausalLM.from_pretrained(
            model_dir, dtype=dt, trust_remote_code=trust_remote_code, use_safetensors=use_safetensors, **attn
        )
    except (EOFError, OSError, RuntimeError, pickle.UnpicklingError, SafetensorError) as e:
        # A corrupt or truncated checkpoint surfaces as any of these, deep inside transformers/torch.
        # torch's own UnpicklingError text suggests weights_only=False, i.e. running the pickle: not shown.
        unpickle = isinstance(e, pickle.UnpicklingError)
        detail = "not a readable PyTorch pickle" if unpickle else f"{type(e).__name__}: {_first_line(e)}"
        raise ValueError(
            f"model: could not read the weights {', '.join(weight_files(model_dir))} in {model_dir} "
            f"({detail}); the checkpoint is corrupt, incomplete or does not match config.json; "
            "download or save it again"
        ) from None
    model = model.to(dev)
    model.eval()
    ensure_pad_token(model, tok)
    return model, tok


def ensure_pad_token(model: PreTrainedModel, tok: PreTrainedTokenizerBase) -> None:
    """Batched generation needs a pad token: reuse EOS (masked out by the attention mask) when missing."""
    if tok.pad_token is None:
        if tok.eos_token is None:
            raise ValueError("tokenizer: has neither a pad nor an eos token; cannot pad batches")
        tok.pad_token = tok.eos_token
    if model.generation_config is not None and model.generation_config.pad_token_id is None:
        model.generation_config.pad_token_id = tok.pad_token_id


def load_with(cfg, name: str | os.PathLike | None = None) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """:func:`load` ``name`` (default ``cfg.model``) with a stage config's loading options: ``revision`` (if the
    config has one), ``dtype``, ``device``, ``trust_remote_code``, ``allow_pickle``, ``attn_implementation``.
    Every stage loads its models through this, so the safety options mean the same everywhere."""
    return load(
        cfg.model if name is None else name,
        revision=getattr(cfg, "revision", None),
        dtype=getattr(cfg, "dtype", "auto"),
        device=getattr(cfg, "device", "auto"),
        trust_remote_code=cfg.trust_remote_code,
        allow_pickle=cfg.allow_pickle,
        attn_implementation=getattr(cfg, "attn_implementation", None),
    )
