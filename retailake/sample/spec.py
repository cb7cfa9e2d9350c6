"""What to generate: scale, seed, period, dirt and formats, and the shape derived from scale."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

PRESETS = {"small": 10_000, "medium": 1_000_000, "large": 10_000_000}
# The period each preset covers unless told otherwise: (first day, days). Small is a quarter
# (about 200 files rather than 780, so a pipeline run takes about a minute) that still holds
# December, the holiday uplift; the larger presets cover a whole year.
PRESET_WINDOWS = {
    "small": (dt.date(2025, 10, 1), 92),
    "medium": (dt.date(2025, 1, 1), 365),
    "large": (dt.date(2025, 1, 1), 365),
}
SAMPLE_FORMATS = ("csv", "jsonl", "parquet")
DEFAULT_FORMATS = {"sales": "csv", "inventory": "jsonl", "customers": "csv"}
MAX_DIRTY_RATE = 0.5


@dataclass(frozen=True)
class SampleSpec:
    """A generation request. Equal specs give byte-identical files. The defaults are the small
    preset, period included."""

    sales_lines: int = PRESETS["small"]
    seed: int = 42
    dirty_rate: float = 0.01
    start: dt.date = PRESET_WINDOWS["small"][0]
    days: int = PRESET_WINDOWS["small"][1]
    formats: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_FORMATS))

    def __post_init__(self) -> None:
        if self.sales_lines < 1:
            raise ValueError("sales lines must be at least 1")
        if not 0 <= self.dirty_rate <= MAX_DIRTY_RATE:
            raise ValueError(f"dirty rate must be between 0 and {MAX_DIRTY_RATE}")
        if self.days < 1:
            raise ValueError("days must be at least 1")
        for source, fmt in self.formats.items():
            if fmt not in SAMPLE_FORMATS:
                raise ValueError(f"{source} format must be one of {', '.join(SAMPLE_FORMATS)}")

    @property
    def scale(self) -> float:
        """Sales lines relative to the small preset: stores, products and customers grow with it,
        slower than linearly, so inventory stays in proportion to sales."""
        return self.sales_lines / PRESETS["small"]

    @property
    def stores(self) -> int:
        """Physical stores; one web warehouse serves online and mobile orders on top."""
        return int(min(40, max(5, round(5 * self.scale**0.2))))

    @property
    def products(self) -> int:
        return int(min(1000, max(50, round(50 * self.scale**0.3))))

    @property
    def customers(self) -> int:
        return int(max(300, self.sales_lines // 8))

    def dates(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=offset) for offset in range(self.days)]
