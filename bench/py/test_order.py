"""Tests of bench/py/order.py: `python3 -m unittest bench/py/test_order.py`
from the repository root (tests/bench.sh runs it)."""

import os
import sys
import unittest
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from order import after_each_other, cold_order  # noqa: E402


def pairs(sequence):
    """The (before, after) pairs of `sequence`, read as a cycle."""
    return Counter(zip(sequence, sequence[1:] + sequence[:1]))


class AfterEachOther(unittest.TestCase):
    def test_each_ordered_pair_once_and_never_after_itself(self):
        for count in range(2, 9):
            with self.subTest(count=count):
                cycle = after_each_other(count)
                self.assertEqual(len(cycle), count * (count - 1))
                expected = {(a, b): 1 for a in range(count) for b in range(count) if a != b}
                self.assertEqual(dict(pairs(cycle)), expected)
                self.assertEqual(Counter(cycle), {i: count - 1 for i in range(count)})

    def test_degenerate_counts(self):
        self.assertEqual(after_each_other(0), [])
        self.assertEqual(after_each_other(1), [0])


class ColdOrder(unittest.TestCase):
    def test_timed_starts_are_balanced_across_the_warm_up_and_the_joins(self):
        cases = [  # (functions, trials asked, starts each)
            (4, 24, 24), (3, 24, 24), (4, 2, 3), (3, 2, 2), (4, 15, 15), (2, 5, 5),
        ]
        for count, trials, each in cases:
            with self.subTest(count=count, trials=trials):
                untimed, timed = cold_order(count, trials)
                self.assertEqual(sorted(untimed), list(range(count)))
                self.assertEqual(Counter(timed), {i: each for i in range(count)})
                # What each timed start follows, the warm-up's last start first.
                before = Counter(zip([untimed[-1]] + timed[:-1], timed))
                cycles = len(timed) // (count * (count - 1))
                self.assertEqual(set(before.values()), {cycles})
                self.assertTrue(all(a != b for a, b in before))

    def test_one_function(self):
        self.assertEqual(cold_order(1, 3), ([0], [0, 0, 0]))


if __name__ == "__main__":
    unittest.main()
