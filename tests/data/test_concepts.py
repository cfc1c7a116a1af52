"""ConceptData's arguments, checked where they are declared."""

import pytest

from lightning_dream.data.concepts import ConceptData
from lightning_dream.errors import ConfigError
from tests.helpers import cli_error


def test_a_held_out_share_outside_0_1_is_one_line_on_the_command_line():
    line = cli_error("fit", "--config", "configs/cav.yaml", "--data.heldout_fraction", "1.0")
    assert line == (
        "error: data.heldout_fraction: Not of type OpenUnitInterval: 1.0 does not conform to restriction v>0 and v<1"
    )


def test_a_batch_size_of_zero_is_refused_in_python():
    with pytest.raises(ConfigError, match="^batch_size=0 must be positive$"):
        ConceptData(batch_size=0)
