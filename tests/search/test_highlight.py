"""Marking the words found: escaped first, then marked."""

from __future__ import annotations

from tracker.search.highlight import highlight, spans


def test_matches_are_marked_after_escaping() -> None:
    assert highlight("<script>疾控</script>", ["疾控"]) == "&lt;script&gt;<mark>疾控</mark>&lt;/script&gt;"
    assert highlight("a<b", ["<"]) == "a<mark>&lt;</mark>b"
    assert highlight("ABC abc", ["b"]) == "A<mark>B</mark>C a<mark>b</mark>c"
    assert highlight(None, ["x"]) == ""


def test_overlapping_words_are_one_mark() -> None:
    assert spans("疾控中心", ["疾控", "控中"]) == [(0, 3)]
    assert highlight("疾控中心", ["疾控", "中心"]) == "<mark>疾控中心</mark>"
    assert highlight("100%_", ["%_"]) == "100<mark>%_</mark>"
