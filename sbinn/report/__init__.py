"""Reports: the calibration report, its plots and the export of posterior samples to ArviZ.

:class:`CalibrationReport` runs the diagnostic suite on one or several methods' samples and
writes a self-contained HTML page with a JSON file of every number next to it. Plots live in
:mod:`sbinn.report.plots`, one small module per diagnostic; each takes arrays, posterior
samples ``(n_obs, num_samples, dim_theta)`` and true parameters ``(n_obs, dim_theta)``, and
returns a :class:`matplotlib.figure.Figure`. :func:`to_inference_data` turns samples,
observations and re-simulations into an :class:`arviz.InferenceData`.
"""

from sbinn.report.arviz_export import to_inference_data
from sbinn.report.calibration_report import CalibrationReport
from sbinn.report.evaluate import evaluate_posteriors

__all__ = ["CalibrationReport", "evaluate_posteriors", "to_inference_data"]
