"""What trip-approval and sealing data tell the packages above, without knowing who listens."""

from blinker import Namespace

_signals = Namespace()

# Sent inside the writer's transaction with a `Touched` (the cars and local days new or
# changed records bear on): evidence derived from this data must be checked again.
evidence_changed = _signals.signal("evidence-changed")
