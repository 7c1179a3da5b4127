"""What the calendar tells the packages above it, without knowing who listens."""

from blinker import Namespace

_signals = Namespace()

# Sent inside the writer's transaction after a holiday period was added, changed or removed
# (the sender is the period, or the list of periods an import added):
# campaigns and rounds follow the holiday data, so whatever is linked to them must follow.
holidays_changed = _signals.signal("holidays-changed")
