"""Seeded trace corruptions over any list of Examples (built-in or imported); the answer is never touched.

- ``swap``: each example gets the trace of another problem and keeps its own answer (Stechly, Kambhampati
  et al., arXiv 2505.13775, CLAIMS.md C3). A derangement: no example keeps its own trace; donors come from
  the same task (``meta["task"]``, else ``domain``) whenever that group has at least two examples.
- ``shuffle``: the trace's steps (``Example.steps()``) in a different order, re-joined with the trace's own
  separator (newline or ``;``).
- ``perturb``: numbers in the trace changed by a small nonzero amount (each with probability ``rate``, at
  least one per trace).
- ``drop``: no trace.

Each output records ``meta["corruption"]`` (the mode) and ``meta["corruption_seed"]``; ``swap`` adds
``meta["trace_from"]`` (the donor's id); ``shuffle``/``perturb`` add ``meta["corruption_changed"]`` (False
when the trace has nothing to shuffle or no number). Ids are kept: a corrupted example is the same problem.
"""

from __future__ import annotations

import copy
import random
import re
from collections import defaultdict

from reasonsift.data.example import Example
from reasonsift.data.segment import by_newline, by_semicolon

MODES = ("swap", "shuffle", "perturb", "drop")
_NUMBER = re.compile(r"\d+")


def corrupt(examples: list[Example], mode: str, *, seed: int = 0, rate: float = 0.3) -> list[Example]:
    """Corrupted copies of ``examples`` (inputs unchanged), in the same order."""
    if mode not in MODES:
        raise ValueError(f"mode: unknown {mode!r}; expected one of {', '.join(MODES)}")
    if not 0.0 < rate <= 1.0:
        raise ValueError(f"rate: {rate} must be in (0, 1]")
    out = [copy.deepcopy(e) for e in examples]
    if mode == "swap":
        donors = swap_donors(out, seed)
        traces = [e.trace for e in out]
        for i, e in enumerate(out):
            e.trace = traces[donors[i]]
            e.meta["trace_from"] = examples[donors[i]].id
    for i, e in enumerate(out):
        rng = random.Random(f"corrupt:{mode}:{seed}:{i}")
        if mode == "shuffle":
            e.trace, changed = shuffle_steps(e.trace, rng)
            e.meta["corruption_changed"] = changed
        elif mode == "perturb":
            e.trace, changed = perturb_numbers(e.trace, rng, rate)
            e.meta["corruption_changed"] = changed
        elif mode == "drop":
            e.trace = ""
        e.meta["corruption"] = mode
        e.meta["corruption_seed"] = seed
    return out


def swap_donors(examples: list[Example], seed: int) -> list[int]:
    """``donors[i]`` = index whose trace example ``i`` receives: a derangement, within groups when possible."""
    if len(examples) < 2:
        raise ValueError(f"swap: needs at least 2 examples, got {len(examples)}")
    rng = random.Random(f"corrupt:swap:{seed}")
    groups: dict[str, list[int]] = defaultdict(list)
    for i, e in enumerate(examples):
        groups[str(e.meta.get("task") or e.domain)].append(i)
    cycles = [g for g in groups.values() if len(g) >= 2]
    loners = [g[0] for g in groups.values() if len(g) == 1]
    if len(loners) >= 2:
        cycles.append(loners)
    elif loners:  # one example alone in its group: it joins the largest group's cycle
        max(cycles, key=len).append(loners[0])
    donors = list(range(len(examples)))
    for members in cycles:
        order = members[:]
        rng.shuffle(order)
        # A random cyclic order: each member takes the trace of the next one, so none keeps its own.
        for a, b in zip(order, order[1:] + order[:1], strict=True):
            donors[a] = b
    return donors


def _split_steps(trace: str) -> tuple[list[str], str]:
    """Steps and their separator, matching the ``auto`` segmenter's choice of lines or ``;`` pieces."""
    lines = by_newline(trace)
    if len(lines) > 1:
        return lines, "\n"
    pieces = by_semicolon(trace)
    return (pieces, ";") if len(pieces) > 1 else (lines, "\n")


def shuffle_steps(trace: str, rng: random.Random) -> tuple[str, bool]:
    """The steps in a different order (if they have two distinct steps), re-joined; ``(trace, changed)``."""
    steps, sep = _split_steps(trace)
    if len(set(steps)) < 2:
        return trace, False
    order = steps[:]
    while order == steps:
        rng.shuffle(order)
    return sep.join(order), True


def perturb_numbers(trace: str, rng: random.Random, rate: float) -> tuple[str, bool]:
    """Each digit run changed by +-1 or +-2 (never below 0) with probability ``rate``, at least one."""
    spans = [m.span() for m in _NUMBER.finditer(trace)]
    if not spans:
        return trace, False
    chosen = {i for i in range(len(spans)) if rng.random() < rate} or {rng.randrange(len(spans))}
    parts, last = [], 0
    for i, (a, b) in enumerate(spans):
        parts.append(trace[last:a])
        if i in chosen:
            v, delta = int(trace[a:b]), rng.choice([-2, -1, 1, 2])
            parts.append(str(v + delta if v + delta >= 0 else v + abs(delta)))
        else:
            parts.append(trace[a:b])
        last = b
    parts.append(trace[last:])
    return "".join(parts), True
