"""Models: safe loading of any Hugging Face causal LM, and the built-in tiny reasoner."""
