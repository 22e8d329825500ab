"""Go's encoding/json syntax checker, ported for its error messages.

Clients that send a malformed PATCH body get the text of Go's `checkValid` back (`invalid character 'x'
looking for beginning of value`, `unexpected end of JSON input`, ...). Python's parser words its errors
differently and accepts things Go rejects, so the scanner's state machine is reproduced here byte by byte;
it decides validity and wording only, the actual parsing is left to `json`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

_SPACE: Final = frozenset(b" \t\r\n")
_DIGITS: Final = frozenset(b"0123456789")
_HEX: Final = frozenset(b"0123456789abcdefABCDEF")
_ESCAPES: Final = frozenset(b'bfnrt\\/"')
_OBJECT_KEY, _OBJECT_VALUE, _ARRAY_VALUE = range(3)
_MAX_DEPTH: Final = 10000


def quote_char(c: int) -> str:
    """Go's `quoteChar`: how a byte is shown in `invalid character ...`."""
    if c == 0x27:
        return "'\\''"
    if c == 0x22:
        return "'\"'"
    named = {7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r", 0x5C: "\\\\"}
    if c in named:
        return f"'{named[c]}'"
    ch = chr(c)
    if ch.isprintable():
        return f"'{ch}'"
    return f"'\\x{c:02x}'" if c < 0x20 or c == 0x7F else f"'\\u{c:04x}'"


class _GoScanner:
    """A port of the state machine in Go's encoding/json scanner, used only for its error messages."""

    def __init__(self) -> None:
        self.stack: list[int] = []
        self.err: str | None = None
        self.end_top = False
        self.step: Callable[[int], None] = self.begin_value

    def fail(self, c: int, context: str) -> None:
        self.err = f"invalid character {quote_char(c)} {context}"

    def push(self, state: int) -> None:
        self.stack.append(state)
        if len(self.stack) > _MAX_DEPTH:
            self.err = "exceeded max depth"

    def pop(self) -> None:
        self.stack.pop()
        if self.stack:
            self.step = self.end_value
        else:
            self.step = self.end_top_state
            self.end_top = True

    def begin_value_or_empty(self, c: int) -> None:
        if c in _SPACE:
            return
        if c == ord("]"):
            self.end_value(c)
            return
        self.begin_value(c)

    def begin_value(self, c: int) -> None:
        if c in _SPACE:
            return
        if c == ord("{"):
            self.step = self.begin_string_or_empty
            self.push(_OBJECT_KEY)
        elif c == ord("["):
            self.step = self.begin_value_or_empty
            self.push(_ARRAY_VALUE)
        elif c == ord('"'):
            self.step = self.in_string
        elif c == ord("-"):
            self.step = self.neg
        elif c == ord("0"):
            self.step = self.zero
        elif c in _DIGITS:
            self.step = self.one
        elif c in b"tfn":
            word = {ord("t"): "true", ord("f"): "false", ord("n"): "null"}[c]
            self.step = self.literal(word, 1)
        else:
            self.fail(c, "looking for beginning of value")

    def begin_string_or_empty(self, c: int) -> None:
        if c in _SPACE:
            return
        if c == ord("}"):
            self.stack[-1] = _OBJECT_VALUE
            self.end_value(c)
            return
        self.begin_string(c)

    def begin_string(self, c: int) -> None:
        if c in _SPACE:
            return
        if c == ord('"'):
            self.step = self.in_string
            return
        self.fail(c, "looking for beginning of object key string")

    def end_value(self, c: int) -> None:
        if not self.stack:
            self.step = self.end_top_state
            self.end_top = True
            self.end_top_state(c)
            return
        if c in _SPACE:
            self.step = self.end_value
            return
        top = self.stack[-1]
        if top == _OBJECT_KEY:
            if c == ord(":"):
                self.stack[-1] = _OBJECT_VALUE
                self.step = self.begin_value
                return
            self.fail(c, "after object key")
        elif top == _OBJECT_VALUE:
            if c == ord(","):
                self.stack[-1] = _OBJECT_KEY
                self.step = self.begin_string
                return
            if c == ord("}"):
                self.pop()
                return
            self.fail(c, "after object key:value pair")
        else:
            if c == ord(","):
                self.step = self.begin_value
                return
            if c == ord("]"):
                self.pop()
                return
            self.fail(c, "after array element")

    def end_top_state(self, c: int) -> None:
        if c not in _SPACE:
            self.fail(c, "after top-level value")

    def in_string(self, c: int) -> None:
        if c == ord('"'):
            self.step = self.end_value
        elif c == ord("\\"):
            self.step = self.in_string_escape
        elif c < 0x20:
            self.fail(c, "in string literal")

    def in_string_escape(self, c: int) -> None:
        if c in _ESCAPES:
            self.step = self.in_string
        elif c == ord("u"):
            self.step = self.in_unicode_escape(4)
        else:
            self.fail(c, "in string escape code")

    def in_unicode_escape(self, left: int) -> Callable[[int], None]:
        def step(c: int) -> None:
            if c not in _HEX:
                self.fail(c, "in \\u hexadecimal character escape")
            else:
                self.step = self.in_string if left == 1 else self.in_unicode_escape(left - 1)

        return step

    def neg(self, c: int) -> None:
        if c == ord("0"):
            self.step = self.zero
        elif c in _DIGITS:
            self.step = self.one
        else:
            self.fail(c, "in numeric literal")

    def one(self, c: int) -> None:
        if c in _DIGITS:
            return
        self.zero(c)

    def zero(self, c: int) -> None:
        if c == ord("."):
            self.step = self.dot
        elif c in b"eE":
            self.step = self.exp
        else:
            self.end_value(c)

    def dot(self, c: int) -> None:
        if c in _DIGITS:
            self.step = self.dot_digits
        else:
            self.fail(c, "after decimal point in numeric literal")

    def dot_digits(self, c: int) -> None:
        if c in _DIGITS:
            return
        if c in b"eE":
            self.step = self.exp
        else:
            self.end_value(c)

    def exp(self, c: int) -> None:
        if c in b"+-":
            self.step = self.exp_sign
            return
        self.exp_sign(c)

    def exp_sign(self, c: int) -> None:
        if c in _DIGITS:
            self.step = self.exp_digits
        else:
            self.fail(c, "in exponent of numeric literal")

    def exp_digits(self, c: int) -> None:
        if c not in _DIGITS:
            self.end_value(c)

    def literal(self, word: str, at: int) -> Callable[[int], None]:
        def step(c: int) -> None:
            if c != ord(word[at]):
                self.fail(c, f"in literal {word} (expecting {quote_char(ord(word[at]))})")
            else:
                self.step = self.end_value if at + 1 == len(word) else self.literal(word, at + 1)

        return step


def go_syntax_error(body: bytes) -> str | None:
    """What Go's `checkValid` says about `body`, or None when it is valid JSON."""
    scanner = _GoScanner()
    for c in body:
        scanner.step(c)
        if scanner.err is not None:
            return scanner.err
    if scanner.end_top:
        return None
    scanner.step(ord(" "))
    if scanner.end_top:
        return None
    return scanner.err or "unexpected end of JSON input"
