"""Models: safe loading of any Hugging Face causal LM, and the built-in tiny reasoner."""

from reasonsift.models.builtin import builtin_model_path, ensure_builtin_model
from reasonsift.models.load import load
from reasonsift.models.template import has_chat_template, render
from reasonsift.models.tiny import TinySpec, build_tiny_model, tiny_config
from reasonsift.models.tokenizer import build_tokenizer

__all__ = [
    "TinySpec",
    "build_tiny_model",
    "build_tokenizer",
    "builtin_model_path",
    "ensure_builtin_model",
    "has_chat_template",
    "load",
    "render",
    "tiny_config",
]
