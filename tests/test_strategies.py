"""Which rank owns which jobs."""

from lightning_dream.strategies import balanced_shard, shard


def loads(costs, world):
    return [sum(costs[i] for i in balanced_shard(costs, rank, world)) for rank in range(world)]


def test_every_item_has_exactly_one_rank():
    costs = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0]
    for world in (1, 2, 3, 8):
        owned = [i for rank in range(world) for i in balanced_shard(costs, rank, world)]
        assert sorted(owned) == list(range(len(costs)))


def test_costs_rising_along_the_list_end_within_one_item_where_slices_do_not():
    """The comparison's targets: layers 2..6 x 4 neurons, a pass costing ~layer x tokens."""
    costs = [float(layer * 40) for layer in (2, 3, 4, 5, 6) for _ in range(4)]
    balanced = loads(costs, 2)
    assert abs(balanced[0] - balanced[1]) <= max(costs)
    sliced = [sum(costs[i] for i in shard(len(costs), rank, 2)) for rank in range(2)]
    assert sliced[1] > 1.5 * sliced[0]  # the contiguous halves: rank 1 holds the deep layers
