"""The one error type users see for bad input: a single line, raised before long work starts."""


class ConfigError(ValueError):
    """A value in the configuration (or a file it names) cannot be used; the message says why
    and what is allowed. The CLI prints it as one line instead of a traceback."""


def check_range(name: str, value: int, low: int, high: int) -> int:
    """Return ``value`` if ``low <= value <= high``, else raise a one-line ConfigError."""
    if not low <= value <= high:
        raise ConfigError(f"{name}={value} is out of range: allowed {low}..{high}")
    return value


def check_positive(name: str, value: float) -> float:
    if not value > 0:
        raise ConfigError(f"{name}={value} must be positive")
    return value
