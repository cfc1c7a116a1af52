"""Look inside BERT-style language models by optimising their inputs, with PyTorch Lightning."""

__version__ = "0.1.0"
