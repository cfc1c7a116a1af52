"""Experiments that read a frozen encoder over given texts (attention, factorisation) or fit a
linear readout on it (CAV)."""
