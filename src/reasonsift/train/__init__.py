"""Training: pretraining the built-in model from scratch (``pretrain``); SFT and GRPO live beside it."""
