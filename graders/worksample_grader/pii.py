"""Personal data in text: e-mail addresses, phone numbers (not dates), card-like numbers, known names.

Used by suites to find customer data in what a run sent to the LLM API. Two
ways in: `find_pii(text)` finds what the patterns recognise in any text (the
tickets, a prompt), and `leaked(values, text)` says which known values
(e.g. every personal datum of the hold-out tickets, names included) occur in
a text, tolerant of re-spacing and re-punctuated digits. Pure standard
library; linear-time patterns (the text is candidate-controlled).
"""

from __future__ import annotations

import re

EMAIL = re.compile(r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+")
# Digit runs with the separators people type in phone and card numbers.
# Not preceded by a letter, digit or dash-joined code (INV-2024-4092 is an invoice, not a phone).
_NUMBER = re.compile(r"(?<![\w+/-])\+?\(?\d[\d ().-]{5,30}\d(?![\w])")
# Dates and times are not phone numbers: 2026-10-01, 01/10/2026, 1.10.26, 2026-10-01 14:30.
_DATE = re.compile(
    r"^(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})(?:[ T]\d{1,2}[:.]\d{2}(?:[:.]\d{2})?)?$")
# Dates, date-times and clock times anywhere in a text: blanked before numbers are looked for.
_DATES_IN_TEXT = re.compile(
    r"(?<!\d)(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?)?(?!\d)|(?<!\d)\d{1,2}:\d{2}(?::\d{2})?(?!\d)")
PHONE_DIGITS = (8, 15)  # E.164 allows at most 15 digits; fewer than 8 is an order or an amount
CARD_DIGITS = (13, 19)
_SEPARATORS = re.compile(r"(?<=\d)[ ().\-]+(?=\d)")
_SPACE = re.compile(r"\s+")
_PLUS = re.compile(r"\+(?=[\d(])")


def digits(text: str) -> str:
    """The digits of `text`, in order."""
    return re.sub(r"\D", "", text)


def luhn_ok(number: str) -> bool:
    """True when the digits pass the Luhn check (as card numbers do)."""
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def is_date(text: str) -> bool:
    """True for a date or date-time such as 2026-10-01 or 01/10/2026 14:30."""
    return bool(_DATE.match(text.strip()))


def classify_number(text: str) -> str | None:
    """'card', 'phone' or None (a date, an amount, an id) for a run of digits and separators."""
    text = text.strip()
    if is_date(text):
        return None
    n = len(digits(text))
    if CARD_DIGITS[0] <= n <= CARD_DIGITS[1] and luhn_ok(digits(text)) and not text.startswith("+"):
        return "card"
    if PHONE_DIGITS[0] <= n <= PHONE_DIGITS[1]:
        return "phone"
    return None


def find_pii(text: str) -> set[tuple[str, str]]:
    """(kind, value) for every e-mail, phone and card-like number the patterns find in `text`."""
    found = {("email", m.group(0)) for m in EMAIL.finditer(text)}
    for m in _NUMBER.finditer(_DATES_IN_TEXT.sub(" ", text)):
        kind = classify_number(m.group(0))
        if kind:
            found.add((kind, m.group(0).strip()))
    return found


def normalise(text: str) -> str:
    """Lower-case, whitespace collapsed, separators between digits removed: what matching compares."""
    return _SEPARATORS.sub("", _PLUS.sub("", _SPACE.sub(" ", text.lower())))


def leaked(values: set[str], text: str) -> set[str]:
    """The known personal values that occur in `text` (after `normalise` on both sides)."""
    haystack = normalise(text)
    return {v for v in values if normalise(v) and normalise(v) in haystack}
