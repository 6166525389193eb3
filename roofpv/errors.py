"""The root of roofpv's errors: a problem the user can fix, with a message saying how.

The command line prints these as one line and exits with status 2; anything else is a
bug and keeps its traceback. Every error class of roofpv is here.
"""


class RoofpvError(ValueError):
    """A problem with the inputs, the config or the environment that the user can fix."""


class OutputExistsError(RoofpvError):
    """An output that a command would replace without ``--overwrite``."""


class ApiInputError(RoofpvError):
    """A GeoDataFrame handed to the API that cannot be assessed as it is."""


class ConfigError(RoofpvError):
    """A configuration file that cannot be used; the message says where and why."""


class FormError(RoofpvError):
    """A workbook that is not a readable roofpv survey form; the message says why."""


class InputError(RoofpvError):
    """An input file that cannot be used; the message names the file and what to do."""


class OutputError(RoofpvError):
    """An output that cannot be written (disk full, no permission, folder missing)."""


class OutputLockedError(RoofpvError):
    """Another roofpv command is writing into the output folder."""


class PdfError(RoofpvError):
    """Chromium is missing or failed to print a page."""


class SurveyError(RoofpvError):
    """A survey table that cannot be read at all (for example, no building id column)."""


class TileError(RoofpvError):
    """A tile folder that cannot be used; the message names the folder or file."""


class WeatherFileError(RoofpvError):
    """A weather file that cannot be used; the message names the file."""


class EncodingError(RoofpvError):
    """Bytes that no candidate encoding decodes (:mod:`roofpv.io.encodings`)."""


class PointCloudError(RoofpvError):
    """A point cloud that cannot be gridded; the message names the file and the fix."""
