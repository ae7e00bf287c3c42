"""`python -m engine news import PATH`: a headline file is scored and stored all or nothing, with
its provenance; every bad file is refused with one line naming the row and why (exit 2) and no
row written; `news list` shows what is stored."""

import gzip
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session, func, select

from engine.market import catalog
from engine.news.scoring import score_headline
from engine.reads.reconcile import reconcile
from engine.store.db import session_scope
from engine.store.models import Order, PaperSession
from engine.store.news import NewsImport, NewsScore
from engine.trading.clock import run_to_end
from tests.conftest import cli, run_main, store_bars

HEADER = "headline,symbol,time\n"
GOOD = [("Bitcoin surges to record high as ETF inflows soar", "BTC-USD", "2024-01-02T10:00:00Z"),
        ("Exchange hacked, withdrawals halted", "eth-usd", "2024-01-02T11:30:00+02:00")]


def _csv(rows) -> str:
    return HEADER + "".join(f'"{h}",{s},{t}\n' for h, s, t in rows)


def _counts(db) -> tuple[int, int]:
    with Session(db) as s:
        return (s.exec(select(func.count()).select_from(NewsScore)).one(),
                s.exec(select(func.count()).select_from(NewsImport)).one())


def test_a_file_is_scored_and_stored_with_its_provenance_once(db, env, tmp_path):
    path = tmp_path / "headlines.csv"
    path.write_text(_csv(GOOD))
    result = run_main("news", "import", str(path))
    assert result.returncode == 0, result.stderr
    assert "2 headline scores stored" in result.stdout
    with Session(db) as s:
        rows = s.exec(select(NewsScore).order_by(NewsScore.known_at)).all()
        (record,) = s.exec(select(NewsImport)).all()
    assert [(r.symbol, r.known_at, r.dated, r.source, r.import_id) for r in rows] == [
        ("ETH-USD", datetime(2024, 1, 2, 9, 30, tzinfo=UTC), True, "import", record.id),
        ("BTC-USD", datetime(2024, 1, 2, 10, tzinfo=UTC), True, "import", record.id)]
    assert rows[1].score == pytest.approx(score_headline(GOOD[0][0]))
    assert (record.file_name, record.rows, record.symbols, record.imported_by) == (
        "headlines.csv", 2, "BTC-USD,ETH-USD", "cli")
    again = run_main("news", "import", str(path))
    assert again.returncode == 0
    assert "nothing stored" in again.stdout
    assert _counts(db) == (2, 1)
    listed = json.loads(run_main("news", "list", "--json").stdout)
    assert listed["imports"][0]["sha256"] == record.sha256
    assert listed["scores"] == {"import": 2}


BAD_FILES = [
    ("no time column", "headline,symbol\nx,BTC-USD\n", "header: the file needs the columns"),
    ("only a header", HEADER, "no headlines"),
    ("naive time", _csv([GOOD[0], ("Fine words", "BTC-USD", "2024-01-02 10:00")]),
     "row 2 (line 3): time '2024-01-02 10:00' needs a timezone"),
    ("unparseable time", _csv([("Fine words", "BTC-USD", "yesterday")]),
     "row 1 (line 2): time 'yesterday' is not an ISO 8601 time"),
    ("empty headline", _csv([GOOD[0], GOOD[1], ("", "BTC-USD", "2024-01-02T10:00:00Z")]),
     "row 3 (line 4): headline must be one line"),
    ("control characters", _csv([("bell\x07", "BTC-USD", "2024-01-02T10:00:00Z")]),
     "row 1 (line 2): headline must be one line"),
    ("bad symbol", _csv([("Fine words", "../etc", "2024-01-02T10:00:00Z")]),
     "row 1 (line 2): symbol '../etc' is not a symbol"),
    ("missing field", HEADER + "Fine words,BTC-USD\n", "row 1 (line 2): expected 3 fields"),
    ("extra field", HEADER + "Fine words,BTC-USD,2024-01-02T10:00:00Z,surplus\n",
     "row 1 (line 2): expected 3 fields"),
]


@pytest.mark.parametrize(("case", "text", "why"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_a_bad_file_is_refused_by_row_and_stores_nothing(db, env, tmp_path, case, text, why):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    result = run_main("news", "import", str(path))
    assert result.returncode == 2, (case, result.stdout)
    assert result.stderr.count("\n") == 1, result.stderr
    assert why in result.stderr
    assert _counts(db) == (0, 0)


def test_files_that_are_not_csv_text_are_refused_in_one_line(db, env, tmp_path):
    binary = tmp_path / "news.csv.gz"
    binary.write_bytes(gzip.compress(_csv(GOOD).encode()))
    missing = tmp_path / "absent.csv"
    for path, why in ((binary, "file: not UTF-8 text"), (missing, "PATH: no file at")):
        result = cli(env, "news", "import", str(path))  # the real process: no traceback
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1, result.stderr
        assert why in result.stderr
    assert _counts(db) == (0, 0)


def test_imported_headlines_drive_a_news_session_created_from_the_cli(db, env, tmp_path):
    """The README's steps: import dated headlines, create a `news` session on them, and its
    orders carry the imported scores; Reconcile re-runs it 100 %."""
    store_bars(db, ("BTC-USD", "1h"))
    times = catalog.load("BTC-USD", "1h")["ts"].iloc[-300:]
    rows = [(("Bitcoin surges to record high as ETF inflows soar" if i % 80 < 40 else
              "Exchange hacked, withdrawals halted amid insolvency fears") + f" ({i})",
             "BTC-USD", (ts + timedelta(minutes=10)).isoformat())
            for i, ts in enumerate(times) if i % 4 == 0]
    path = tmp_path / "btc.csv"
    path.write_text(_csv(rows))
    assert run_main("news", "import", str(path)).returncode == 0
    created = run_main("session", "create", "--name", "on news", "--symbols", "BTC-USD",
                       "--strategy", "blend", "--sentiment", "news", "--from",
                       times.iloc[0].isoformat(), "--param", "w_sentiment=0.8")
    assert created.returncode == 0, created.stderr
    with Session(db) as s:
        made = s.exec(select(PaperSession)).one()
    assert made.sentiment == "news"
    with session_scope(db) as s:
        s.execute(update(PaperSession).values(status="running"))
    run_to_end(db, made.id)
    with Session(db) as s:
        orders = s.exec(select(Order).where(Order.session_id == made.id)).all()
    assert len(orders) >= 2
    assert {o.lineage["sentiment_source"] for o in orders} == {"news"}
    assert {o.side for o in orders} == {"buy", "sell"}  # the news turns from good to bad
    assert reconcile(db, made.id).match_pct == 100.0
