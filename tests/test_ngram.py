"""The Kneser-Ney n-gram baseline: hand-computed probabilities, a dict-based reference, its limits."""
from __future__ import annotations

import math
import random
from collections import defaultdict

import numpy as np
import pytest

from model.ngram import KneserNeyLM


def random_passages(seed: int, n: int = 60, vocab: int = 12, max_len: int = 15) -> list[list[int]]:
    """Skewed random text (low ids frequent) so that many n-grams repeat."""
    rng = random.Random(seed)
    weights = [1 / (i + 1) for i in range(vocab)]
    return [rng.choices(range(vocab), weights, k=rng.randint(1, max_len)) for _ in range(n)]


def reference_prob(passages, vocab_size, order, discount, context, word) -> float:
    """Interpolated KN, straight from the formulas with dicts (BOS-padded passages, one discount)."""
    bos = vocab_size
    counts = defaultdict(int)  # full n-grams of the highest order
    grams = [set() for _ in range(order + 1)]  # grams[k]: distinct k-grams
    for p in passages:
        padded = [bos] * (order - 1) + list(p)
        for i in range(order - 1, len(padded)):
            for k in range(1, order + 1):
                grams[k].add(tuple(padded[i - k + 1 : i + 1]))
            counts[tuple(padded[i - order + 1 : i + 1])] += 1

    def stats(k, h, w):  # (count of h w, total over h •, distinct w after h) at order k
        if k == order:
            row = {g[-1]: c for g, c in counts.items() if g[:-1] == h}
        else:  # continuation counts: distinct x before "h w"
            row = defaultdict(int)
            for g in grams[k + 1]:
                if g[1:-1] == h:
                    row[g[-1]] += 1
        return row.get(w, 0), sum(row.values()), len(row)

    hist = list(context)[max(0, len(context) - (order - 1)) :] if order > 1 else []
    hist = [bos] * (order - 1 - len(hist)) + hist

    def prob(k, w):
        lower = 1.0 / vocab_size if k == 1 else prob(k - 1, w)
        c, total, types = stats(k, tuple(hist[len(hist) - (k - 1) :]) if k > 1 else (), w)
        if total == 0:
            return lower
        return max(c - discount, 0) / total + discount * types / total * lower

    return prob(order, word)


def test_bigram_matches_hand_computed_values():
    # V = 5 (id 4 never occurs), order 2, D = 0.5, BOS = B. Padded passages:
    #   B 0 1 3 | B 0 2 3 | B 1 2 3
    # Continuation counts N1+(• w): 0 ← {B} = 1; 1 ← {0, B} = 2; 2 ← {0, 1} = 2; 3 ← {1, 2} = 2; 4: 0.
    # N1+(• •) = 7 over 4 types:  P1(w) = max(N1+(• w) − .5, 0)/7 + .5·4/7 · 1/5 = (N1+(• w) − .1)/7 for
    # seen w, so P1(0) = .9/7, P1(1) = P1(2) = P1(3) = 1.9/7, P1(4) = .4/7 (sum 7/7).
    # Bigram counts: after B {0: 2, 1: 1} (c = 3, 2 types); after 0 {1: 1, 2: 1} (c = 2, 2 types);
    # after 1 {3: 1, 2: 1}; after 2 {3: 2} (c = 2, 1 type); nothing ever follows 3 (context unseen).
    lm = KneserNeyLM(vocab_size=5, order=2, discount=0.5).fit([[0, 1, 3], [0, 2, 3], [1, 2, 3]])
    P1 = {0: 0.9 / 7, 1: 1.9 / 7, 2: 1.9 / 7, 3: 1.9 / 7, 4: 0.4 / 7}
    expected = {
        ((0,), 2): (1 - 0.5) / 2 + 0.5 * 2 / 2 * P1[2],  # 0.25 + 0.95/7
        ((0,), 4): 0.5 * 2 / 2 * P1[4],
        ((2,), 3): (2 - 0.5) / 2 + 0.5 * 1 / 2 * P1[3],  # 0.75 + 0.475/7
        ((2,), 0): 0.5 * 1 / 2 * P1[0],
        ((), 0): (2 - 0.5) / 3 + 0.5 * 2 / 3 * P1[0],  # empty context = passage start: after B
        ((), 1): (1 - 0.5) / 3 + 0.5 * 2 / 3 * P1[1],
        ((3,), 1): P1[1],  # unseen context: the unigram level alone
        ((3,), 4): P1[4],
        ((1, 2, 0), 2): (1 - 0.5) / 2 + 0.5 * 2 / 2 * P1[2],  # only the last token counts
    }
    for (context, word), p in expected.items():
        assert lm.log_prob(list(context), word) == pytest.approx(math.log(p), abs=1e-9), (context, word)
        assert lm.distribution(list(context))[word] == pytest.approx(p, abs=1e-12), (context, word)
    assert sum(P1.values()) == pytest.approx(1.0)


@pytest.mark.parametrize("order", [1, 3, 4])
def test_matches_dict_reference(order):
    passages = random_passages(seed=order, n=25, vocab=6, max_len=10)
    V, D = 8, 0.75  # ids 6 and 7 never occur
    lm = KneserNeyLM(V, order=order, discount=D).fit(passages)
    rng = random.Random(1)
    contexts = [[], [0], [7], [0, 1], [7, 0, 0]] + [p[: rng.randint(0, len(p))] for p in passages[:8]]
    for context in contexts:
        dist = lm.distribution(context)
        for word in range(V):
            ref = reference_prob(passages, V, order, D, context, word)
            assert dist[word] == pytest.approx(ref, abs=1e-12), (context, word)
            assert lm.log_prob(context, word) == pytest.approx(math.log(ref), abs=1e-9), (context, word)


def test_distributions_are_normalised_and_positive():
    V = 40
    passages = random_passages(seed=0, n=200, vocab=30)  # ids 30..39 never occur
    lm = KneserNeyLM(V, order=5).fit(passages)
    seen = passages[0][:6]
    contexts = {"empty": [], "seen": seen, "seen long": passages[1] + seen, "unseen word": [35, 36, 37, 38],
                "unseen mix": [0, 39, 1, 2], "short": [1]}
    for name, context in contexts.items():
        p = lm.distribution(context)
        assert p.shape == (V,) and p.dtype == np.float64, name
        assert abs(p.sum() - 1.0) < 1e-9, name
        assert (p > 0).all(), name
    # A model fitted on no text is the uniform distribution.
    empty = KneserNeyLM(V, order=3).fit([])
    assert np.allclose(empty.distribution([1, 2]), 1 / V)


def test_log_prob_agrees_with_distribution():
    passages = random_passages(seed=3, n=300, vocab=20)
    lm = KneserNeyLM(20, order=5).fit(passages)
    rng = random.Random(0)
    for _ in range(30):
        context = [rng.randrange(20) for _ in range(rng.randint(0, 7))]
        dist = lm.distribution(context)
        for word in rng.sample(range(20), 5):
            assert lm.log_prob(context, word) == pytest.approx(math.log(dist[word]), abs=1e-12)


def test_learns_a_deterministic_continuation():
    a, b, c, d, e = 1, 2, 3, 4, 5
    passages = [[a, b, c, d, e]] * 50 + random_passages(seed=5, n=100, vocab=10)
    lm = KneserNeyLM(10, order=5).fit(passages)
    assert lm.distribution([a, b, c, d])[e] > 0.9
    assert math.exp(lm.log_prob([7, 7, a, b, c, d], e)) > 0.9


def test_cannot_see_past_order_minus_one_tokens():
    passages = random_passages(seed=6, n=300, vocab=10)
    for order in (2, 3, 5):
        lm = KneserNeyLM(10, order=order).fit(passages)
        tail = passages[0][: order - 1] if len(passages[0]) >= order - 1 else [0] * (order - 1)
        first = lm.distribution([3, 1, 4, 1, 5, 9, 2, 6] + tail)
        second = lm.distribution([7] + tail)
        assert np.array_equal(first, second)
        assert lm.log_prob([3, 1, 4] + tail, 2) == lm.log_prob([8, 8] + tail, 2)
    # ...but within the window the history matters.
    lm = KneserNeyLM(10, order=3).fit([[1, 2, 3]] * 20 + [[4, 2, 5]] * 20)
    assert lm.distribution([1, 2])[3] > 0.8 and lm.distribution([4, 2])[5] > 0.8


def test_counting_never_crosses_a_passage_boundary():
    # Apart: "1 2" never occurs, so context [1] is unseen and P(2 | 1) is the unigram level, which is
    # uniform here: continuation counts 0 ← {B}, 1 ← {0}, 2 ← {B}, 3 ← {2}, so
    # P1(2) = (1 − .75)/4 + .75·4/4 · 1/4 = 1/4.
    apart = KneserNeyLM(4, order=2).fit([[0, 1], [2, 3]])
    assert apart.log_prob([1], 2) == pytest.approx(math.log(0.25), abs=1e-12)
    # Joined into one passage, "1 2" is counted: (1 − .75)/1 + .75 · 1/4 = 0.4375.
    joined = KneserNeyLM(4, order=2).fit([[0, 1, 2, 3]])
    assert joined.log_prob([1], 2) == pytest.approx(math.log(0.4375), abs=1e-12)
    # The order of the passages is irrelevant, at every order.
    passages = random_passages(seed=7, n=80, vocab=8)
    shuffled = passages[:]
    random.Random(0).shuffle(shuffled)
    one, two = KneserNeyLM(8, order=4).fit(passages), KneserNeyLM(8, order=4).fit(shuffled)
    for context in ([], [1], [2, 3, 4], passages[0][-5:], shuffled[0][:3] + passages[0][:2]):
        assert np.allclose(one.distribution(context), two.distribution(context), rtol=0, atol=1e-15)


def test_perplexity_is_exp_mean_negative_log_prob():
    passages = random_passages(seed=8, n=100, vocab=10)
    lm = KneserNeyLM(12, order=3).fit(passages)
    heldout = [[1, 2, 3, 11, 0], [5], [], [0, 0, 7]]  # the 1- and 0-token passages predict nothing
    losses = [-lm.log_prob(p[:i], p[i]) for p in heldout for i in range(1, len(p))]
    assert len(losses) == 6
    assert lm.perplexity(heldout) == pytest.approx(math.exp(sum(losses) / len(losses)), rel=1e-12)
    with pytest.raises(ValueError):
        lm.perplexity([[1], []])


def test_training_text_is_more_likely_than_shuffled_text():
    passages = random_passages(seed=9, n=200, vocab=15)
    lm = KneserNeyLM(15, order=4).fit(passages)
    rng = random.Random(0)
    shuffled = [rng.sample(p, len(p)) for p in passages]
    assert lm.perplexity(passages) < 0.8 * lm.perplexity(shuffled)


def test_rejects_bad_input():
    with pytest.raises(ValueError):
        KneserNeyLM(5, order=0)
    with pytest.raises(ValueError):
        KneserNeyLM(5, discount=0.0)
    with pytest.raises(RuntimeError):
        KneserNeyLM(5).distribution([1])
    with pytest.raises(ValueError):
        KneserNeyLM(5).fit([[1, 5]])
    lm = KneserNeyLM(5, order=3).fit([[1, 2, 3]])
    with pytest.raises(ValueError):
        lm.distribution([1, 5])
    with pytest.raises(ValueError):
        lm.log_prob([1], -1)


def test_a_saved_model_loads_mapped_and_gives_the_same_probabilities(tmp_path):
    passages = random_passages(7, n=80)
    lm = KneserNeyLM(12, order=4, discount=0.6).fit(passages)
    lm.save(tmp_path / "ngram.safetensors")
    loaded = KneserNeyLM.load(tmp_path / "ngram.safetensors")
    assert (loaded.vocab_size, loaded.order, loaded.discount) == (12, 4, 0.6)
    assert isinstance(loaded._words[4], np.memmap)  # mapped from the file, not read into memory
    for context in ([], [3], [0, 1, 2], [5, 5, 5, 5, 5], [11, 11, 11]):
        assert np.array_equal(loaded.distribution(context), lm.distribution(context))
    assert np.allclose(loaded.target_probabilities(passages[:20]), lm.target_probabilities(passages[:20]), rtol=0, atol=1e-15)
    assert not list(tmp_path.glob(".ngram*"))  # no temporary file left behind


def test_load_refuses_a_file_that_is_not_a_saved_model(tmp_path):
    (tmp_path / "junk.safetensors").write_bytes(b"\xff" * 64)
    with pytest.raises(ValueError):
        KneserNeyLM.load(tmp_path / "junk.safetensors")
    from safetensors.numpy import save_file

    save_file({"x": np.zeros(3, np.float32)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(ValueError, match="not a saved Kneser-Ney"):
        KneserNeyLM.load(tmp_path / "other.safetensors")
    save_file({"x": np.zeros(3, np.float32)}, str(tmp_path / "half.safetensors"), metadata={"kneser_ney": '{"order": 3}'})
    with pytest.raises(ValueError, match="not a saved Kneser-Ney"):  # its metadata lacks the vocabulary size
        KneserNeyLM.load(tmp_path / "half.safetensors")


def test_blend_is_the_weighted_sum_with_the_distribution():
    passages = random_passages(3, n=80)
    lm = KneserNeyLM(12, order=4, discount=0.7).fit(passages)
    probs = np.random.default_rng(0).dirichlet(np.ones(12)).astype(np.float32)
    for context in ([], [3], [0, 1, 2], [11, 11, 11], [5, 5, 5, 5]):
        for weight in (0.0, 0.3, 1.0):
            expected = (1 - weight) * probs.astype(np.float64) + weight * lm.distribution(context)
            np.testing.assert_allclose(lm.blend(probs, context, weight), expected, rtol=1e-12, atol=1e-15)
