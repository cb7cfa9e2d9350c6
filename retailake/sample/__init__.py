"""Realistic, deterministic retail sample data (sales, inventory, customers) with a chosen
share of dirty rows and a manifest of exactly what was injected where."""

from retailake.sample.build import Sample, SourceSummary, generate, manifest_key
from retailake.sample.spec import (
    DEFAULT_FORMATS,
    PRESET_WINDOWS,
    PRESETS,
    SAMPLE_FORMATS,
    SampleSpec,
)

__all__ = [
    "DEFAULT_FORMATS",
    "PRESETS",
    "PRESET_WINDOWS",
    "SAMPLE_FORMATS",
    "Sample",
    "SampleSpec",
    "SourceSummary",
    "generate",
    "manifest_key",
]
