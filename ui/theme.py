"""Status colours and words: every status is said in words as well as colour."""


from engine.reads.colours import AMBER, BLUE, GREEN, RED
from engine.reads.words import COLOURS
from ui.format import GAIN_HEX, LOSS_HEX, direction

# Every status word's colour, from the one vocabulary (engine.reads.words).
STATUS_COLOR = {text: tone for text, (_, tone) in COLOURS.items()}
STATUS_HEX = {text: hex_ for text, (hex_, _) in COLOURS.items()}
SEVERITY_ICON = {"info": "● info", "warning": "▲ warning", "error": "✖ error"}
TIME_FORMAT = "YYYY-MM-DD HH:mm:ss"  # for st.column_config.DatetimeColumn (times are UTC)
BAR_FORMAT = "YYYY-MM-DD HH:mm"  # bar times (market time)
MARKET = "market time"  # a bar's time: when it happened in the market (UTC)
WALL = "wall time, UTC"  # when PaperDesk did or recorded something
SEVERITY_HEX = {"info": BLUE, "warning": AMBER, "error": RED}
# Master-switch colours: start green, stop red, pause yellow, resume blue.
ACTION_HEX = {"start": GREEN, "stop": RED, "pause": AMBER, "resume": BLUE}


def badge(status: str, text: str | None = None) -> str:
    """Markdown for a coloured status badge that also says the status in words."""
    return f":{STATUS_COLOR.get(status, 'gray')}-badge[● {text or status}]"


def button_css(keys_by_action: dict[str, list[str]]) -> str:
    """CSS colouring the buttons whose widget keys are given, by the action they perform."""
    rules = []
    for action, keys in keys_by_action.items():
        colour = ACTION_HEX[action]
        for key in keys:
            rules.append(
                f".st-key-{key} button:not(:disabled) {{background-color:{colour};"
                f"border-color:{colour};color:#ffffff}}"
            )
    return "<style>" + "\n".join(rules) + "</style>"


# Every coloured button of the app, by widget key: one stylesheet, drawn once per run.
BUTTON_KEYS = {
    "start": ["side_start", "overview_start", "agent_start", "sess_start"],
    "stop": ["side_stop", "overview_stop", "agent_stop", "sess_stop", "bulk_stop_all",
             "sess_close_position", "confirm_ok"],  # every confirm stops or sells: red
    "pause": ["side_pause", "overview_pause", "sess_pause", "bulk_pause_all"],
    "resume": ["side_resume", "overview_resume", "sess_resume", "bulk_resume_all"],
}


# The health figure's colour by band (a container keyed health_<band> holds the metric).
HEALTH_BANDS = ((100.0, "good", GREEN), (80.0, "fair", AMBER), (0.0, "poor", RED))


def health_band(score: float) -> str:
    """good at 100 %, fair from 80 %, poor below: 60 % and 100 % never look alike."""
    return next(name for floor, name, _ in HEALTH_BANDS if score >= floor)


def health_css() -> str:
    return "".join(f".st-key-health_{name} [data-testid='stMetricValue'] {{color:{hex_}}}"
                   for _, name, hex_ in HEALTH_BANDS)


def pnl_key(name: str, value: float | None) -> str:
    """The key of a container whose st.metric value is coloured by the sign of `value`."""
    return f"pnl_{direction(value)}_{name}"


def pnl_css() -> str:
    return "".join(f"[class*='st-key-pnl_{sign}_'] [data-testid='stMetricValue'] {{color:{hex_}}}"
                   for sign, hex_ in (("up", GAIN_HEX), ("down", LOSS_HEX)))
