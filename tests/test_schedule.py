"""The run's schedules (model/training/schedule.py), each a pure function tested alone."""
import pytest

from model.training.schedule import curriculum_cap, learning_rate, run_progress, target_reached


def test_learning_rate_decays_linearly_to_a_tenth():
    assert learning_rate(2.0, 0.0) == 2.0
    assert learning_rate(2.0, 0.5) == pytest.approx(1.1)
    assert learning_rate(2.0, 1.0) == pytest.approx(0.2)


def test_progress_counts_tokens_with_a_token_budget_and_the_further_of_both_without():
    assert run_progress(50, 100, elapsed_s=90, budget_s=100, token_budget=True) == 0.5
    assert run_progress(50, 100, elapsed_s=90, budget_s=100, token_budget=False) == 0.9
    assert run_progress(50, 100, elapsed_s=10, budget_s=0, token_budget=False) == 0.5
    assert run_progress(500, 100, elapsed_s=0, budget_s=0, token_budget=True) == 1.0


def test_curriculum_cap_holds_then_grows_geometrically_to_the_longest_passage():
    end, start, longest = 0.3, 64, 4096
    caps = [curriculum_cap(end * i / 100, end, start, longest) for i in range(101)]
    assert all(cap == start for cap in caps[:34])  # the first third of the curriculum
    assert all(b >= a for a, b in zip(caps, caps[1:]))
    assert caps[90] == longest and caps[100] == longest  # from nine tenths on
    middle = curriculum_cap(end * (1 / 3 + 0.9) / 2, end, start, longest)  # half way through the growth
    assert middle == pytest.approx((start * longest) ** 0.5)  # geometric: the geometric mean
    assert curriculum_cap(0.0, end, start_tokens=100, longest=50) == 50  # nothing to grow


def test_a_target_counts_only_when_it_holds_at_two_consecutive_validations():
    assert not target_reached([120.0, 99.0], 100.0)  # one dip under the target
    assert not target_reached([120.0, 99.0, 101.0], 100.0)  # a lucky dip, then above again
    assert target_reached([120.0, 99.0, 101.0, 100.0, 98.0], 100.0)
    assert not target_reached([99.0], 100.0)
    assert not target_reached([50.0, 40.0], 0.0)  # no target set
