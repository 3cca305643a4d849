"""Agreement coefficients over reliability data: one row per unit, one value per coder, None
where a coder gave no value (missing).

Krippendorff's alpha comes from the `krippendorff` package (nominal, or with a distance of our
own: it takes a callable); percent agreement and Gwet's AC1 are small enough to write here.
Framework-free, so the report, the CSV and the tests all call the same functions.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Hashable, Sequence

import krippendorff
import numpy as np

Row = Sequence[Hashable | None]

# Bootstrap resamples of the units and the seed: the interval is the same on every reload.
BOOTSTRAP_SAMPLES = 1000
BOOTSTRAP_SEED = 20080101


def pairable(rows: Sequence[Row]) -> list[list[Hashable]]:
    """The values of the units that at least two coders gave a value."""
    kept = []
    for row in rows:
        values = [v for v in row if v is not None]
        if len(values) >= 2:
            kept.append(values)
    return kept


def percent_agreement(rows: Sequence[Row]) -> float | None:
    """Share of pairable units on which every coder who gave a value gave the same one."""
    units = pairable(rows)
    if not units:
        return None
    return sum(1 for values in units if len(set(values)) == 1) / len(units)


def gwet_ac1(rows: Sequence[Row], categories: Sequence[Hashable] | None = None) -> float | None:
    """Gwet's AC1 for any number of coders with missing values (Gwet 2008; Handbook of
    Inter-Rater Reliability, ch. 2). Agreement pa over the units rated at least twice; chance
    agreement pe = Σ π_k(1 − π_k) / (q − 1), π_k the mean share of category k over the units
    rated at least once; q the categories given (or those used)."""
    if categories is None:
        categories = sorted({v for row in rows for v in row if v is not None}, key=str)
    q = len(categories)
    index = {value: number for number, value in enumerate(categories)}
    unit_of, value_of = [], []
    for u, row in enumerate(rows):
        for v in row:
            if v is not None:
                unit_of.append(u)
                value_of.append(index[v])
    if q < 2 or not unit_of:
        return None
    counts = np.zeros((len(rows), q))
    np.add.at(counts, (np.array(unit_of), np.array(value_of)), 1.0)
    r = counts.sum(axis=1)
    rated, twice = counts[r >= 1], counts[r >= 2]
    if not len(twice):
        return None
    r_twice = twice.sum(axis=1)
    pa = float(((twice * (twice - 1)).sum(axis=1) / (r_twice * (r_twice - 1))).mean())
    pi = (rated / rated.sum(axis=1, keepdims=True)).mean(axis=0)
    pe = float((pi * (1 - pi)).sum() / (q - 1))
    if pe == 1:
        return None
    return (pa - pe) / (1 - pe)


def _codes(rows: Sequence[Row], domain: Sequence[Hashable]) -> np.ndarray:
    """The reliability data as the package wants it: coders × units, values as numbers."""
    index = {value: number for number, value in enumerate(domain)}
    coders = max((len(row) for row in rows), default=0)
    data = np.full((coders, len(rows)), np.nan)
    for unit, row in enumerate(rows):
        for coder, value in enumerate(row):
            if value is not None:
                data[coder, unit] = index[value]
    return data


def alpha(
    rows: Sequence[Row],
    domain: Sequence[Hashable] | None = None,
    distance: Callable | None = None,
) -> float | None:
    """Krippendorff's alpha: nominal, or with `distance(a, b)` between two values of `domain`
    (0 for equal, up to 1). None when it is not defined (fewer than two values in the data)."""
    units = [row for row in rows if sum(v is not None for v in row) >= 2]
    if domain is None:
        domain = sorted({v for row in units for v in row if v is not None}, key=str)
    if len(units) == 0 or len({v for row in units for v in row if v is not None}) < 2:
        return None
    data = _codes(units, domain)
    if data.shape[0] < 2:
        return None
    level: object = "nominal"
    if distance is not None:
        table = np.array([[distance(a, b) for b in domain] for a in domain], dtype=float)

        def level(v1, v2, i1, i2, n_v, dtype=np.float64):  # the package's metric signature
            return table[v1.astype(int), v2.astype(int)].astype(dtype)

    return float(
        krippendorff.alpha(
            reliability_data=data,
            value_domain=list(range(len(domain))),
            level_of_measurement=level,
        )
    )


def bootstrap_interval(
    rows: Sequence[Row],
    statistic: Callable[[Sequence[Row]], float | None],
    *,
    samples: int = BOOTSTRAP_SAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[float, float] | None:
    """A percentile 95 % interval of `statistic`, resampling units with replacement, with a
    fixed seed so the page shows the same interval every time."""
    units = [row for row in rows if sum(v is not None for v in row) >= 2]
    if len(units) < 2:
        return None
    generator = random.Random(seed)
    estimates = []
    for _ in range(samples):
        resample = [units[generator.randrange(len(units))] for _ in units]
        value = statistic(resample)
        if value is not None and not math.isnan(value):
            estimates.append(value)
    if len(estimates) < samples // 2:
        return None
    estimates.sort()
    low = estimates[int(0.025 * (len(estimates) - 1))]
    high = estimates[int(math.ceil(0.975 * (len(estimates) - 1)))]
    return low, high


def bootstrap_alpha(
    rows: Sequence[Row],
    domain: Sequence[Hashable],
    distance: Callable | None = None,
    *,
    samples: int = BOOTSTRAP_SAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[float, float] | None:
    """The percentile 95 % interval of alpha over units resampled with replacement (fixed
    seed), computed from each unit's share of the coincidence matrix, so a thousand resamples
    of thousands of units take one matrix product instead of a thousand calls of the package.
    Each resample's alpha is what the package gives for those units (a test checks it)."""
    units = [row for row in rows if sum(v is not None for v in row) >= 2]
    if len(units) < 2:
        return None
    index = {value: number for number, value in enumerate(domain)}
    size = len(domain)
    delta = np.array(
        [[(distance(a, b) if distance else float(a != b)) for b in domain] for a in domain]
    )
    # Per unit: the values it pairs (n_uc) and its observed disagreement Σ o_uck δ_ck, where
    # o_uck = n_uc (n_uk − [c = k]) / (m_u − 1); δ_cc = 0, so the [c = k] term adds nothing.
    unit_of, value_of = [], []
    for u, row in enumerate(units):
        for v in row:
            if v is not None:
                unit_of.append(u)
                value_of.append(index[v])
    counts = np.zeros((len(units), size))
    np.add.at(counts, (np.array(unit_of), np.array(value_of)), 1.0)
    pairable_values = counts.sum(axis=1)
    observed = np.einsum("uc,ck,uk->u", counts, delta, counts) / (pairable_values - 1)
    generator = np.random.default_rng(seed)
    n_units = len(units)
    # Per unit, what a resample sums: its observed disagreement and its values.
    figures = np.column_stack([observed, counts])
    sums = np.empty((samples, 1 + size))
    # Each resample as weights (how many times it drew each unit), so that its sums are one
    # matrix product rather than a sum over thousands of drawn rows. Drawn in small blocks,
    # which stay in the processor's cache (a 4,000-unit bootstrap takes ~30 ms, not ~150);
    # the generator gives the same draws whatever the blocks (a test draws them all at once).
    block = max(1, 30_000 // n_units)
    offsets = np.arange(block)[:, None] * n_units
    for first in range(0, samples, block):
        drawn = min(block, samples - first)
        picks = generator.integers(0, n_units, size=(drawn, n_units))
        picks += offsets[:drawn]
        weights = np.bincount(picks.ravel(), minlength=drawn * n_units).reshape(drawn, n_units)
        sums[first : first + drawn] = weights @ figures
    d_o, n_c = sums[:, 0], sums[:, 1:]
    n = n_c.sum(axis=1)
    d_e = np.einsum("bc,ck,bk->b", n_c, delta, n_c) / (n - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        estimates = 1 - d_o / d_e
    estimates = np.sort(estimates[np.isfinite(estimates)])
    if len(estimates) < samples // 2:
        return None
    low = estimates[int(0.025 * (len(estimates) - 1))]
    high = estimates[int(math.ceil(0.975 * (len(estimates) - 1)))]
    return float(low), float(high)


def alpha_from_coincidences(
    rows: Sequence[Row], domain: Sequence[Hashable], distance: Callable | None = None
) -> float | None:
    """Alpha from the coincidence matrix, as bootstrap_alpha computes each resample (one
    resample of weight 1 per unit): the test compares it with the package's."""
    units = [row for row in rows if sum(v is not None for v in row) >= 2]
    if not units:
        return None
    index = {value: number for number, value in enumerate(domain)}
    size = len(domain)
    delta = np.array(
        [[(distance(a, b) if distance else float(a != b)) for b in domain] for a in domain]
    )
    n_c = np.zeros(size)
    d_o = 0.0
    for row in units:
        values = [index[v] for v in row if v is not None]
        n_u = np.bincount(values, minlength=size).astype(float)
        n_c += n_u
        d_o += ((np.outer(n_u, n_u) - np.diag(n_u)) * delta).sum() / (len(values) - 1)
    n = n_c.sum()
    d_e = (np.outer(n_c, n_c) * delta).sum() / (n - 1)
    return None if d_e == 0 else float(1 - d_o / d_e)


def confusion(rows: Sequence[Row], domain: Sequence[Hashable]) -> list[list[int]]:
    """How often value a (one coder) met value b (another) over all pairs of coders in a unit:
    the symmetric coincidence counts, unweighted, as a table in `domain`'s order."""
    index = {value: number for number, value in enumerate(domain)}
    table = [[0] * len(domain) for _ in domain]
    for values in pairable(rows):
        for i, a in enumerate(values):
            for b in values[i + 1 :]:
                table[index[a]][index[b]] += 1
                if a != b:
                    table[index[b]][index[a]] += 1
    return table
