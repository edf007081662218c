"""Synthetic multi-academy trust data, driven by schema/ and calibrated to national figures."""
