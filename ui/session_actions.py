"""Operator actions on one session beyond start/pause/stop: Close position (asks first)."""

from engine.core.lifecycle import SessionStatus
from engine.reads.records import SessionDocument
from ui import confirm, context

CLOSABLE = (SessionStatus.RUNNING, SessionStatus.PAUSED)


def close_position_button(where, doc: SessionDocument) -> None:
    """"Close position": open the dialog that says what will be sold and when."""
    held = any(p.qty > 0 for p in doc.positions)
    why = ("Sell every holding at market on the next bar, as a manual order (asks first)"
           if held else "It holds no position")
    if where.button("Close position", key="sess_close_position", icon=":material/block:",
                    help=why, width="stretch",
                    disabled=not (held and doc.status in CLOSABLE and context.can_control())):
        confirm.ask(confirm.close_position(doc))
