"""Pure tensor math (entropy, log-probabilities, masks, IFD, information gain, statistics).

Each function documents tensor shapes and is tested against a naive float64 reference.
"""
