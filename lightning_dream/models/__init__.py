"""The model side: loading, activation readout, soft inputs, temperature schedules."""
