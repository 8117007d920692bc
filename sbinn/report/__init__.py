"""Reports: the calibration report, its plots and the export of posterior samples to ArviZ.

Plots live in :mod:`sbinn.report.plots`, one small module per diagnostic; each
takes arrays, posterior samples ``(n_obs, num_samples, dim_theta)`` and true
parameters ``(n_obs, dim_theta)``, and returns a :class:`matplotlib.figure.Figure`.
:func:`sbinn.report.arviz_export.to_inference_data` turns samples, observations
and re-simulations into an :class:`arviz.InferenceData`.
"""
