"""Experiments that only read a masked LM's predictions: fill-mask, knowledge probes, Wang & Cho sampling."""
