"""The root of roofpv's errors: a problem the user can fix, with a message saying how.

The command line prints these as one line and exits with status 2; anything else is a
bug and keeps its traceback.
"""


class RoofpvError(ValueError):
    """A problem with the inputs, the config or the environment that the user can fix."""


class OutputExistsError(RoofpvError):
    """An output that a command would replace without ``--overwrite``."""
