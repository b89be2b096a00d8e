"""The batched, resumable profiling engine: per-token entropy, forking masks, IFD and information gain."""

from reasonsift.profile.config import ProfileConfig
from reasonsift.profile.engine import RunResult, run_profile

__all__ = ["ProfileConfig", "RunResult", "run_profile"]
