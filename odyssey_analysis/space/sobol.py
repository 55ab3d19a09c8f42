"""Scrambled Sobol points in any dimension, in NumPy alone.

The construction is Sobol's (1967), as described by Bratley & Fox (1988) and Joe & Kuo
(2008): coordinate ``j`` of point ``i`` is the XOR of the direction numbers ``v_{j,b}``
of the bits ``b`` set in ``i``. The first coordinate has ``v_b = 2^{-b-1}`` (the van der
Corput sequence). Coordinate ``j >= 1`` takes the ``j``-th primitive polynomial over
GF(2), ``x^s + a_1 x^{s-1} + … + a_{s-1} x + 1`` (ordered by degree, then by value; found
by brute force), odd initial numbers ``m_1 … m_s`` with ``m_k < 2^k``, and the
recurrence

    m_k = 2 a_1 m_{k-1} ⊕ 4 a_2 m_{k-2} ⊕ … ⊕ 2^{s-1} a_{s-1} m_{k-s+1} ⊕ 2^s m_{k-s} ⊕ m_{k-s},

with ``v_{j,b} = m_{b+1} / 2^{b+1}``. Every such choice makes the first ``2^k`` points a
digital ``(t, k, d)``-net in base 2: each coordinate alone takes each of the ``2^k``
intervals ``[i / 2^k, (i + 1) / 2^k)`` exactly once.

Pairs of coordinates are another matter: with careless initial numbers two coordinates
can share their leading digits, so their points crowd into half of the square. The
initial numbers of coordinate ``j`` are therefore the best of :data:`CANDIDATES` seeded
draws, the one whose leading digits are linearly independent of those of the earlier
coordinates up to the highest level (:func:`defects`) — Joe & Kuo's criterion in a
simple greedy form. The search takes minutes for hundreds of coordinates, so its result
for the first :data:`TABLE_DIMENSIONS` coordinates ships as ``data/sobol_directions.csv``
(written by ``tests/make_sobol_table.py``; a test checks its first rows against the
search). Further coordinates take one seeded draw, unchecked.

The points are randomised by Matoušek's linear matrix scrambling plus a digital shift,
seeded by ``seed``: each coordinate's generator matrix is multiplied by a random
lower-triangular binary matrix with a unit diagonal, and the result is XORed with a
random shift. This keeps the net property, makes every point uniform on the unit cube
(so integrals are unbiased) and fills all :data:`BITS` bits of each coordinate.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

#: Binary digits of each coordinate (exactly representable in a float64).
BITS = 52
#: Seed of the initial direction numbers (part of the construction, not a user's seed).
DIRECTION_SEED = 0x50B01
#: Initial numbers drawn per coordinate by the search; the one with the fewest defects
#: is kept.
CANDIDATES = 16
#: Coordinates whose searched initial numbers ship in ``data/sobol_directions.csv``.
TABLE_DIMENSIONS = 1024
#: Leading digits whose joint stratification with earlier coordinates is checked.
_CHECK_DIGITS = 8
#: Leading columns of the generator matrix checked (the first ``2**k`` points use
#: ``k`` columns; the analysis uses ``2**12`` and ``2**13``).
_CHECK_COLUMNS = (10, 12, 13, 16)


def _prime_factors(n: int) -> list[int]:
    out, p = [], 2
    while p * p <= n:
        if n % p == 0:
            out.append(p)
            while n % p == 0:
                n //= p
        p += 1
    if n > 1:
        out.append(n)
    return out


def _mulmod(a: int, b: int, poly: int, degree: int) -> int:
    """``a · b`` modulo ``poly`` in GF(2)[x] (polynomials as bit masks)."""
    out = 0
    while b:
        if b & 1:
            out ^= a
        b >>= 1
        a <<= 1
        if a >> degree & 1:
            a ^= poly
    return out


def _x_power(e: int, poly: int, degree: int) -> int:
    """``x^e`` modulo ``poly``."""
    result, base = 1, 2 if degree > 1 else 2 ^ poly
    while e:
        if e & 1:
            result = _mulmod(result, base, poly, degree)
        base = _mulmod(base, base, poly, degree)
        e >>= 1
    return result


def is_primitive(poly: int) -> bool:
    """Whether the GF(2) polynomial with bit mask ``poly`` (bit ``k``: ``x^k``) is
    primitive: ``x`` has order ``2^s − 1`` modulo it, ``s`` its degree."""
    degree = poly.bit_length() - 1
    if degree < 1 or not poly & 1:
        return False
    order = (1 << degree) - 1
    if _x_power(order, poly, degree) != 1:
        return False
    return all(_x_power(order // q, poly, degree) != 1 for q in _prime_factors(order))


@lru_cache(maxsize=16)
def primitive_polynomials(count: int) -> tuple[int, ...]:
    """The first ``count`` primitive polynomials over GF(2), by degree then value."""
    found: list[int] = []
    degree = 1
    while len(found) < count:
        for poly in range(1 << degree, 1 << (degree + 1)):
            if is_primitive(poly):
                found.append(poly)
                if len(found) == count:
                    break
        degree += 1
    return tuple(found)


def _initial_numbers(rng: np.random.Generator, s: int) -> list[int]:
    """Odd ``m_1 … m_s`` with ``m_k < 2^k``."""
    return [int(rng.integers(0, 1 << (k - 1))) * 2 + 1 for k in range(1, s + 1)]


def _extend(initial: list[int], poly: int) -> list[int]:
    """``m_1 … m_BITS`` from the initial numbers by the polynomial's recurrence."""
    s = poly.bit_length() - 1
    m = list(initial)
    for k in range(s, BITS):  # m[k] is m_{k+1}
        new = m[k - s] ^ (m[k - s] << s)
        for i in range(1, s):
            if poly >> (s - i) & 1:
                new ^= m[k - i] << i
        m.append(new)
    return m[:BITS]


def _rows(m: list[int]) -> np.ndarray:
    """The first :data:`_CHECK_DIGITS` rows of the generator matrix, restricted to its
    first ``max(_CHECK_COLUMNS)`` columns, as bit masks (bit ``k``: column ``k``)."""
    rows = np.zeros(_CHECK_DIGITS, dtype=np.int64)
    for k in range(max(_CHECK_COLUMNS)):
        for r in range(min(k + 1, _CHECK_DIGITS)):  # digit r of m_{k+1} / 2^{k+1}
            rows[r] |= (m[k] >> (k - r) & 1) << k
    return rows


def _spans(rows: np.ndarray) -> list[np.ndarray]:
    """``spans[a]``: every XOR combination of the first ``a`` rows."""
    out = [np.zeros(1, dtype=np.int64)]
    for row in rows:
        out.append(np.concatenate([out[-1], out[-1] ^ row]))
    return out


def defects(candidate: list[np.ndarray], previous: list[np.ndarray]) -> float:
    """How badly a candidate coordinate pairs with the earlier ones.

    A pair's level is the least ``a + b`` at which the first ``a`` digits of the
    candidate and the first ``b`` of the earlier coordinate are linearly dependent over
    the generator's first ``k`` columns (then the pair's ``2^a × 2^b`` boxes are not
    equally filled by the first ``2^k`` points); each pair and each ``k`` of
    :data:`_CHECK_COLUMNS` with a level up to :data:`_CHECK_DIGITS` adds
    ``4^(_CHECK_DIGITS − level)``. ``candidate[a]`` is the span of the candidate's first
    ``a`` rows (:func:`_spans`); ``previous[b]`` stacks every earlier coordinate's.
    """
    score = 0.0
    seen = np.zeros(1 << max(_CHECK_COLUMNS), dtype=bool)
    for columns in _CHECK_COLUMNS:
        mask = (1 << columns) - 1
        level = np.full(len(previous[0]), _CHECK_DIGITS + 1)
        for a in range(1, _CHECK_DIGITS):
            seen[:] = False
            seen[candidate[a][1:] & mask] = True
            for b in range(1, _CHECK_DIGITS + 1 - a):
                hit = seen[previous[b][:, 1:] & mask].any(axis=1)
                level = np.where(hit, np.minimum(level, a + b), level)
        score += float(np.sum(4.0 ** (_CHECK_DIGITS - level[level <= _CHECK_DIGITS])))
    return score


def search_initial_numbers(d: int) -> list[tuple[int, tuple[int, ...]]]:
    """Polynomial and initial numbers of coordinates ``1 … d − 1`` by the greedy search.

    Coordinate ``j`` keeps the first of :data:`CANDIDATES` draws (from a generator
    seeded by :data:`DIRECTION_SEED`) with the fewest :func:`defects` against
    coordinates ``0 … j − 1``; the result for the first coordinates does not depend on
    ``d``.
    """
    polys = primitive_polynomials(max(d - 1, 0))
    rng = np.random.default_rng(DIRECTION_SEED)
    spans: list[list[np.ndarray]] = [[s] for s in _spans(_rows([1] * BITS))]
    out = []
    for poly in polys:
        s = poly.bit_length() - 1
        previous = [np.array(level) for level in spans]
        best: tuple[float, list[int]] | None = None
        for _ in range(CANDIDATES):
            initial = _initial_numbers(rng, s)
            score = defects(_spans(_rows(_extend(initial, poly))), previous)
            if best is None or score < best[0]:
                best = (score, initial)
            if score == 0:
                break
        assert best is not None
        out.append((poly, tuple(best[1])))
        for level, span in zip(spans, _spans(_rows(_extend(best[1], poly)))):
            level.append(span)
    return out


def read_table(text: str) -> list[tuple[int, tuple[int, ...]]]:
    """Rows ``dimension,polynomial,initial numbers`` (space-separated) of the table."""
    rows = []
    for line in text.splitlines()[1:]:
        if line.strip():
            _, poly, initial = line.split(",")
            rows.append((int(poly), tuple(int(m) for m in initial.split())))
    return rows


@lru_cache(maxsize=1)
def _table() -> tuple[tuple[int, tuple[int, ...]], ...]:
    path = Path(__file__).resolve().parent.parent / "data" / "sobol_directions.csv"
    return tuple(read_table(path.read_text(encoding="ascii")))


@lru_cache(maxsize=8)
def direction_numbers(d: int) -> np.ndarray:
    """``(d, BITS)`` unsigned integers: ``v_{j,b} · 2^BITS`` (read-only).

    The shipped table's initial numbers for its coordinates, one seeded draw for each
    coordinate beyond it.
    """
    table = _table()
    polys = primitive_polynomials(max(d - 1, 0)) if d - 1 > len(table) else ()
    out = np.zeros((d, BITS), dtype=np.uint64)
    for j in range(d):
        if j == 0:
            m = [1] * BITS
        elif j <= len(table):
            m = _extend(list(table[j - 1][1]), table[j - 1][0])
        else:
            poly = polys[j - 1]
            rng = np.random.default_rng([DIRECTION_SEED, j])
            m = _extend(_initial_numbers(rng, poly.bit_length() - 1), poly)
        out[j] = [mk << (BITS - 1 - b) for b, mk in enumerate(m)]
    out.setflags(write=False)
    return out


def _parity(x: np.ndarray) -> np.ndarray:
    """Parity of the set bits of each unsigned 64-bit integer."""
    x = x.copy()
    for shift in (32, 16, 8, 4, 2, 1):
        x ^= x >> np.uint64(shift)
    return x & np.uint64(1)


def sobol_points(log2_n: int, d: int, seed: np.random.Generator | int) -> np.ndarray:
    """The first ``2**log2_n`` scrambled Sobol points in ``[0, 1)^d``.

    Parameters
    ----------
    log2_n
        Base-2 logarithm of the number of points (at most :data:`BITS`).
    d
        Dimension (any positive integer; a few hundred cost well under a second).
    seed
        Seed (or generator) of the scrambling; the same seed gives the same points.

    Returns
    -------
    np.ndarray
        ``(2**log2_n, d)`` floats; each coordinate takes each interval
        ``[i / 2**log2_n, (i + 1) / 2**log2_n)`` exactly once.
    """
    if not 0 <= log2_n <= BITS:
        raise ValueError(f"log2_n must be in [0, {BITS}], not {log2_n}")
    if d < 1:
        raise ValueError(f"the dimension must be positive, not {d}")
    rng = np.random.default_rng(seed)
    v = direction_numbers(d)[:, :max(log2_n, 1)]  # (d, K): the generator's columns
    # Lower-triangular scrambling: output digit r (bit BITS-1-r) is the parity of the
    # input digits 0..r selected by row r, whose digit r is always set.
    one = np.uint64(1)
    digits = np.arange(BITS, dtype=np.uint64)
    top = np.uint64(BITS - 1) - digits  # bit position of digit r
    low = rng.integers(0, 1 << 62, size=(d, BITS), dtype=np.uint64) >> np.uint64(10)
    above = ~((one << top) - one)  # bits of digits 0..r
    rows = (low & above[None, :]) | (one << top)[None, :]
    bits = _parity(rows[:, :, None] & v[:, None, :])  # (d, BITS, K)
    scrambled = np.bitwise_or.reduce(bits << top[None, :, None], axis=1)  # (d, K)
    shift = rng.integers(0, 1 << 62, size=d, dtype=np.uint64) >> np.uint64(10)
    index = np.arange(1 << log2_n, dtype=np.uint64)
    x = np.broadcast_to(shift, (len(index), d)).copy()
    for b in range(log2_n):
        on = ((index >> np.uint64(b)) & one).astype(bool)
        x[on] ^= scrambled[:, b]
    return x.astype(np.float64) / float(1 << BITS)
