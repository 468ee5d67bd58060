"""The differ: compare responses, learn noise, template endpoints, compare latency.

``compare`` judges one pair of responses; ``analyze`` streams whole runs into aggregates,
which ``shadowtape.report`` turns into the report. The differ never imports the report.
"""

from __future__ import annotations

from shadowtape.diff.analyze import Analysis, AnalysisSettings, analyze
from shadowtape.diff.compare import Comparison, DiffSettings, Side, compare
from shadowtape.diff.headers import HeaderPolicy
from shadowtape.diff.json import Tolerance
from shadowtape.diff.latency import LatencySettings
from shadowtape.diff.model import Difference, Kind
from shadowtape.diff.noise import NoiseModel, NoiseSettings
from shadowtape.diff.templating import Route, Templater, load_openapi, load_routes

__all__ = [
    "Analysis",
    "AnalysisSettings",
    "Comparison",
    "DiffSettings",
    "Difference",
    "HeaderPolicy",
    "Kind",
    "LatencySettings",
    "NoiseModel",
    "NoiseSettings",
    "Route",
    "Side",
    "Templater",
    "Tolerance",
    "analyze",
    "compare",
    "load_openapi",
    "load_routes",
]
