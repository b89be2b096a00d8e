"""``logic``: multi-hop deduction over generated rules (ProntoQA-style, Saparov & He, arXiv 2210.01240).

Question (rules shuffled, fictional category names so that no world knowledge helps)::

    Every yumpus is red. Every wumpus is a yumpus. Every tumpus is blue. Every brimpus is a tumpus.
    Every dumpus is green. Every zumpus is purple. Max is a wumpus. What color is Max?

Trace: one hop per line, ``Every wumpus is a yumpus, so Max is a yumpus.`` ... ``Every yumpus is red, so Max
is red.``; answer: the color (``red``). The answer takes one of 12 colors, so the multiple-choice variant has
four real options: the three wrong ones are the colors that the distractor chains of the question end in.

Difficulty d: ``d + 1`` hops; three distractor chains of 1..hops rules each, ending in other colors; and
``d - 1`` dead-end branches off the main chain (``Every yumpus is a gorpus.`` with no rule for gorpus).
OOD: two more hops than the same difficulty's training items.
"""

from __future__ import annotations

import random
import re

from reasonsift.data.example import Example
from reasonsift.data.segment import by_newline
from reasonsift.tasks.base import BuiltinTask, Item, TraceCheck
from reasonsift.tasks.outcome import Outcome, final_answer, no_answer

COLORS = (
    "red",
    "blue",
    "green",
    "yellow",
    "orange",
    "purple",
    "brown",
    "white",
    "black",
    "grey",
    "pink",
    "gold",
)
ENTITIES = ("Max", "Sam", "Alex", "Polly", "Rex", "Fae", "Wren", "Stella", "Sally", "Tom")
# Consonant onsets only, so every category takes the article "a".
_ONSETS = [
    "b",
    "d",
    "f",
    "g",
    "j",
    "k",
    "l",
    "n",
    "r",
    "s",
    "t",
    "v",
    "w",
    "y",
    "z",
    "br",
    "dr",
    "fl",
    "gr",
    "pl",
    "sh",
    "sn",
    "st",
    "tr",
]
CATEGORIES = tuple(f"{o}{v}mpus" for o in _ONSETS for v in "aeiou")
N_DISTRACTOR_CHAINS = 3

_RULE = re.compile(r"Every ([a-z]+) is (a )?([a-z]+)\.")
_FACT = re.compile(r"([A-Z][a-z]+) is a ([a-z]+)\. What color is \1\?")
_STEP = re.compile(r"Every ([a-z]+) is (?:a )?([a-z]+), so ([A-Z][a-z]+) is (?:a )?([a-z]+)\.?")


def _rule(a: str, b: str) -> str:
    return f"Every {a} is {b}." if b in COLORS else f"Every {a} is a {b}."


def _step(a: str, b: str, who: str) -> str:
    art = "" if b in COLORS else "a "
    return f"Every {a} is {art}{b}, so {who} is {art}{b}."


def parse_logic(question: str) -> tuple[dict[str, set[str]], str, str]:
    """``(rules: category -> conclusions, entity, starting category)``; raises ValueError if malformed."""
    rules: dict[str, set[str]] = {}
    for m in _RULE.finditer(question):
        rules.setdefault(m.group(1), set()).add(m.group(3))
    fact = _FACT.search(question)
    if not fact or not rules:
        raise ValueError("question: expected rules 'Every A is a B.' then 'X is a A. What color is X?'")
    return rules, fact.group(1), fact.group(2)


def verify_logic(completion: str, example: Example) -> Outcome:
    """The last word of the final answer is the color (``red``, ``Max is red.``); case is ignored.

    >>> ex = Example("l", "... What color is Max?", "red")
    >>> [verify_logic(c, ex).state for c in ("Max is red.", " RED ", "blue", "reddish", "", "...")]
    ['correct', 'correct', 'wrong', 'wrong', 'no_answer', 'no_answer']
    """
    words = re.findall(r"[a-z]+", final_answer(completion).lower())
    if not words:
        return no_answer(completion)
    return Outcome.judged(words[-1] == example.meta.get("answer_text", example.answer), words[-1])


class Logic(BuiltinTask):
    name = "logic"
    domain = "logic"

    def hops(self, difficulty: int, split: str) -> int:
        return difficulty + 1 + (2 if split == "ood" else 0)

    def make(self, rng: random.Random, difficulty: int, split: str) -> Item:
        k = self.hops(difficulty, split)
        n_branches = difficulty - 1
        lengths = [rng.randint(1, k) for _ in range(N_DISTRACTOR_CHAINS)]
        names = rng.sample(CATEGORIES, k + sum(lengths) + n_branches)
        colors = rng.sample(COLORS, 1 + N_DISTRACTOR_CHAINS)
        who = rng.choice(ENTITIES)

        main, names = names[:k], names[k:]
        rules = [_rule(a, b) for a, b in zip(main, [*main[1:], colors[0]], strict=True)]
        steps = [_step(a, b, who) for a, b in zip(main, [*main[1:], colors[0]], strict=True)]
        for length, color in zip(lengths, colors[1:], strict=True):
            chain, names = names[:length], names[length:]
            rules += [_rule(a, b) for a, b in zip(chain, [*chain[1:], color], strict=True)]
        for dead_end in names:  # branches off the main chain that lead nowhere
            rules.append(_rule(rng.choice(main), dead_end))
        rng.shuffle(rules)
        question = " ".join(rules) + f" {who} is a {main[0]}. What color is {who}?"
        meta = {"hops": k, "n_rules": len(rules), "distractor_colors": colors[1:]}
        return Item(question=question, trace="\n".join(steps), answer=colors[0], meta=meta)

    def verify_free(self, completion: str, example: Example) -> Outcome:
        return verify_logic(completion, example)

    def distractors(self, rng: random.Random, item: Item, k: int) -> list[str]:
        # The colors the distractor chains end in: wrong answers a model reaches by following a wrong chain.
        out = list(item.meta["distractor_colors"])[:k]
        rest = [c for c in COLORS if c != item.answer and c not in out]
        return out + rng.sample(rest, k - len(out))

    def validate_trace(self, example: Example, trace: str) -> TraceCheck:
        """Each line applies a rule of the question to the previous conclusion (the first to the fact), for
        the question's entity; the last line concludes a color and nothing follows it."""
        try:
            rules, who, current = parse_logic(example.question)
        except ValueError as e:
            return TraceCheck(False, None, str(e))
        steps = by_newline(trace)
        for i, s in enumerate(steps):
            if current in COLORS:
                return TraceCheck(False, i, f"step after the conclusion {who} is {current}")
            m = _STEP.fullmatch(s)
            if not m:
                return TraceCheck(False, i, f"step {s!r} is not 'Every A is a B, so X is a B.'")
            a, b, subject, concl = m.groups()
            if b not in rules.get(a, set()):
                return TraceCheck(False, i, f"rule 'Every {a} is {b}' is not in the question")
            if a != current:
                return TraceCheck(False, i, f"premise {a!r} is not the current fact {who} is a {current}")
            if subject != who:
                return TraceCheck(False, i, f"step is about {subject}, the question is about {who}")
            if concl != b:
                return TraceCheck(
                    False, i, f"conclusion {concl!r} does not follow from the rule (it gives {b!r})"
                )
            current = b
        if current not in COLORS:
            return TraceCheck(False, len(steps), "trace ends before reaching a color")
        return TraceCheck(True)
