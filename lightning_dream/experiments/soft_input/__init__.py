"""Experiments that optimise a softmax-relaxed input: jobs, the shared loop (``base``), Dream, DreamMLM, Reconstruct."""
