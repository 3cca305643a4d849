"""The coefficients against published worked examples, to three decimals."""

import krippendorff
import numpy as np
import pytest

from apps.agreement import reliability
from apps.agreement.report import stance_distance

N = None
# Krippendorff, "Computing Krippendorff's Alpha-Reliability" (2011), the worked example with
# four observers, twelve units and missing values (section C). Published: nominal α = 0.743.
# The same data is the four-rater example of Gwet, Handbook of Inter-Rater Reliability
# (4th ed., 2014), whose AC1 is 0.7754 with pa = 0.8182 and pe = 0.1903 (as the authors'
# irrCAC package reproduces for its `raw_4raters` data set).
OBSERVERS = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
    [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
]
ROWS = list(zip(*OBSERVERS, strict=True))


def test_krippendorffs_nominal_example_with_missing_values():
    assert round(reliability.alpha(ROWS), 3) == 0.743


def test_gwets_ac1_example_with_missing_values():
    assert round(reliability.gwet_ac1(ROWS), 4) == 0.7754


def test_alpha_with_a_nominal_distance_of_our_own_equals_the_package_nominal_alpha():
    own = reliability.alpha(ROWS, distance=lambda a, b: float(a != b))
    data = np.array([[np.nan if v is None else v for v in row] for row in OBSERVERS])
    assert own == pytest.approx(krippendorff.alpha(data, level_of_measurement="nominal"))


def test_supports_against_asserts_counts_half_a_disagreement():
    rows = [("supports", "asserts"), ("contradicts", "contradicts"), ("asserts", "asserts")] * 3
    domain = ["asserts", "supports", "contradicts"]
    nominal = reliability.alpha(rows, domain)
    half = reliability.alpha(rows, domain, distance=stance_distance)
    assert half > nominal
    # Counting the pair as no disagreement at all would make it perfect; half is in between.
    assert half < 1


def test_percent_agreement_counts_units_coded_at_least_twice():
    assert reliability.percent_agreement([("a", "a"), ("a", "b"), ("a", None)]) == 0.5


def test_the_bootstrap_interval_is_the_same_every_time_and_holds_the_estimate():
    first = reliability.bootstrap_interval(ROWS, reliability.alpha, samples=200)
    assert first == reliability.bootstrap_interval(ROWS, reliability.alpha, samples=200)
    assert first[0] <= reliability.alpha(ROWS) <= first[1]


def test_coefficients_are_undefined_rather_than_wrong_without_enough_data():
    assert reliability.alpha([("a", None)]) is None
    assert reliability.gwet_ac1([]) is None
    assert reliability.percent_agreement([]) is None


def test_alpha_from_the_coincidence_matrix_equals_the_packages():
    domain = [1, 2, 3, 4, 5]
    assert reliability.alpha_from_coincidences(ROWS, domain) == pytest.approx(
        reliability.alpha(ROWS, domain)
    )
    stances = [("supports", "asserts"), ("contradicts", "contradicts"), ("asserts", None)] * 2
    stances += [("supports", "supports"), ("reports", "asserts")]
    names = ["asserts", "supports", "contradicts", "reports"]
    assert reliability.alpha_from_coincidences(stances, names, stance_distance) == pytest.approx(
        reliability.alpha(stances, names, distance=stance_distance)
    )


def test_the_fast_bootstrap_interval_is_fixed_and_holds_the_estimate():
    domain = [1, 2, 3, 4, 5]
    interval = reliability.bootstrap_alpha(ROWS, domain)
    assert interval == reliability.bootstrap_alpha(ROWS, domain)
    assert interval[0] <= reliability.alpha(ROWS) <= interval[1]
    # The percentile interval of the same resampling done with the package is close.
    slow = reliability.bootstrap_interval(ROWS, lambda rows: reliability.alpha(rows, domain))
    assert interval[0] == pytest.approx(slow[0], abs=0.1)
    assert interval[1] == pytest.approx(slow[1], abs=0.1)


def straightforward_bootstrap(rows, domain, distance=None, samples=300):
    """The same draws as bootstrap_alpha (all at once, not in blocks), each resample's alpha
    from the package, the same percentiles."""
    units = [row for row in rows if sum(v is not None for v in row) >= 2]
    picks = np.random.default_rng(reliability.BOOTSTRAP_SEED).integers(
        0, len(units), size=(samples, len(units))
    )
    estimates = []
    for draw in picks:
        value = reliability.alpha([units[i] for i in draw], domain, distance=distance)
        if value is not None and np.isfinite(value):
            estimates.append(value)
    estimates.sort()
    low = estimates[int(0.025 * (len(estimates) - 1))]
    return low, estimates[int(np.ceil(0.975 * (len(estimates) - 1)))]


@pytest.mark.parametrize(
    ("rows", "domain", "distance"),
    [
        ([(1, 1), (1, 2), (2, 2), (3, 3), (1, None), (3, 1), (2, 2)] * 5 + ROWS, [1, 2, 3, 4, 5],
         None),
        ([("supports", "asserts"), ("asserts", "asserts"), ("reports", "supports"),
          ("contradicts", "contradicts"), ("supports", None)] * 9,
         ["asserts", "supports", "contradicts", "reports"], stance_distance),
    ],
)  # fmt: skip
def test_the_fast_bootstrap_is_the_package_on_the_same_resamples(rows, domain, distance):
    expected = straightforward_bootstrap(rows, domain, distance)
    interval = reliability.bootstrap_alpha(rows, domain, distance, samples=300)
    assert interval == pytest.approx(expected, abs=1e-9)
