import pytest

from reasonsift.data.example import Example
from reasonsift.data.segment import by_markers, get_segmenter


def test_auto_prefers_lines_then_semicolons():
    assert Example("i", "q", "a", trace="a\n\nb\n").steps() == ["a", "b"]
    assert Example("i", "q", "a", trace="1+2=3;3-1=2").steps() == ["1+2=3", "3-1=2"]
    assert Example("i", "q", "a", trace="one step").steps() == ["one step"]
    assert Example("i", "q", "a", trace="").steps() == []


def test_markers_split_multi_line_steps():
    t = "Intro\nStep 1: a\nmore a\nStep 2: b"
    assert by_markers(t) == ["Intro", "Step 1: a\nmore a", "Step 2: b"]
    assert Example("i", "q", "a", trace=t).steps() == ["Intro", "Step 1: a\nmore a", "Step 2: b"]


def test_pluggable_and_unknown():
    assert Example("i", "q", "a", trace="a|b").steps(lambda t: t.split("|")) == ["a", "b"]
    with pytest.raises(ValueError, match="segmenter"):
        get_segmenter("nope")
