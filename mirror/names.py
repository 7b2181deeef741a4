"""File names as a person reads them, whatever bytes they are made of.

A file name that is not valid UTF-8 (a Latin-1 name on a UTF-8 system) reaches Python with lone
surrogates for the bytes it could not decode; printed as they are, they come out as ``\\udcff``
(or fail to encode at all). Every command that prints a name it was given writes it through
:func:`readable`, so such a byte reads ``\\xff`` the same in a JSON line and on stderr.
"""

from __future__ import annotations


def readable(name: str) -> str:
    """``name`` as well-formed text: each byte of a file name that was not UTF-8 (a lone surrogate
    ``U+DC80``–``U+DCFF``, as Python decodes it) as ``\\xNN``, any other lone surrogate as ``\\uNNNN``.

    ``shirt\\udcff.jpg`` (the bytes ``shirt\\xff.jpg``) reads ``shirt\\xff.jpg``, as Python's
    ``backslashreplace`` writes it; a name that is valid UTF-8 comes back unchanged.
    """
    return "".join(_escaped(c) if "\ud800" <= c <= "\udfff" else c for c in name)


def _escaped(surrogate: str) -> str:
    code = ord(surrogate)
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"
