"""ALBERT's shared layer as an iterated map: trajectories and Lyapunov exponents."""
