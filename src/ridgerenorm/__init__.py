"""ridgerenorm: theory and simulation for 'Scaling and renormalization in high-dimensional regression'."""

__version__ = "0.1.0"
