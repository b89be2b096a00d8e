"""The entropy colour scale shared by the token spans (JS) and the dataset plots (SVG).

Matplotlib's ``magma`` reversed and cut at 90% so the darkest colour is indigo, not black: perceptually
uniform (equal steps in H look like equal steps in colour) and light at low entropy, so the mass of
near-deterministic tokens stays quiet and the rare high-entropy "forking" tokens stand out.
"""

from __future__ import annotations

import math

# matplotlib.colormaps["magma_r"](np.linspace(0, 0.9, 10)) as hex.
STOPS = (
    "#fcfdbf",
    "#fecf92",
    "#fe9f6d",
    "#f7705c",
    "#de4968",
    "#b5367a",
    "#8c2981",
    "#641a80",
    "#3b0f70",
    "#140e36",
)
# Log scale floor: entropies below this all get the lightest colour. Most tokens of a trained model sit
# far below 0.01 nats (Wang et al. 2506.01939: ~50% of CoT tokens have H < 0.01), hence a log axis.
LOG_FLOOR = 1e-3


def scale_position(h: float, h_max: float, log: bool = True) -> float:
    """Position in [0, 1] of entropy ``h`` on a scale that ends at ``h_max`` (log from LOG_FLOOR, or linear)."""
    if h_max <= 0:
        raise ValueError(f"h_max: must be > 0, got {h_max}")
    if not math.isfinite(h):
        return 1.0
    if log:
        top = max(h_max, LOG_FLOOR * 10)
        pos = (math.log10(max(h, LOG_FLOOR)) - math.log10(LOG_FLOOR)) / (
            math.log10(top) - math.log10(LOG_FLOOR)
        )
    else:
        pos = h / h_max
    return min(1.0, max(0.0, pos))


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def colour_at(pos: float) -> str:
    """Linear interpolation between STOPS at ``pos`` in [0, 1], as ``#rrggbb``."""
    pos = min(1.0, max(0.0, pos)) * (len(STOPS) - 1)
    i = min(int(pos), len(STOPS) - 2)
    f = pos - i
    a, b = _rgb(STOPS[i]), _rgb(STOPS[i + 1])
    return "#" + "".join(f"{round(x + (y - x) * f):02x}" for x, y in zip(a, b, strict=True))
