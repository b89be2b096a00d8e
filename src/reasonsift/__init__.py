"""reasonsift: find the training signal that teaches a language model to reason."""

__version__ = "0.1.0"

from reasonsift.data.example import Example  # noqa: E402

__all__ = ["Example", "__version__"]
