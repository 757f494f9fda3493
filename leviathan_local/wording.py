"""English for messages: counted nouns, "a" or "an", and the one "did you mean" suggestion.

Messages are read by people; "1 problems", "a AWS key" and "task(s)" make them read like a
machine's. Every message that counts, names a kind or suggests a near name goes through here.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

# Letters whose spoken name starts with a vowel sound ("an FBI agent", "an SQL query").
_VOWEL_SOUND_LETTERS = frozenset("AEFHILMNORSX")
# Words that start with a vowel letter but a consonant sound, and the reverse.
_CONSONANT_SOUND_WORDS = ("one", "once", "uni", "use", "usa", "user", "eu", "ewe")
_VOWEL_SOUND_WORDS = ("hour", "honest", "honor", "honour", "heir")


def article(phrase: str) -> str:
    """``phrase`` with "a" or "an" before it, by how its first word sounds: an initialism
    (an upper-case word, as `AWS`) is read letter by letter."""
    first = phrase.split(maxsplit=1)[0] if phrase.strip() else ""
    return f"{'an' if _starts_with_vowel_sound(first) else 'a'} {phrase}"


def _starts_with_vowel_sound(word: str) -> bool:
    letters = word.strip("\"'`(")
    if not letters:
        return False
    if len(letters) > 1 and letters.isupper():  # read letter by letter
        return letters[0] in _VOWEL_SOUND_LETTERS
    lowered = letters.lower()
    if lowered.startswith(_VOWEL_SOUND_WORDS):
        return True
    if lowered.startswith(_CONSONANT_SOUND_WORDS):
        return False
    return lowered[0] in "aeiou"


def plural(count: int, singular: str, many: str | None = None) -> str:
    """``count`` with the noun that fits it: "1 task", "2 tasks", "0 processes" (``many`` for
    a plural that is not singular + "s")."""
    return f"{count} {singular if count == 1 else many or singular + 's'}"


def them(count: int) -> str:
    """The pronoun for ``count`` things just listed: "fix it" or "fix them"."""
    return "it" if count == 1 else "them"


def agrees(count: int, one: str, many: str) -> str:
    """The word (a verb, a determiner) that agrees with ``count``: "1 task waits", "2 tasks wait"."""
    return one if count == 1 else many


def did_you_mean(word: str, choices: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The choice closest to ``word`` when one is close enough to be what was meant, else None."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=cutoff)
    return close[0] if close else None


def suggestion(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` to append to a message about ``word``, or nothing."""
    close = did_you_mean(word, choices)
    return f" (did you mean {close!r}?)" if close else ""
