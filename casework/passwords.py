"""What makes a password acceptable, after the NCSC's password guidance.

A password is refused when it is empty, only whitespace, shorter than :data:`MIN_PASSWORD_LENGTH`,
longer than :data:`MAX_PASSWORD_LENGTH`, contains the person's username, first or last name or the
local part of their email address, or is common: on the bundled deny-list of common and breached
passwords (``casework/data/common_passwords.txt.gz``; its sources and licences are in the README beside
it), a trivial variant of one (other case, spaces left out, digits or punctuation added at either end,
simple character swaps such as ``p@ssw0rd``), one short unit repeated (``aaaaaaaaaa``, ``abcabcabcabc``)
or a run along the alphabet, the digits or a keyboard row (``1234567890``, ``abcdefghij``,
``qwertyuiop``). There are no composition rules: nothing must contain a digit, a capital or a symbol.

Nothing is stripped from the password that is stored: the checks look at a lowercased copy. The
deny-list is read from disk once, the first time it is needed, and kept (no network is used).
"""

from __future__ import annotations

import gzip
import string
from functools import cache
from importlib import resources

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 128
MIN_PERSONAL_PART = 3  # shorter names and usernames are not looked for inside a password
MIN_CORE = 3  # a password stripped of digits and punctuation at its ends is looked up if this long
SHORT_UNIT = 4  # a password that is one unit of at most this many characters repeated is common

ENTER_A_PASSWORD = "Enter a password"
ONLY_WHITESPACE = "Password must contain something other than spaces"
TOO_SHORT = f"Password must be {MIN_PASSWORD_LENGTH} characters or more"
TOO_LONG = f"Password must be {MAX_PASSWORD_LENGTH} characters or fewer"
PERSONAL = "Password must not contain your username, your name or your email address"
TOO_COMMON = "Password is too common: choose one that is hard to guess, such as three random words"

_DENY_LIST = ("data", "common_passwords.txt.gz")
_ENDS = string.digits + string.punctuation + string.whitespace
_SEQUENCES = (
    "abcdefghijklmnopqrstuvwxyz",
    "0123456789",
    "qwertyuiopasdfghjklzxcvbnm",
    "qwertyuiop[]",
    "asdfghjkl;'#",
    "zxcvbnm,./",
    "`1234567890-=",
    "!@#$%^&*()_+",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/",
)
_RUNS = tuple(run for sequence in _SEQUENCES for run in (sequence * 2, sequence[::-1] * 2))
_SWAPS = (
    str.maketrans({"@": "a", "4": "a", "8": "b", "3": "e", "6": "g", "1": "i", "!": "i", "0": "o",
                   "$": "s", "5": "s", "7": "t"}),
    str.maketrans({"1": "l", "|": "l"}),
)


@cache
def common_passwords() -> frozenset[str]:
    """The bundled deny-list (lowercased), read from the package's data the first time it is asked for."""
    packed = resources.files("casework").joinpath(*_DENY_LIST).read_bytes()
    return frozenset(line for line in gzip.decompress(packed).decode("utf-8").splitlines() if line)


def password_problems(password: str, username: str = "", display_name: str = "", email: str = "") -> list[str]:
    """Why ``password`` is not acceptable for this person, most important first; empty if it is.

    A form shows the first reason only (the GOV.UK pattern: one message per field)."""
    if not password:
        return [ENTER_A_PASSWORD]
    if not password.strip():
        return [ONLY_WHITESPACE]
    problems: list[str] = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(TOO_SHORT)
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(TOO_LONG)
        return problems  # not worth reading further
    if _contains_personal_details(password, username, display_name, email):
        problems.append(PERSONAL)
    if is_common(password):
        problems.append(TOO_COMMON)
    return problems


def is_common(password: str) -> bool:
    """True if ``password`` or a trivial variant of it is on the deny-list, a repeated unit or a run."""
    deny = common_passwords()
    for candidate in _variants(password):
        if candidate in deny or _is_repetition(candidate, deny) or _is_run(candidate):
            return True
    return False


def _variants(password: str) -> set[str]:
    """The password lowercased, with and without its spaces, then each with digits and punctuation
    stripped from both ends and with look-alike characters swapped back (a stripped form shorter than
    :data:`MIN_CORE` is dropped: ``a`` is on the list, ``a8403917265`` is ten random digits)."""
    lowered = password.lower()
    whole = {lowered, "".join(lowered.split())}
    forms = whole | {form.strip(_ENDS) for form in whole}
    forms |= {form.translate(swap) for form in forms for swap in _SWAPS}
    forms |= {form.strip(_ENDS) for form in forms}
    return whole | {form for form in forms if len(form) >= MIN_CORE}


def _is_repetition(candidate: str, deny: frozenset[str]) -> bool:
    """True if ``candidate`` is one unit said twice or more, and that unit is short or common."""
    size = len(candidate)
    for length in range(1, size // 2 + 1):
        if size % length == 0 and candidate[:length] * (size // length) == candidate:
            unit = candidate[:length]
            return length <= SHORT_UNIT or unit in deny or unit.strip(_ENDS) in deny
    return False


def _is_run(candidate: str) -> bool:
    return len(candidate) >= SHORT_UNIT and any(candidate in run for run in _RUNS)


def _contains_personal_details(password: str, username: str, display_name: str, email: str) -> bool:
    squeezed = "".join(password.lower().split())
    return any(part in squeezed for part in _personal_parts(username, display_name, email))


def _personal_parts(username: str, display_name: str, email: str) -> set[str]:
    """The username, the name whole and word by word, and the email's local part whole and piece by piece."""
    local_part = (email or "").rpartition("@")[0]
    wholes = [username or "", display_name or "", local_part]
    pieces = [*(display_name or "").replace("-", " ").split(), *_split_on(local_part, "._-+")]
    parts = {"".join(text.lower().split()) for text in [*wholes, *pieces]}
    return {part for part in parts if len(part) >= MIN_PERSONAL_PART}


def _split_on(text: str, separators: str) -> list[str]:
    for separator in separators:
        text = text.replace(separator, " ")
    return text.split()
