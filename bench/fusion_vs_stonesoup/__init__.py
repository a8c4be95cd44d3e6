"""Fusion vs Stone Soup: detections/s and GOSPA on one synthetic multi-sensor scenario.

Run: ``.venv/bin/python -m bench.fusion_vs_stonesoup [--quick] [--out DIR]``
"""
