"""Experiments that put other tokens (or sentences) in and read a target: token search, similar
embeddings, corpus search."""
