"""The rules for names: session display names, dataset keys and scenario tags.

A name is stored in Unicode NFC, so that the same text typed on two systems (é as
one code point or as e + combining accent) is one name. Characters that do not
show or that change how text around them shows are refused: control characters
(Unicode category Cc, NUL included), format characters (Cf: the right-to-left
override U+202E, the zero-width space U+200B, joiners, the byte-order mark),
surrogates (Cs) and the line and paragraph separators (Zl, Zp). A name must not
begin or end with whitespace: such a name is refused, not trimmed, so that what is
stored is what was sent.

Two names that differ only in case or width ("Week1", "week1", and "Week1" in
full-width letters) are one name for uniqueness: `name_key` is what the stores
keep unique.
"""

from __future__ import annotations

import unicodedata

from algomancy_core.errors import ConflictError, InvalidInputError
from algomancy_data.limits import quote

#: The default of `CoreConfig.max_name_chars`, the one limit on a name's length.
MAX_NAME_LENGTH = 200
#: Unicode categories a name must not hold (see the module's docstring).
REFUSED_CATEGORIES = {
    "Cc": "control character",
    "Cf": "format character",
    "Cs": "surrogate",
    "Zl": "line separator",
    "Zp": "paragraph separator",
}


def nfc(name: str) -> str:
    """`name` in NFC, the form names are stored in: a look-up by a name sent in
    another form (e as e + combining accent) finds it."""
    return name if unicodedata.is_normalized("NFC", name) else unicodedata.normalize("NFC", name)


def name_key(name: str) -> str:
    """What two names must not share to be distinct: NFKC with case folded (full
    width and compatibility forms fold to their plain letters)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())


def describe(ch: str) -> str:
    """`U+202E (RIGHT-TO-LEFT OVERRIDE)` for error messages."""
    return f"U+{ord(ch):04X} ({unicodedata.name(ch, 'unnamed')})"


def check_name(kind: str, value: object, limit: int = MAX_NAME_LENGTH) -> str:
    """A display name, tag or key, in NFC: a non-blank string of at most `limit`
    characters that can be one URL path segment: no `/`, no control or format
    characters, no whitespace at either end, not `.` or `..` (nor only dots).
    `InvalidInputError` names what is wrong (and where)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"{kind} must be a non-empty string")
    if len(value) > limit:
        raise InvalidInputError(
            f"{kind} must be at most {limit} characters (max_name_chars); it has {len(value)}"
        )
    for position, ch in enumerate(value, start=1):
        category = unicodedata.category(ch)
        if category in REFUSED_CATEGORIES:
            raise InvalidInputError(
                f"{kind} must not contain the {REFUSED_CATEGORIES[category]} "
                f"{describe(ch)}, found at character {position}"
            )
    value = unicodedata.normalize("NFC", value)
    if len(value) > limit:
        raise InvalidInputError(f"{kind} must be at most {limit} characters (max_name_chars)")
    if value != value.strip():
        end = "begin" if value[0].isspace() else "end"
        raise InvalidInputError(
            f"{kind} must not {end} with whitespace ({quote(value)}); "
            "names are not trimmed: send it without"
        )
    if "/" in value:
        raise InvalidInputError(f"{kind} must not contain '/'")
    if not value.replace(".", "").strip():
        raise InvalidInputError(f"{kind} must not be '.' or '..' (nor only dots)")
    return value


def _taken(what: str, name: str, existing: str | None, plural: str) -> ConflictError:
    if existing is None or existing == name:
        return ConflictError(f"{what.format(name=repr(name))} already exists")
    return ConflictError(
        f"{what.format(name=repr(existing))} already exists; {name!r} is the same name "
        f"({plural} differing only in case, width or Unicode form are one name)"
    )


def session_taken(display_name: str, existing: str | None = None) -> ConflictError:
    """The 409 of a taken display name, naming the session that has it when spelled
    differently."""
    return _taken("a session named {name}", display_name, existing, "display names")


def dataset_taken(key: str, existing: str | None = None) -> ConflictError:
    """The 409 of a taken dataset key (see `session_taken`)."""
    return _taken("dataset {name}", key, existing, "keys")


def scenarios_full(limit: int) -> ConflictError:
    """The 409 of a create in a session that holds `limit` scenarios already."""
    return ConflictError(
        f"the scenario limit is reached: a session may hold {limit} scenarios "
        "(max_scenarios_per_session); delete one first"
    )


def tag_taken(tag: str, existing: str | None = None) -> ConflictError:
    """The 409 of a taken scenario tag (see `session_taken`)."""
    return _taken("a scenario tagged {name}", tag, existing, "tags")
