"""The run's schedules as small pure functions of its progress (0 at the start, 1 at the end).

Progress is counted in tokens (run_progress), so a busy machine trains the same schedule, only
slower. Each function is plotted or tested alone (tests/test_schedule.py).
"""
from __future__ import annotations


def run_progress(tokens_seen: int, planned_tokens: int, elapsed_s: float, budget_s: float,
                 token_budget: bool) -> float:
    """Fraction of the run done, in [0, 1].

    1. With a token budget (or no time budget): tokens done over tokens planned.
    2. Without one: whichever of tokens or time is further along, so a time-bounded run still
       ends its schedules when its minutes run out.
    """
    by_tokens = tokens_seen / max(planned_tokens, 1)
    if token_budget or budget_s <= 0:
        return min(by_tokens, 1.0)
    return min(max(by_tokens, elapsed_s / budget_s), 1.0)


def learning_rate(base_lr: float, progress: float) -> float:
    """Linear decay from base_lr to a tenth of it over the run."""
    return base_lr * (1.0 - 0.9 * progress)


def curriculum_cap(progress: float, curriculum_end: float, start_tokens: int, longest: int) -> float:
    """The longest passage (in tokens) the length curriculum may draw at this point of the run.

    A sequence-length warm-up over the first `curriculum_end` of the run:
    1. for its first third, passages of up to `start_tokens` only (on the generated corpus: cues
       with short gaps and many answers per token, where the country -> language binding is
       found in seconds);
    2. then the cap grows geometrically, so the gaps the model must bridge grow with it;
    3. from nine tenths of the curriculum on, every passage (`longest`).
    Without it the binding was not learned at all in 5.5 minutes (docs/results.md).
    """
    share = min(max((progress / curriculum_end - 1 / 3) / (0.9 - 1 / 3), 0.0), 1.0)
    if share >= 1 or longest <= start_tokens:
        return float(longest)
    return start_tokens * (longest / start_tokens) ** share


def target_reached(valid_perplexities: list[float], target: float, consecutive: int = 2) -> bool:
    """Whether validation perplexity held at or below `target` at the last `consecutive` validations.

    One validation under the target is not enough: the curve is not monotone, and a run stopped at
    a lucky dip reports a time to quality it does not hold.
    """
    if target <= 0 or len(valid_perplexities) < consecutive:
        return False
    return all(ppl <= target for ppl in valid_perplexities[-consecutive:])
