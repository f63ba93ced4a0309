"""Errors the user can fix. Each carries one sentence that is shown as it is.

Anything else that escapes is a bug in this program, not in the user's input.
"""


class UserError(Exception):
    """A bad flag, file or dataset: the message is the whole explanation."""


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
