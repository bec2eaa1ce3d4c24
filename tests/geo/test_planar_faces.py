"""Tidying face labels: cut-off pieces of an area join a neighbour, but never so that a village
loses all its land in its own township."""

from __future__ import annotations

import numpy as np

from geo.planar_faces import merge_fragments


def _row_of_faces(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Faces 0..n-1 side by side, each sharing one unit edge with the next."""
    a = np.arange(n - 1)
    return a, a + 1, np.ones(n - 1)


def test_a_village_split_over_two_cut_off_pieces_keeps_land_in_its_township() -> None:
    # township labels along a row: a big main piece of 0, then 1 and 0 alternating; village 2
    # lies in the two cut-off pieces of township 0 (faces 2 and 4), as a small city district
    # beside a ragged border can leave it (昌邑区, 220202).
    townships = np.array([0, 1, 0, 1, 0, 1])
    villages = np.array([0, 1, 2, 1, 2, 3])
    areas = np.array([10.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    merged = merge_fragments(townships, np.zeros(6, dtype=np.int64), areas, _row_of_faces(6), children=villages)
    assert (merged[villages == 2] == 0).any(), merged
    assert (merged[villages == 3] == 1).all(), "a village wholly in one cut-off piece stays too"


def test_cut_off_pieces_without_a_whole_village_join_their_neighbour() -> None:
    # face 2 (a bit of village 0) and face 1 (a bit of village 1) are both cut off from their
    # township's main piece; each joins the neighbour it borders, so each township is one piece
    townships = np.array([0, 1, 0, 1, 1])
    villages = np.array([0, 1, 0, 1, 1])
    merged = merge_fragments(townships, np.zeros(5, dtype=np.int64), np.array([10.0, 1, 1, 1, 1]),
                             _row_of_faces(5), children=villages)
    assert merged.tolist() == [0, 0, 1, 1, 1]
