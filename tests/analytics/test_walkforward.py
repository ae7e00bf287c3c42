"""Walk-forward: the spec parser (hand cases and a fuzz), fold layout without look-ahead,
efficiency against a hand computation, and the choice of the best candidate."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.analytics.walkforward import (
    Fold,
    WalkForward,
    efficiency,
    folds,
    parse_walk_forward,
)
from engine.core.selection import OBJECTIVES, Candidate, annualised_return, select_best
from engine.errors import BadInput


@pytest.mark.parametrize(("text", "expected"), [
    ("train=500,test=100", WalkForward(500, 100, 100, False)),
    ("test=1,train=10", WalkForward(10, 1, 1, False)),
    (" Train = 20 , test=5, step=7, ANCHORED ", WalkForward(20, 5, 7, True)),
    ("anchored,train=010,test=3,step=3", WalkForward(10, 3, 3, True)),
    ("train=1000000000,test=1000000000", WalkForward(10**9, 10**9, 10**9, False)),
])
def test_parse_accepts(text, expected):
    assert parse_walk_forward(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("", "walk-forward is empty"),
    ("  ", "walk-forward is empty"),
    ("train=x,test=1", "walk-forward train must be a whole number of bars ≥ 10 (got 'x')"),
    ("train=9,test=1", "walk-forward train must be a whole number of bars ≥ 10 (got '9')"),
    ("train=10.5,test=1", "train must be a whole number of bars ≥ 10 (got '10.5')"),
    ("train=-20,test=1", "train must be a whole number of bars ≥ 10 (got '-20')"),
    ("train=1e3,test=1", "train must be a whole number of bars ≥ 10 (got '1e3')"),
    ("train=\uff11\uff10,test=1", "train must be a whole number of bars ≥ 10"),  # full-width 10
    ("train=\u00b2\u00b2,test=1", "train must be a whole number of bars ≥ 10"),  # superscripts
    ("train,test=1", "train must be a whole number of bars ≥ 10 (got no value)"),
    ("train=,test=1", "train must be a whole number of bars ≥ 10 (got '')"),
    ("train=10,test=0", "walk-forward test must be a whole number of bars ≥ 1 (got '0')"),
    ("train=10,test=1,step=0", "walk-forward step must be a whole number of bars ≥ 1"),
    ("train=10,test=5,step=4", "walk-forward step must be ≥ test (5 bars)"),
    ("train=1000000001,test=1", "walk-forward train must be at most 1000000000 bars"),
    ("train=" + "9" * 5000 + ",test=1", "walk-forward train must be at most 1000000000 bars"),
    ("train=10,train=20,test=1", "walk-forward train is given twice"),
    ("train=10,test=1,anchored,anchored", "walk-forward anchored is given twice"),
    ("train=10,test=1,anchored=yes", "walk-forward anchored takes no value (got 'yes')"),
    ("train=10,test=1,foo=2", "walk-forward has no key 'foo'; the keys are train, test, step"),
    ("train=10,,test=1", "walk-forward item '' names no key"),
    ("train=10,test=1,", "walk-forward item '' names no key"),
    ("=5,train=10,test=1", "walk-forward item '=5' names no key"),
    ("train=10", "walk-forward test is missing"),
    ("test=5,step=5", "walk-forward train is missing"),
    ("train=10,test=1\nrm -rf", r"walk-forward test must be a whole number of bars ≥ 1 (got '1\n"),
    ("train=10,test=1,x\u2028y=2", r"walk-forward has no key 'x\u2028y'"),
])
def test_parse_refuses_with_one_line_naming_the_field(text, message):
    with pytest.raises(BadInput) as caught:
        parse_walk_forward(text)
    assert message in str(caught.value)
    assert len(str(caught.value).splitlines()) == 1


def _parses_or_refuses_on_one_line(text: str) -> None:
    try:
        outcome: WalkForward | BadInput = parse_walk_forward(text)
    except BadInput as exc:
        outcome = exc
    if isinstance(outcome, BadInput):
        assert str(outcome).startswith("walk-forward ")
        assert len(str(outcome).splitlines()) == 1
        assert len(str(outcome)) < 200
    else:
        assert outcome.train_bars >= 10
        assert outcome.step_bars >= outcome.test_bars >= 1


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_parse_fuzz_any_text(text):
    _parses_or_refuses_on_one_line(text)


_KEYS = st.sampled_from(["train", "test", "step", "anchored", "TRAIN", " test ", "", "x"])
_VALUES = st.one_of(st.integers(-5, 2_000).map(str), st.text(max_size=6),
                    st.sampled_from(["", "10", "1" * 12, "٣٣", "\u2028"]))
_ITEMS = st.builds(lambda key, equals, value: key + equals + value,
                   _KEYS, st.sampled_from(["=", "", "==", " = "]), _VALUES)


@settings(max_examples=400, deadline=None)
@given(st.lists(_ITEMS, max_size=5).map(",".join))
def test_parse_fuzz_near_valid_text(text):
    _parses_or_refuses_on_one_line(text)


def test_rolling_folds_slide_and_keep_a_short_last_test():
    spec = WalkForward(train_bars=10, test_bars=5, step_bars=5)
    assert folds(spec, 27) == (
        Fold(0, 0, 10, 10, 15),
        Fold(1, 5, 15, 15, 20),
        Fold(2, 10, 20, 20, 25),
        Fold(3, 15, 25, 25, 27),
    )


def test_anchored_folds_train_from_bar_zero():
    spec = WalkForward(train_bars=10, test_bars=5, step_bars=5, anchored=True)
    assert folds(spec, 27) == (
        Fold(0, 0, 10, 10, 15),
        Fold(1, 0, 15, 15, 20),
        Fold(2, 0, 20, 20, 25),
        Fold(3, 0, 25, 25, 27),
    )


def test_a_step_longer_than_test_leaves_bars_untested():
    spec = WalkForward(train_bars=10, test_bars=2, step_bars=5)
    assert folds(spec, 22) == (
        Fold(0, 0, 10, 10, 12),
        Fold(1, 5, 15, 15, 17),
        Fold(2, 10, 20, 20, 22),
    )


def test_one_bar_past_training_makes_one_fold():
    assert folds(WalkForward(10, 5, 5), 11) == (Fold(0, 0, 10, 10, 11),)


@pytest.mark.parametrize("n_bars", [10, 3, 0])
def test_too_few_bars_say_how_many_there_are_and_are_needed(n_bars):
    with pytest.raises(BadInput, match=f"at least 11 bars .* there are {n_bars}$"):
        folds(WalkForward(10, 5, 5), n_bars)


@settings(max_examples=300, deadline=None)
@given(train=st.integers(10, 60), test=st.integers(1, 25), extra_step=st.integers(0, 10),
       anchored=st.booleans(), spare=st.integers(1, 300))
def test_no_fold_tests_a_bar_it_or_an_earlier_fold_trained_on(train, test, extra_step,
                                                              anchored, spare):
    spec = WalkForward(train, test, test + extra_step, anchored)
    n_bars = train + spare
    laid = folds(spec, n_bars)
    for k, fold in enumerate(laid):
        assert fold.index == k
        assert fold.test_start == fold.train_end
        assert 0 <= fold.train_start < fold.train_end < fold.test_end <= n_bars
        assert fold.train_end - fold.train_start == (train + k * spec.step_bars if anchored
                                                     else train)
        assert fold.test_end - fold.test_start == min(test, n_bars - fold.test_start)
        for earlier in laid[:k + 1]:
            tested = set(range(fold.test_start, fold.test_end))
            assert not tested & set(range(earlier.train_start, earlier.train_end))
    for before, after in zip(laid, laid[1:], strict=False):
        assert after.test_start - before.test_end == extra_step  # disjoint; contiguous at 0
    assert n_bars - laid[-1].test_end <= extra_step  # only a gap's worth after the last test
    if extra_step == 0:
        tested = [bar for fold in laid for bar in range(fold.test_start, fold.test_end)]
        assert tested == list(range(train, n_bars))


def test_efficiency_matches_a_hand_computation():
    # in sample: +21 % over 2 years (504 daily bars) = +10 % a year;
    # out of sample: +5 % over half a year (126 bars) = 1.05² − 1 = +10.25 % a year
    assert annualised_return(0.21, 504, 252) == pytest.approx(0.10)
    assert efficiency(0.21, 504, 0.05, 126, 252) == pytest.approx(0.1025 / 0.10)
    assert efficiency(0.21, 504, -0.05, 126, 252) == pytest.approx((0.95**2 - 1) / 0.10)
    assert efficiency(0.21, 504, -1.0, 126, 252) == pytest.approx(-1 / 0.10)


@pytest.mark.parametrize("in_sample_return", [0.0, -0.1, -1.0, 1e6])
def test_efficiency_is_none_for_an_in_sample_loss_or_an_overflow(in_sample_return):
    assert efficiency(in_sample_return, 1, 0.01, 10, 100_000) is None


def test_efficiency_is_none_when_the_out_of_sample_annual_return_overflows():
    assert efficiency(0.1, 252, 1e6, 1, 100_000) is None
    assert annualised_return(1e6, 1, 100_000) == math.inf


@pytest.mark.parametrize(("args", "field"), [
    ((math.nan, 10, 0.1, 10, 252), "in-sample return"),
    ((0.1, 10, -1.5, 10, 252), "out-of-sample return"),
    ((0.1, 0, 0.1, 10, 252), "in-sample bars"),
    ((0.1, 10, 0.1, -3, 252), "out-of-sample bars"),
    ((0.1, 10, 0.1, 10, 0), "bars per year"),
    ((0.1, 10, 0.1, 10, math.inf), "bars per year"),
])
def test_efficiency_refuses_bad_input_naming_the_field(args, field):
    with pytest.raises(BadInput, match=f"^{field} must be"):
        efficiency(*args)


def _candidate(name, sharpe, total_return, annual_return, max_drawdown):
    return Candidate((name,), sharpe, total_return, annual_return, max_drawdown)


CANDIDATES = [
    _candidate("a", 1.0, 0.30, 0.30, 0.30),  # calmar 1.0
    _candidate("b", 2.0, 0.10, 0.10, 0.02),  # calmar 5.0
    _candidate("c", None, 0.50, 0.50, 0.25),  # calmar 2.0
    _candidate("d", 2.0, 0.20, 0.20, 0.50),  # calmar 0.4; ties b on sharpe
]


@pytest.mark.parametrize(("objective", "best"), [
    ("sharpe", "b"), ("total_return", "c"), ("calmar", "b"),
])
def test_select_best_by_each_objective(objective, best):
    assert select_best(objective, CANDIDATES).params == (best,)


def test_select_best_breaks_ties_by_candidate_order():
    assert select_best("sharpe", CANDIDATES).params == ("b",)
    assert select_best("sharpe", [CANDIDATES[3], CANDIDATES[1]]).params == ("d",)


def test_an_undefined_score_ranks_last_and_all_undefined_picks_the_first():
    assert select_best("sharpe", [CANDIDATES[2], CANDIDATES[0]]).params == ("a",)
    nans = [_candidate(name, math.nan, 0.0, 0.0, 0.0) for name in "xyz"]
    assert select_best("sharpe", nans).params == ("x",)
    assert select_best("calmar", nans).params == ("x",)  # 0 return, 0 drawdown: undefined


def test_calmar_without_drawdown():
    assert _candidate("g", 1.0, 0.1, 0.1, 0.0).calmar == math.inf
    assert _candidate("z", 0.0, 0.0, 0.0, 0.0).calmar is None
    assert _candidate("l", -1.0, -0.1, -0.2, 0.4).calmar == pytest.approx(-0.5)


def test_select_best_refuses_an_unknown_objective_or_no_candidates():
    assert OBJECTIVES == ("sharpe", "total_return", "calmar")
    with pytest.raises(BadInput, match="objective must be one of sharpe, total_return, calmar "
                                       r"\(got 'sortino'\)"):
        select_best("sortino", CANDIDATES)
    with pytest.raises(BadInput, match="no candidates"):
        select_best("sharpe", [])
