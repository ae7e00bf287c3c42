"""The new-session form and the presets. Every field is checked with the engine's parsers
(ui.form_check) and each problem is shown under its field; only then does engine.control.actions
create the session (checking it all again). The buttons' callbacks read the widgets from
st.session_state (always the values on screen) and, on success, reset the form and open the new
session."""

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pandas as pd
import streamlit as st

from engine.control import actions as control
from engine.control.database import unavailable_errors
from engine.control.session_spec import FILL_FIELDS, FILL_MODEL, SESSION_FIELDS
from engine.control.windows import DEFAULT_WINDOW_BARS, SOURCES, SPEEDS
from engine.core.bars import TIMEFRAMES
from engine.core.fill_models import PRESETS as FILL_PRESETS
from engine.core.fill_models import preset_values, summary
from engine.core.settings import FAST_FORWARD
from engine.errors import BadInput, PaperDeskError
from engine.params import Param, bound_text
from engine.reads import queries
from ui import context
from ui.form_check import PARAMS, field_errors, offered_strategies, sentiment_select
from ui.format import CURRENCY_CODE, literal
from ui.theme import BAR_FORMAT, MARKET

PRESETS = {
    "BTC hourly · MA crossover": {"symbols": "BTC-USD", "timeframe": "1h",
                                  "strategy": "ma_crossover"},
    "ETH daily · RSI mean reversion": {"symbols": "ETH-USD", "timeframe": "1d",
                                       "strategy": "rsi_reversion"},
    "Tech stocks daily · blend": {"symbols": "AAPL,MSFT,GOOG", "timeframe": "1d",
                                  "strategy": "blend"},
}
SPEED_LABELS = {"1": "1 bar/s", "10": "10 bars/s", "100": "100 bars/s", "1000": "1,000 bars/s",
                FAST_FORWARD: f"{FAST_FORWARD} (fast-forward)"}
SOURCE_LABELS = {"replay": "replay (stored history)", "live": "live (public feeds)"}
ERROR_KEY = "new_error"
FIELD_ERRORS = "new_field_errors"  # {spec field: engine message} from the last click
EARLIEST = date(1990, 1, 1)  # the pickers' range; the engine checks each dataset's own range


def _today() -> date:
    return datetime.now(UTC).date()

RISK_INPUTS = {  # spec field: (widget key, label, step, format); bounds from SESSION_FIELDS
    "cash": ("new_cash", f"Starting cash ({CURRENCY_CODE})", 1000.0, "%.2f"),
    "position_size": ("new_size", "Position size (fraction of equity)", 0.05, "%.3f"),
    "stop_loss_pct": ("new_sl", "Stop-loss % (0 = off)", 1.0, "%.1f"),
    "take_profit_pct": ("new_tp", "Take-profit % (0 = off)", 1.0, "%.1f"),
}


FILL_INPUTS = {  # spec field: (widget key, label, step); empty = the preset's value
    "fee_bps": ("new_fee", "Fee (bps)", 1.0),
    "slippage_bps": ("new_slip", "Slippage (bps)", 1.0),
    "impact_bps": ("new_impact", "Impact (bps at 100 % of bar volume)", 10.0),
    "volume_cap_pct": ("new_cap", "Volume cap (% of bar volume; 0 = none)", 1.0),
    "latency_bars": ("new_latency", "Latency (bars)", 1),
    "cancel_after_bars": ("new_cancel", "Cancel unfilled after (bars; 0 = never)", 1),
}
PRESET_PRICE = "preset"  # the market-price choice that keeps the preset's rule
PRICE_LABELS = {PRESET_PRICE: "the preset's rule", "open": "the open",
                "worse": "the worse of open and close"}


def speed_label(speed: str) -> str:
    return SPEED_LABELS.get(speed, f"{speed} bars/s")


def day_start(day: date | None, first: datetime | None) -> datetime | None:
    """A From date as a time: the day's first bar when the data starts that day, else 00:00."""
    if day is None:
        return None
    start = datetime.combine(day, time(), UTC)
    return first if first is not None and first.date() == day and first > start else start


def day_end(day: date | None, last: datetime | None) -> datetime | None:
    """A To date as a time: the day's last bar when the data ends that day, else 23:59:59."""
    if day is None:
        return None
    end = datetime.combine(day, time(), UTC) + timedelta(days=1, seconds=-1)
    return last if last is not None and last.date() == day and last < end else end


def _chosen_ranges(symbols: list[str], timeframe: str) -> pd.DataFrame:
    ranges = context.dataset_ranges(timeframe)
    return ranges[ranges["symbol"].isin(symbols)] if symbols else ranges


def _reset_window() -> None:
    """Put the default window of the chosen symbols into From and To (a widget callback)."""
    ss = st.session_state
    timeframe = ss.get("new_timeframe", next(iter(TIMEFRAMES)))
    available = set(context.read(queries.available_symbols, timeframe))
    ss["new_symbols"] = [s for s in ss.get("new_symbols", []) if s in available]
    ss["new_from"] = ss["new_to"] = None
    if ss["new_symbols"] and ss.get("new_source", "replay") == "replay":
        try:
            window = context.default_window(tuple(ss["new_symbols"]), timeframe)
        except BadInput:
            return  # no common bars: the engine names the field when creating
        ss["new_from"], ss["new_to"] = window.start.date(), window.end.date()


def _spec() -> dict:
    """The session spec from the form's widgets (as they are on screen now)."""
    ss = st.session_state
    offered = offered_strategies()
    strategy = ss.get("new_strategy") if ss.get("new_strategy") in offered else next(iter(offered))
    timeframe = ss.get("new_timeframe") or next(iter(TIMEFRAMES))
    symbols = list(ss.get("new_symbols") or [])
    chosen = _chosen_ranges(symbols, timeframe)
    first = chosen["first"].max().to_pydatetime() if symbols and len(chosen) else None
    last = chosen["last"].min().to_pydatetime() if symbols and len(chosen) else None
    params = {name: ss[f"new_param_{strategy}_{name}"] for name in offered[strategy].params
              if f"new_param_{strategy}_{name}" in ss}
    spec = {"name": ss.get("new_name", ""), "symbols": symbols, "strategy": strategy,
            "timeframe": timeframe, "params": params,
            "restart_policy": ss.get("new_policy", "resume"),
            "sentiment": ss.get("new_sentiment", SESSION_FIELDS["sentiment"].default),
            "source": ss.get("new_source", "replay"), "speed": ss.get("new_speed", "1"),
            **{field: ss.get(key, SESSION_FIELDS[field].default)
               for field, (key, *_) in RISK_INPUTS.items()},
            "fill_model": ss.get("new_fill_model", FILL_MODEL.default),
            "fill_price": None if ss.get("new_fill_price", PRESET_PRICE) == PRESET_PRICE
            else ss["new_fill_price"],
            **{field: ss.get(key) for field, (key, *_) in FILL_INPUTS.items()}}
    if spec["source"] == "replay":
        spec["from"] = day_start(ss.get("new_from"), first)
        spec["to"] = day_end(ss.get("new_to"), last)
    return spec


def _form_errors(spec: dict) -> dict[str, str]:
    """Check the form's fields (nothing written); remember the problems to show by each."""
    errors = field_errors(spec, context.read(queries.available_symbols, spec["timeframe"]))
    st.session_state[FIELD_ERRORS] = errors
    if errors:
        st.session_state[ERROR_KEY] = (f"{len(errors)} field{'s' if len(errors) > 1 else ''} "
                                       "to fix: see the messages under them.")
    return errors


def create(spec: dict | None, start: bool) -> None:
    """Create a session (a widget callback); on success open it and clear the form's name."""
    if not context.can_control():
        st.session_state[ERROR_KEY] = "Read-only: your account may not create sessions."
        return
    if spec is None and _form_errors(spec := _spec()):
        return
    try:
        created = control.create_session(context.db(), spec, start=start, by=context.user())
    except PaperDeskError as exc:
        st.session_state[ERROR_KEY] = str(exc)
        return
    except unavailable_errors():
        st.session_state[ERROR_KEY] = f"The {context.UNAVAILABLE}."
        return
    st.cache_data.clear()
    st.session_state.pop(ERROR_KEY, None)
    st.session_state.pop(FIELD_ERRORS, None)
    st.session_state["new_name"] = ""  # a second click is refused (name) instead of a twin
    st.session_state["session_selected"] = st.session_state["session_pick"] = created.id
    st.session_state["sessions_tab"] = "Sessions"
    st.toast(f"Session {created.id} created" + (" and starting" if start else ""),
             icon=":material/check_circle:")


def show_error() -> None:
    message = st.session_state.pop(ERROR_KEY, None)
    if message and st.session_state.get(FIELD_ERRORS):
        st.warning(f"Not created. {literal(message)}", icon=":material/error:")
    elif message:
        st.error(f"Not created. {literal(message)}", icon=":material/error:")


def _plain(message: str, name: str) -> str:
    """An engine message without its leading internal field name (the label says it)."""
    for head in (f"{name}: ", f"{name} ", "from/to: "):
        if message.startswith(head):
            return message[len(head):]
    return message


def field_error(where, field: str, label: str, name: str | None = None,
                errors_key: str = FIELD_ERRORS) -> None:
    """The last click's problem with `field` (kept under `errors_key`), under it, in the
    field's label."""
    message = st.session_state.get(errors_key, {}).get(field)
    if message:
        where.error(f"**{label}** {literal(_plain(message, name or field))}",
                    icon=":material/error:")


def presets() -> None:
    st.info("No sessions yet. Start one from a preset (real data, real paper broker) or "
            "fill in the form under **New session**.", icon=":material/rocket_launch:")
    cols = st.columns(len(PRESETS))
    for col, (name, spec) in zip(cols, PRESETS.items(), strict=True):
        col.button(name, key=f"preset_{name}", icon=":material/add_circle:",
                   help=f"Create and start '{name}' with 10,000 cash over the latest "
                        f"{DEFAULT_WINDOW_BARS:,} bars at 1 bar/s",
                   disabled=not context.can_control(), width="stretch",
                   on_click=create, args=({"name": name, "cash": 10_000, **spec}, True))
    show_error()


def _clock_fields(symbols: list[str], timeframe: str) -> None:
    st.markdown("**Clock**")
    a, b, c, d = st.columns([1.3, 1, 1, 1])
    source = a.radio("Source", SOURCES, key="new_source", format_func=SOURCE_LABELS.get,
                     on_change=_reset_window,
                     help="replay: trade a window of the stored history (shipped or imported) "
                          "at the speed you choose; live: trade bars as the live feed writes "
                          "them")
    replay = source == "replay"
    st.session_state.setdefault("new_from", None)
    st.session_state.setdefault("new_to", None)
    b.date_input("From", key="new_from", min_value=EARLIEST, max_value=_today(),
                 disabled=not replay, format="YYYY-MM-DD",
                 help=f"First day traded ({MARKET}); empty = the latest "
                      f"{DEFAULT_WINDOW_BARS:,} bars the symbols share")
    field_error(b, "from", "From")
    c.date_input("To", key="new_to", min_value=EARLIEST, max_value=_today(),
                 disabled=not replay, format="YYYY-MM-DD",
                 help=f"Last day traded ({MARKET}); the session completes there")
    field_error(c, "to", "To")
    d.selectbox("Speed", SPEEDS, key="new_speed", format_func=speed_label, disabled=not replay,
                help="Bars per second; max fast-forwards to the end of the window. "
                     "Results are the same at every speed; it can change while it runs.")
    field_error(d, "speed", "Speed")
    if not replay:
        st.caption("Live sessions trade each new bar the market data agent writes (set its "
                   "source to live on the Agents page); there is no window and no speed.")
        return
    chosen = _chosen_ranges(symbols, timeframe)
    st.caption(f"Data of the chosen symbols ({MARKET}, UTC). From and To start at the latest "
               f"{DEFAULT_WINDOW_BARS:,} bars they share; any window inside every range works."
               if symbols else f"Every {timeframe} dataset, shipped or imported ({MARKET}, "
               f"UTC). Pick symbols to fill From and To with the latest "
               f"{DEFAULT_WINDOW_BARS:,} bars they share.")
    st.dataframe(chosen[["symbol", "first", "last", "bars"]], hide_index=True,
                 width="content", column_config={
                     "first": st.column_config.DatetimeColumn(f"first bar ({MARKET})",
                                                              format=BAR_FORMAT),
                     "last": st.column_config.DatetimeColumn(f"last bar ({MARKET})",
                                                             format=BAR_FORMAT),
                     "bars": st.column_config.NumberColumn(format="localized")})


def param_inputs(params: dict[str, Param], key: Callable[[str], str], values: dict[str, Any],
                 errors_key: str = FIELD_ERRORS, disabled: bool = False) -> None:
    """A text input per declared parameter (widget `key(name)`, the strategy's help on it),
    created showing `values` (else the default), with the last click's problem under each
    (ui.form_check names the field)."""
    cols = st.columns(3)
    for i, (pname, p) in enumerate(params.items()):
        cols[i % 3].text_input(pname, value=str(values.get(pname, p.default)),
                               help=literal(p.help), key=key(pname), disabled=disabled)
        field_error(cols[i % 3], f"param_{pname}", pname, f"param {pname}", errors_key)
    field_error(st, PARAMS, "Parameters:", "param", errors_key)


def _strategy_params(strategy: str) -> None:
    params = offered_strategies()[strategy].params
    errors = st.session_state.get(FIELD_ERRORS, {})
    bad = PARAMS in errors or any(f"param_{p}" in errors for p in params)
    with st.expander("Strategy parameters", expanded=bad):
        param_inputs(params, lambda pname: f"new_param_{strategy}_{pname}", {})


def _money_and_risk() -> None:
    st.markdown("**Money and risk**")
    cols = st.columns(3)
    for i, (field, (key, label, step, fmt)) in enumerate(RISK_INPUTS.items()):
        p = SESSION_FIELDS[field]
        # No min/max on the widget: it would keep its last valid value while showing the
        # typed one; the engine's parser refuses an out-of-range value by its field instead.
        cols[i % 3].number_input(label, value=float(p.default), step=step, format=fmt,
                                 key=key, help=f"{p.help.capitalize()}; {bound_text(p.low)} to "
                                               f"{bound_text(p.high)}")
        field_error(cols[i % 3], field, label)
    cols[0].selectbox("After an engine restart", ["resume", "paused"], key="new_policy",
                      format_func=lambda v: {"resume": "resume trading",
                                             "paused": "stay paused"}[v])
    sentiment_select(cols[1], "new_sentiment")
    field_error(cols[1], "sentiment", "Sentiment input")


def _fill_model(symbols: list[str], timeframe: str) -> None:
    st.markdown("**Fill model**")
    a, b = st.columns([1, 3])
    model = a.selectbox("Preset", FILL_PRESETS, key="new_fill_model",
                        index=FILL_PRESETS.index(FILL_MODEL.default),
                        format_func=str.capitalize,
                        help="How paper fills are priced and sized: frictionless (no costs), "
                             "realistic (taker fee, small impact, at most 10 % of a bar's "
                             "volume), pessimistic (higher fee, 2 % cap, a bar of latency, the "
                             "worse of open and close). Values you set below override it.")
    preset = preset_values(model, queries.asset_classes(symbols, timeframe))
    b.caption(f"{summary({**preset, 'fill_model': model})}. Price = base × (1 ± (slippage + "
              "impact × filled ÷ bar volume) ÷ 10,000); what the cap leaves keeps working on "
              "the next bars as partial fills.")
    errors = st.session_state.get(FIELD_ERRORS, {})
    with st.expander("Override the preset", expanded=any(f in errors for f in FILL_FIELDS)):
        cols = st.columns(3)
        for i, (field, (key, label, step)) in enumerate(FILL_INPUTS.items()):
            p = FILL_FIELDS[field]
            value = preset[field] or 0
            cols[i % 3].number_input(label, value=None, step=step, key=key,
                                     placeholder=f"preset: {value:g}",
                                     help=f"{p.help.capitalize()}; {bound_text(p.low)} to "
                                          f"{bound_text(p.high)}; "
                                          "empty = the preset's value")
            field_error(cols[i % 3], field, label)
        cols[0].selectbox("Market orders fill at", list(PRICE_LABELS),
                          key="new_fill_price", format_func=PRICE_LABELS.get,
                          help=f"The preset's rule: {PRICE_LABELS[preset['fill_price']]}")
        field_error(cols[0], "fill_price", "Market orders fill at")
    field_error(a, "fill_model", "Preset")


def new_session() -> None:
    st.markdown("Every field is checked before anything is saved; each problem is shown "
                "under its field.")
    a, b = st.columns(2)
    a.text_input("Name", key="new_name", placeholder="e.g. BTC trend test")
    field_error(a, "name", "Name")
    timeframe = b.selectbox("Timeframe", list(TIMEFRAMES), key="new_timeframe",
                            on_change=_reset_window,
                            help="Bar size of the data the session trades on")
    symbols = a.multiselect("Symbols", context.read(queries.available_symbols, timeframe),
                            key="new_symbols", on_change=_reset_window,
                            help="Symbols with data for this timeframe")
    field_error(a, "symbols", "Symbols")
    offered = offered_strategies()
    strategy = b.selectbox("Strategy", list(offered), key="new_strategy",
                           format_func=lambda k: offered[k].title,
                           help="Built-in, or a file in PAPERDESK_HOME/strategies")
    field_error(b, "strategy", "Strategy")
    _strategy_params(strategy)
    _clock_fields(symbols, timeframe)
    _money_and_risk()
    _fill_model(symbols, timeframe)
    left, right, _ = st.columns([1, 1, 3])
    left.button("Create", key="new_create", help="Create the session without starting it",
                disabled=not context.can_control(), on_click=create, args=(None, False))
    right.button("Create and start", key="new_create_start", type="primary",
                 help="Create the session and start trading right away",
                 disabled=not context.can_control(), on_click=create, args=(None, True))
    show_error()
