"""What the fuzz suites feed PaperDesk: each value is either one a user could mean (so that the
checks behind the first are reached) or a hostile one: unicode, NUL, line breaks, control and
format characters, lone surrogates, huge and tiny numbers, dates past the calendar, paths,
empty values and, for the API, wrong types."""

import math
from datetime import UTC, date, datetime, timedelta

from hypothesis import strategies as st

from engine.core.strategies import STRATEGIES
from engine.registry.agents import SPECS

HOSTILE_WORDS = (
    "", " ", "\n", "a\nb", "\r\n", "\x00", "x\x00y", "\t", "\x1b[31mred", "\u2028", "\u202eevil",
    "\ud800", "\udcff", "\ufeff", "😀", "é", "ﬀ", "１", "٣", "%s", "{}", "'", '"', "\\",
    "../../etc/passwd", "../../SOMEDIR/NAME", "/etc/passwd", "~", "..", ".", "C:\\x", "a/b",
    "NaN", "nan", "inf", "-inf", "Infinity", "1e309", "-1e309", "1e-320", "5e-324", "0", "-0",
    "-1", "1", "2", "9" * 30, "9" * 5000, "1_000", "0x10", "1,5", "1.5", "1e3", "True",
    "max", "MAX", " max ", "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59",
    "0001-01-01", "9999-12-31", "2019-02-30", "2019-13-01", "2019-09-10T24:00", "2019-09-10",
    "x" * 300, "=", "a=", "=b", "k=v=w", ",", ",,", ":", "1:2:3", "0:1000:1e-320",
)
# Every character Python can hold, lone surrogates included (hypothesis leaves them out unless
# told): a command line with invalid UTF-8 reaches the CLI as surrogates.
ANY_CHAR = st.characters(exclude_categories=())
TEXT = st.text(ANY_CHAR, max_size=24)
# (by index: a failure report names the strategy, and the words would fill pages)
HOSTILE = st.one_of(st.sampled_from(range(len(HOSTILE_WORDS))).map(HOSTILE_WORDS.__getitem__),
                    TEXT)
KEYS = st.one_of(TEXT, st.integers(), st.none(), st.booleans(), st.floats())  # hashable


def numbers_as_text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.integers(-(10**30), 10**30).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.floats(min_value=-1e-300, max_value=1e-300).map(repr),
    )


def word(*good: str) -> st.SearchStrategy[str]:
    """One command-line word: often one of `good`, else hostile."""
    return st.one_of(st.sampled_from(good), HOSTILE, numbers_as_text()) if good else HOSTILE


def dates() -> st.SearchStrategy[str]:
    """Dates in and around the shipped data, and past either end of the calendar."""
    first, last = datetime(2015, 1, 1), datetime(2021, 1, 1)  # noqa: DTZ001  (hypothesis: naive)
    inside = st.datetimes(min_value=first, max_value=last)
    return st.one_of(
        inside.map(lambda d: d.date().isoformat()),
        inside.map(lambda d: d.isoformat()),
        st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
        st.sampled_from(("9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "0001-01-01",
                         "9999-12-31", "2019-02-30", "garbage", "")),
    )


SYMBOLS = ("BTC-USD", "ETH-USD", "AAPL", "MSFT", "BTC-USD,ETH-USD", "ETH-USD,AAPL", "XYZ",
           "../../SOMEDIR/NAME", "btc-usd", "BTC-USD,BTC-USD")
AGENT_IDS = (*SPECS, "engine", "nope")
STRATEGY_NAMES = (*STRATEGIES, "MA_CROSSOVER", "nope")
PARAM_NAMES = ("fast", "slow", "period", "oversold", "overbought", "entry", "w_trend",
               "fee_bps", "slippage_bps", "fill_model", "position_size", "interval_s",
               "rss_feeds", "headlines_csv", "exchange", "source", "alert_drawdown_pct",
               "mood_window", "colour")
SPEEDS = ("1", "10", "max", "0.5", "100000", "100001")
WAITS = ("0", "0.01", "-1", "nan", "inf", "3601", "x", "1e309", "", "86401")
SHORT_WAIT_S = 0.02  # no engine runs here: a valid wait longer than this would only idle


def _short(word: str) -> str:
    try:
        seconds = float(word)
    except ValueError:
        return word
    return "0.01" if SHORT_WAIT_S < seconds <= 86_400 else word


def waits() -> st.SearchStrategy[str]:
    """--wait values: the edges, hostile words, and never a long valid wait."""
    return word(*WAITS).map(_short)


def assignment() -> st.SearchStrategy[str]:
    """A KEY=VALUE (or KEY=RANGE) word, usually well formed."""
    value = st.one_of(word("5", "20", "3:9:2", "5,10", "0.5", "true", "replay", "live",
                           "https://x.invalid/feed", "realistic"), numbers_as_text())
    return st.one_of(st.tuples(st.sampled_from(PARAM_NAMES), value).map("=".join), HOSTILE)


# ---------------------------------------------------------------- API arguments


def anything() -> st.SearchStrategy:
    """A value of any type the API might be handed by mistake."""
    return st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(), TEXT, HOSTILE,
        st.binary(max_size=8), st.lists(st.integers(), max_size=3),
        st.dictionaries(KEYS, st.integers(), max_size=2), st.just(object()),
        st.just(math.nan), st.just(10**400), st.just(-(2**63)), st.just(2**64),
        st.datetimes(), st.dates(), st.just(datetime.max.replace(tzinfo=UTC)),
        st.just(date.min),
        st.just(timedelta(days=1)),
    )


def ids(*known: int) -> st.SearchStrategy:
    """A session or sweep id as given to the API: known ones, their text, and the rest."""
    return st.one_of(st.sampled_from(known), st.sampled_from(known).map(str),
                     st.integers(-(2**70), 2**70), anything())


def aware_times() -> st.SearchStrategy[datetime]:
    return st.one_of(st.datetimes(timezones=st.just(UTC)),
                     st.datetimes(timezones=st.timezones()))
