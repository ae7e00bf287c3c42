"""A completed replay session of the MA crossover over five months of hourly BTC bars."""

import pytest

from tests.conftest import replay_session, store_bars


@pytest.fixture
def traded(db) -> int:
    store_bars(db, ("BTC-USD", "1h"))
    return replay_session(db, {"symbols": "BTC-USD", "from": "2019-01-01", "to": "2019-06-01",
                               "params": {"fast": 5, "slow": 20}}, status="completed")
