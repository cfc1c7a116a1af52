"""The commands that are not Lightning runs (``tokenize``, ``combine-*``, ``export-activation``):
typed functions that jsonargparse turns into commands. They sit above the experiments: an
experiment never imports a command."""
