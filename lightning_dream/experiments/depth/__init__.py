"""Readouts, probes and pretraining across encoder depth."""
