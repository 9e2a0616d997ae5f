"""Peer text shown as data (walletsync.text) and local names a phone cannot forge (walletsync.names): pure rules."""

from __future__ import annotations

import string
import unicodedata

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from walletsync.names import MAX_CELLS, BadName, derived_name, local_name, looks_the_same, skeleton, with_suffix
from walletsync.text import aligned, cell_width, cells, clip, pad, shown, unshown

ANY_TEXT = st.text(st.characters(codec=None, categories=None))  # every code point, lone surrogates included
HOSTILE = [
    "\x1b]0;pwned\x07\x1b[2J",
    "0x1234\nverified by 0xf39F… (ok)\x1b[8m",
    "\u202eevil\u2066",
    "desk\u200b",
    "\x9b31m",  # C1 CSI
    "\x7f\x00\r\t",
    "\ud800",
]


def _unsafe(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp")


@given(ANY_TEXT)
@example("\\x1b")
@example("\\\x1b")
@example("a\\")
@example("\\\\n\\u202e")
def test_shown_is_reversible(text):
    """Two different strings never look the same: ``unshown`` gives back what ``shown`` was given."""
    assert unshown(shown(text)) == text


@given(ANY_TEXT)
def test_shown_never_contains_a_control_format_or_bidi_character(text):
    assert not any(_unsafe(ch) for ch in shown(text))


@given(st.text(st.sampled_from(string.printable[:95].replace("\\", ""))))
def test_printable_ascii_is_unchanged(text):
    assert shown(text) == text


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_examples_print_on_one_visible_line(text):
    out = shown(text)
    assert out.isprintable() and "\n" not in out and "\x1b" not in out
    assert unshown(out) == text


def test_escapes_read_like_python_escapes():
    assert shown("\x1b]0;pwned\x07") == "\\x1b]0;pwned\\x07"
    assert shown("a\nb\u202ec\U000e0041") == "a\\nb\\u202ec\\U000e0041"
    assert shown("C:\\Users\\x") == "C:\\Users\\x", "a backslash is doubled only where it would read as an escape"
    assert shown("\\x1b") == "\\\\x1b"


@given(ANY_TEXT, st.integers(min_value=1, max_value=80))
def test_clipped_text_fits_its_width(text, width):
    out = shown(text, width)
    assert cells(out) <= width
    assert out == shown(text) or out.endswith("…")


@given(st.text())
@example("plain ascii\x07\t")
@example("0xab16a96D…")
@example("e\u0301日\u200b")
def test_cells_is_the_sum_of_each_characters_width_whatever_the_fast_paths(text):
    assert cells(text) == sum(cell_width(ch) for ch in text)


@given(st.text(st.sampled_from(string.printable[:95])), st.integers(min_value=0, max_value=80))
def test_printable_ascii_is_clipped_as_any_text(text, width):
    """The fast path for plain text clips it as the general one does."""
    assert shown(text, width) == clip(shown(text), width)


CELL_TEXT = st.one_of(st.text(st.sampled_from(string.printable[:95]), max_size=12), st.text(max_size=12))


@given(st.integers(min_value=1, max_value=5).flatmap(lambda n: st.lists(st.lists(CELL_TEXT, min_size=n, max_size=n))))
@example([["NAME", "PEER"], ["日本", "a"], ["e\u0301", "b\u200b"]])
@example([["a ", "b "], ["ab", "\u3000"]])
def test_aligned_rows_are_every_cell_padded(rows):
    """Aligning column by column (ASCII ones by ``str``'s own methods) gives the lines of padding each cell."""
    widths = [max(cells(row[i]) for row in rows) for i in range(len(rows[0]))] if rows else []
    assert aligned(rows) == ["  ".join(pad(c, w) for c, w in zip(row, widths)).rstrip() for row in rows]


def test_wide_characters_count_two_cells():
    assert cells("日本") == 4 and clip("日本語", 5) == "日本…"


# --- local names ----------------------------------------------------------------------------

NAME_TEXT = st.text(st.characters(codec=None, categories=None), max_size=300)


@given(NAME_TEXT)
@example("desk\u200b")
@example("\u202e" * 3)
@example("x" * 10_000)
@example("\x1b]0;pwned\x07\x1b[2J")
@example("\xa8\xaf0")  # NFKC turns both into space + mark: stripping one space must not leave a mark in front
def test_a_derived_name_is_always_a_valid_local_name(peer_name):
    """Whatever the phone calls itself, the name derived from it passes the rules a typed name must pass."""
    name = derived_name(peer_name)
    assert local_name(name) == name
    assert 1 <= cells(name) <= MAX_CELLS


@given(NAME_TEXT)
def test_local_name_accepts_only_what_it_would_keep(text):
    """A typed name is refused (BadName), or normalised to one that stays the same when checked again."""
    try:
        name = local_name(text)
    except BadName:
        return
    assert local_name(name) == name and name == name.strip()
    assert not any(_unsafe(ch) for ch in name) and cells(name) <= MAX_CELLS


INVISIBLE_OR_CONTROL = [
    "desk\u200b",
    "a\u202eb",
    "tab\there",
    "new\nline",
    "bom\ufeff",
    "\u2066x\u2069",
    "fill\u3164er",
]


@pytest.mark.parametrize("text", INVISIBLE_OR_CONTROL)
def test_invisible_bidi_and_control_characters_are_refused_in_a_typed_name(text):
    with pytest.raises(BadName) as caught:
        local_name(text)
    assert caught.value.code == "bad_name" and shown(str(caught.value)) == str(caught.value)


@pytest.mark.parametrize("text", ["", "   ", "x" * 65, "日" * 33])
def test_empty_or_too_wide_names_are_refused(text):
    with pytest.raises(BadName, match="1–64 characters"):
        local_name(text)


def test_names_are_normalised():
    assert local_name("  ｄｅｓｋ\u00a0 phone ") == "desk phone"


@pytest.mark.parametrize(
    "a, b",
    [
        ("desk", "DESK"),
        ("desk", "dеsk"),
        ("desk", "desk\ufe0f"),
        ("desk", "ｄｅｓｋ"),
        ("my desk", "my  desk"),
    ],
)
def test_names_that_display_the_same_look_the_same(a, b):
    """Case, width variants, invisible marks and Cyrillic/Greek look-alikes do not make a different name."""
    assert looks_the_same(a, b)


def test_different_names_do_not_look_the_same():
    assert not looks_the_same("desk", "desk2") and not looks_the_same("desk", "dusk")


@given(NAME_TEXT, st.sampled_from(["\u200b", "\u200d", "\ufeff", "\u2060", "\u202e", "\u2066"]), st.data())
def test_an_invisible_character_anywhere_does_not_change_the_skeleton(text, invisible, data):
    at = data.draw(st.integers(min_value=0, max_value=len(text)))
    assert skeleton(text[:at] + invisible + text[at:]) == skeleton(text)


@given(st.text(min_size=1, max_size=200).map(derived_name), st.integers(min_value=2, max_value=10_000))
def test_a_suffixed_name_still_fits(name, n):
    out = with_suffix(name, n)
    assert out.endswith(f" ({n})") and cells(out) <= MAX_CELLS and local_name(out) == out


def test_a_scope_warning_shows_a_stored_name_as_data():
    """A name stored before the name rules (or edited in the database) reaches the warning escaped, not raw."""
    from walletsync.protocol.namespaces import Beyond
    from walletsync.service import ScopeWidened

    line = ScopeWidened("ab" * 32, "desk\x1b]0;pwned\x07", Beyond(chains=("eip155:56",)), update=True).message()
    assert "\x1b" not in line and "\x07" not in line and "desk\\x1b]0;pwned\\x07" in line
