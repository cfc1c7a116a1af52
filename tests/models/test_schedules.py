import math

import pytest

from lightning_dream.errors import ConfigError
from lightning_dream.models.schedules import TemperatureSchedule


@pytest.mark.parametrize("kind", ["exponential", "linear"])
def test_annealing_holds_during_warmup_then_reaches_end(kind):
    schedule = TemperatureSchedule(2.0, 0.1, num_steps=100, warmup=20, kind=kind)
    assert schedule(0) == schedule(20) == 2.0
    assert math.isclose(schedule(99), 0.1, rel_tol=1e-9)
    values = [schedule(t) for t in range(100)]
    assert all(a >= b for a, b in zip(values, values[1:]))


def test_exponential_has_constant_ratio_and_linear_constant_step():
    exp = TemperatureSchedule(2.0, 0.02, num_steps=11, warmup=0, kind="exponential")
    ratios = {round(exp(t + 1) / exp(t), 9) for t in range(10)}
    assert len(ratios) == 1
    lin = TemperatureSchedule(2.0, 1.0, num_steps=11, warmup=0, kind="linear")
    steps = {round(lin(t) - lin(t + 1), 9) for t in range(10)}
    assert steps == {0.1}


def test_constant_never_moves():
    schedule = TemperatureSchedule(1.5, 0.1, num_steps=50, warmup=0, kind="constant")
    assert {schedule(t) for t in range(50)} == {1.5}


@pytest.mark.parametrize("field", ["start_temp", "end_temp"])
def test_non_positive_temperature_is_rejected(field):
    with pytest.raises(ConfigError, match=field):
        TemperatureSchedule(**{field: 0.0})
