"""Capture-to-record pipeline: models loaded once, frame in, named garments with cut-outs out."""

from mirror.pipeline.result import AnalysisResult, GarmentColour, GarmentResult

__all__ = ["AnalysisResult", "GarmentColour", "GarmentResult"]
