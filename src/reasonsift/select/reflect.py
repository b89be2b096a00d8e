"""The selective-reflection rule (Li et al., Selective Reflection-Tuning, arXiv 2402.10110; CLAIMS.md C7).

Between an original pair (Q, A) and a teacher's refinement (Q*, A*), the *student* decides, from its own IFD
(s(A|Q) / s(A): is the question hard for it?) and r-IFD (PPL(Q|A) / PPL(Q): does the response make the
question predictable, i.e. is the pair feasible? lower is better):

- IFD(Q*) > IFD(Q) (branch ``refined_question``: the refined question is harder for the student):
  keep (Q*, A*) when r-IFD(Q*, A*) < r-IFD(Q*, A) and both < 1, else drop;
- else (branch ``original_question``): keep (Q, A*) when r-IFD(Q, A*) < r-IFD(Q, A) and both < 1, else drop.

How CLAIMS.md's wording is read here:
- IFD(Q) is the IFD of the original pair (Q, A) and IFD(Q*) that of the refined pair (Q*, A*), as the paper's
  instruction step compares the two pairs the teacher's instruction reflection produced.
- "r-IFD(Q*)" is read as r-IFD(Q*, A): r-IFD is a property of a (question, response) pair, and with only two
  versions per record the response that competes with A* under the question Q* is the original A. Both
  branches then ask the same thing under a fixed question: is the refined response more feasible than the
  original one? (the paper's response step).
- "both < 1": both r-IFD values of the comparison are < 1 (each response is feasible).
- A non-finite IFD (an example the profile could not score: over the context, empty target) drops the pair
  with branch ``unscored``; a non-finite r-IFD fails its comparisons, so that branch drops the pair.
"""

from __future__ import annotations

import dataclasses
import math
import tempfile
from pathlib import Path
from typing import Any

from reasonsift.data.example import FIELDS, Example

REFINED, ORIGINAL_Q_REFINED_A, DROPPED = "refined", "original_q_refined_a", "dropped"
# The four combinations a pair needs, by the tag used in their profile ids.
COMBOS = ("QA", "Q*A*", "QA*", "Q*A")


def reflect_choice(
    ifd_q: float,
    ifd_qstar: float,
    rifd_qstar_astar: float,
    rifd_qstar: float,
    rifd_q_astar: float,
    rifd_q_a: float,
) -> tuple[str, str]:
    """The rule above as a pure function. Returns ``(choice, branch)``.

    Args:
        ifd_q: IFD(Q, A). ifd_qstar: IFD(Q*, A*).
        rifd_qstar_astar: r-IFD(Q*, A*). rifd_qstar: r-IFD(Q*, A) (see the module docstring).
        rifd_q_astar: r-IFD(Q, A*). rifd_q_a: r-IFD(Q, A).

    ``choice`` is ``"refined"`` (keep (Q*, A*)), ``"original_q_refined_a"`` (keep (Q, A*)) or ``"dropped"``;
    ``branch`` is ``"refined_question"``, ``"original_question"`` or ``"unscored"``.

    >>> reflect_choice(0.8, 0.9, 0.5, 0.7, 0.6, 0.6)
    ('refined', 'refined_question')
    >>> reflect_choice(0.9, 0.8, 0.5, 0.7, 0.4, 0.6)
    ('original_q_refined_a', 'original_question')
    """
    if not (math.isfinite(ifd_q) and math.isfinite(ifd_qstar)):
        return DROPPED, "unscored"
    if ifd_qstar > ifd_q:
        ok = rifd_qstar_astar < rifd_qstar and rifd_qstar_astar < 1 and rifd_qstar < 1
        return (REFINED if ok else DROPPED), "refined_question"
    ok = rifd_q_astar < rifd_q_a and rifd_q_astar < 1 and rifd_q_a < 1
    return (ORIGINAL_Q_REFINED_A if ok else DROPPED), "original_question"


def _combine(q: Example, a: Example, id_: str) -> Example:
    """Question, choices and format of ``q`` with the trace and answer of ``a``."""
    return dataclasses.replace(a, id=id_, question=q.question, choices=q.choices, format=q.format)


def _pair(original: list[Example], refined: list[Example]) -> list[tuple[Example, Example]]:
    for label, exs in (("original", original), ("refined", refined)):
        ids = [e.id for e in exs]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"{label}: id(s) {', '.join(map(repr, dup[:5]))} occur more than once")
    by_id = {e.id: e for e in refined}
    orig_ids = {e.id for e in original}
    only_o = [e.id for e in original if e.id not in by_id]
    only_r = [e.id for e in refined if e.id not in orig_ids]
    if only_o or only_r:
        parts = []
        if only_o:
            parts.append(f"only in original: {', '.join(map(repr, only_o[:10]))}")
        if only_r:
            parts.append(f"only in refined: {', '.join(map(repr, only_r[:10]))}")
        raise ValueError(f"ids: every record needs its pair by id; {'; '.join(parts)}")
    return [(o, by_id[o.id]) for o in original]


def score_combinations(
    pairs: list[tuple[Example, Example]], model, tokenizer, **profile_kw: Any
) -> list[dict]:
    """IFD and r-IFD of (Q, A), (Q*, A*), (Q, A*) and (Q*, A) per pair, from one profile run of the student.

    ``profile_kw`` goes to :class:`~reasonsift.profile.ProfileConfig` (``out_dir`` keeps the run; by default
    it is written to a temporary directory and removed). Returns per pair ``{combo: {"ifd", "r_ifd"}}``.
    """
    import pyarrow.parquet as pq

    from reasonsift.profile import ProfileConfig, run_profile

    examples = []
    for k, (o, r) in enumerate(pairs):
        # ids by position: unique whatever the records' own ids look like
        examples += [
            dataclasses.replace(o, id=f"{k}:QA"),
            dataclasses.replace(r, id=f"{k}:Q*A*"),
            _combine(o, r, f"{k}:QA*"),
            _combine(r, o, f"{k}:Q*A"),
        ]
    kw = {"model": "in-process student", "progress": False, **profile_kw, "ifd": True, "infogain": False}
    kw.setdefault("top_k", 0)
    with tempfile.TemporaryDirectory() as tmp:
        kw.setdefault("out_dir", str(Path(tmp) / "profile"))
        result = run_profile(ProfileConfig(**kw), (model, tokenizer), examples=examples)
        files = sorted((result.out_dir / "examples").glob("*.parquet"))
        rows = [r for f in files for r in pq.read_table(f, columns=["id", "ifd", "r_ifd"]).to_pylist()]
    got = {r["id"]: r for r in rows}  # a rejected example (over the context) has no row: its numbers are nan
    nan = float("nan")
    out = []
    for k in range(len(pairs)):
        row = {}
        for c in COMBOS:
            r = got.get(f"{k}:{c}", {})
            row[c] = {m: (nan if r.get(m) is None else float(r[m])) for m in ("ifd", "r_ifd")}
        out.append(row)
    return out


def reflect_pairs(
    original: list[Example], refined: list[Example], model, tokenizer, **profile_kw: Any
) -> list[dict]:
    """Apply :func:`reflect_choice` to every (original, refined) pair, paired by id, scored by the student.

    Returns one dict per pair, in ``original``'s order: ``id``, ``choice``, ``branch``, ``reason`` (the four
    numbers that decided it), the six numbers (``ifd_q, ifd_qstar, rifd_qstar_astar, rifd_qstar_a,
    rifd_q_astar, rifd_q_a``), and the chosen Example's fields (the refined Example for ``refined``; for
    ``original_q_refined_a`` the refined one with the original's question, choices and format; ``None`` for
    a dropped pair).
    """
    pairs = _pair(original, refined)
    scores = score_combinations(pairs, model, tokenizer, **profile_kw) if pairs else []
    out = []
    for (o, r), s in zip(pairs, scores, strict=True):
        nums = {
            "ifd_q": s["QA"]["ifd"],
            "ifd_qstar": s["Q*A*"]["ifd"],
            "rifd_qstar_astar": s["Q*A*"]["r_ifd"],
            "rifd_qstar_a": s["Q*A"]["r_ifd"],
            "rifd_q_astar": s["QA*"]["r_ifd"],
            "rifd_q_a": s["QA"]["r_ifd"],
        }
        choice, branch = reflect_choice(*nums.values())
        chosen = {REFINED: r, ORIGINAL_Q_REFINED_A: _combine(o, r, o.id)}.get(choice)
        fields = chosen.to_dict() if chosen is not None else dict.fromkeys(FIELDS)
        fields["id"] = o.id
        out.append(
            {"id": o.id, "choice": choice, "branch": branch, "reason": _reason(branch, nums), **nums}
            | {k: v for k, v in fields.items() if k != "id"}
        )
    return out


def _reason(branch: str, n: dict[str, float]) -> str:
    head = f"IFD(Q*,A*) {n['ifd_qstar']:.4g} vs IFD(Q,A) {n['ifd_q']:.4g}"
    if branch == "unscored":
        return f"{head}: not both scored"
    if branch == "refined_question":
        return f"{head}; r-IFD(Q*,A*) {n['rifd_qstar_astar']:.4g} vs r-IFD(Q*,A) {n['rifd_qstar_a']:.4g}"
    return f"{head}; r-IFD(Q,A*) {n['rifd_q_astar']:.4g} vs r-IFD(Q,A) {n['rifd_q_a']:.4g}"
