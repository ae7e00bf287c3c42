import shutil
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from engine.agents.sentiment import SentimentAgent
from engine.config import load_settings
from engine.core.bars import BarData
from engine.errors import BadInput
from engine.market.bars import write_bars
from engine.news.scoring import label, price_mood, read_headlines_csv, score_headline
from engine.store.models import SentimentScore
from engine.store.news import NewsScore
from tests.conftest import ROOT, make_agent

BULL = "Bitcoin surges to record high as ETF inflows soar"
BEAR = "Exchange hacked, withdrawals halted amid insolvency fears"


def test_plain_vader_misses_the_bullish_headline():
    assert SentimentIntensityAnalyzer().polarity_scores(BULL)["compound"] == 0.0


def test_finance_words_make_headlines_clearly_signed():
    assert score_headline(BULL) > 0.5
    assert score_headline(BEAR) < -0.5
    assert label(score_headline(BULL)) == "bullish"
    assert label(score_headline(BEAR)) == "bearish"
    assert label(score_headline("Bitcoin trades at 30,000 dollars")) == "neutral"


def test_price_mood_follows_the_trend():
    rising = [100 * 1.01**i + (i % 3) for i in range(30)]
    falling = list(reversed(rising))
    assert price_mood(rising) > 0.5
    assert price_mood(falling) < -0.5
    assert price_mood([1.0, 2.0]) is None


def test_headlines_csv_is_checked_line_by_line_and_a_bad_row_loses_only_itself(tmp_path):
    good = tmp_path / "news.csv"
    good.write_text(f"time,symbol,headline\n2020-01-01T00:00:00Z,btc-usd,{BULL}\n,,\"{BEAR}\"\n"
                    "yesterday,,Bitcoin slumps\n2020-01-02T00:00:00,,Ether rallies\n,,\n")
    rows, skipped = read_headlines_csv(good)
    assert [r.text for r in rows] == [BULL, BEAR]
    assert rows[0].symbol == "BTC-USD"
    assert rows[0].time == datetime(2020, 1, 1, tzinfo=UTC)
    assert rows[1].symbol is None
    assert skipped == ["line 4: Invalid isoformat string: 'yesterday'",
                       "line 5: the time needs a timezone (e.g. Z)",
                       "line 6: the headline must be one line of text"]
    (tmp_path / "bad.csv").write_text("title\nx\n")
    with pytest.raises(BadInput, match="headline"):
        read_headlines_csv(tmp_path / "bad.csv")


def _agent(db, env, config) -> SentimentAgent:
    return make_agent(db, env, SentimentAgent, config)


def _scores(db) -> dict[str, SentimentScore]:
    with Session(db) as s:
        return {r.symbol: r for r in s.exec(select(SentimentScore))}


def test_rss_headlines_are_scored_per_symbol(db, env):
    feeds = load_settings(env).feeds_dir
    feeds.mkdir(parents=True)
    shutil.copy(ROOT / "tests" / "fixtures" / "feed.xml", feeds / "feed.xml")
    agent = _agent(db, env, {"rss_feeds": "feed.xml", "lookback_hours": 24 * 365 * 5})
    assert agent.on_tick() > 0
    scores = _scores(db)
    btc = scores["BTC-USD"]
    assert btc.source == "rss"
    assert btc.item_count == 1
    assert btc.headlines[0]["text"] == BULL
    assert btc.score > 0.5
    eth = scores["ETH-USD"]
    assert eth.source == "rss"
    assert eth.headlines[0]["text"].startswith("Ethereum developers")


def test_each_headline_is_stored_once_with_the_time_it_became_known(db, env):
    feeds = load_settings(env).feeds_dir
    feeds.mkdir(parents=True)
    shutil.copy(ROOT / "tests" / "fixtures" / "feed.xml", feeds / "feed.xml")
    (feeds / "undated.csv").write_text(f'headline,symbol\n"{BEAR}",ETH-USD\n')
    agent = _agent(db, env, {"rss_feeds": "feed.xml", "headlines_csv": "undated.csv"})
    before = datetime.now(UTC)
    agent.on_tick()
    agent.on_tick()  # polled again: nothing new
    with Session(db) as s:
        rows = list(s.exec(select(NewsScore).order_by(NewsScore.id)))
    bull = [r for r in rows if r.headline == BULL]
    assert [(r.symbol, r.dated, r.source) for r in bull] == [("BTC-USD", True, "rss")]
    assert bull[0].known_at < before  # its publish time
    assert bull[0].score == pytest.approx(score_headline(BULL))
    (undated,) = [r for r in rows if r.headline == BEAR]
    assert (undated.symbol, undated.dated, undated.source) == ("ETH-USD", False, "csv")
    assert before <= undated.known_at <= datetime.now(UTC)  # when it was first polled
    assert len(rows) == len({(r.symbol, r.headline) for r in rows})


def test_without_news_it_publishes_a_labelled_price_mood(db, env):
    start = datetime(2020, 1, 1, tzinfo=UTC)
    write_bars(db, "AAPL", "1d", [BarData(start + timedelta(days=i), 10 + i, 11 + i, 9 + i,
                                          10.5 + i + (i % 2) * 0.3, 100.0) for i in range(30)])
    agent = _agent(db, env, {})
    agent.on_tick()
    aapl = _scores(db)["AAPL"]
    assert aapl.source == "price-mood"
    assert aapl.label == "mood: bullish"
    assert aapl.headlines == []
    assert "BTC-USD" not in _scores(db)  # no bars, no news: nothing is invented


@pytest.mark.parametrize("location", [
    "/etc/passwd", "../../etc/passwd", "file:///etc/passwd", "ftp://example.com/feed",
    "feeds-elsewhere.xml",
])
def test_feeds_are_http_urls_or_files_in_the_feeds_folder_only(db, env, location):
    from engine.control import actions as control

    _agent(db, env, {})
    with pytest.raises(BadInput, match=r"^config rss_feeds: .*(must be an http|no file)"):
        control.update_agent_config(db, "sentiment", {"rss_feeds": location})
    with pytest.raises(BadInput, match=r"^config headlines_csv: "):
        control.update_agent_config(db, "sentiment", {"headlines_csv": location})
