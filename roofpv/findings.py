"""Problems found in the inputs, each pointing at the exact cell an analyst must look at."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import pandas as pd

Level = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class Finding:
    """One input problem: where it is, what is wrong and how to fix it.

    ``level`` is ``error`` when the value could not be used, ``warning`` when roofpv
    repaired or assumed it, ``info`` when nothing changed the result.
    """

    level: Level
    file: str
    row: int | None
    building_id: str | None
    column: str | None
    value: str | None
    problem: str
    fix: str
    sheet: str | None = None


def findings_frame(findings: list[Finding]) -> pd.DataFrame:
    """Findings as a table, in input order."""
    columns = list(Finding.__dataclass_fields__)
    frame = pd.DataFrame([asdict(f) for f in findings], columns=columns)
    frame["row"] = pd.array(frame["row"], dtype="Int64")  # row numbers, not 392.0
    return frame
