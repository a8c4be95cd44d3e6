"""Closed-loop KPIs of signal control, TSP and GLOSA per strategy (``python -m bench.control_kpis``)."""
