"""Errors the user can fix. Each carries one sentence that is shown as it is.

Anything else that escapes is a bug in this program, not in the user's input.
"""

MAX_MESSAGE = 1000  # characters: a sentence longer than this is cut (a file can name a huge shape)


def one_sentence(message: str, limit: int = MAX_MESSAGE) -> str:
    """``message`` as one printable line of at most ``limit`` characters: control characters
    (a newline, a terminal's escape sequences) escaped, and the middle of a long one cut out,
    so that both the start (what failed) and the end (why) remain."""
    message = str(message)
    if not message.isprintable():
        message = "".join(c if c.isprintable() else c.encode("unicode_escape", "backslashreplace")
                          .decode("ascii") for c in message)
    if len(message) > limit:
        half = (limit - 1) // 2
        message = message[:half] + "…" + message[len(message) - (limit - 1 - half):]
    return message


def whole_number(value: int) -> str:
    """A whole number for a message: with thousands separators, or, past 40 characters, its
    first digits and how many there are (a 5,000-digit seed is not a sentence)."""
    text = f"{value:,}"
    return text if len(text) <= 40 else f"{text[:20]}… ({len(str(abs(value)))} digits)"


class UserError(Exception):
    """A bad flag, file or dataset: the message is the whole explanation, made one printable line
    of at most MAX_MESSAGE characters whatever went into it (``one_sentence``)."""

    def __init__(self, message="", *args):
        super().__init__(one_sentence(message), *args)


class ConfigError(UserError):
    """A training setting out of range or unknown."""


class DataError(UserError):
    """A dataset that is missing, unreadable or of the wrong shape."""


class WrongDataset(UserError):
    """A model given a dataset other than the one it was trained on (Fashion-MNIST's model, MNIST)."""


class ModelFileError(UserError):
    """A brain.npz that cannot be read, validated or written."""


class TrainingDiverged(UserError):
    """The cost or a weight stopped being finite; the last finite weights were kept."""
