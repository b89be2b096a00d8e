"""Training: pretraining the built-in model from scratch (``pretrain``), SFT on TRL (``sft``); GRPO to come."""
