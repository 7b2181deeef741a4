"""How long a remote command lives: the figures the mirror enforces and its senders quote.

A module of its own that imports nothing: ``sync.commands`` (the mirror's gate, which loads
jsonschema) applies them, and ``sync.remote_cli`` quotes them in ``--ttl``'s help, which
``smart-mirror`` builds on every call.
"""

#: A command without ``expires_at`` is stale this long after ``sent_at`` (a "capture" that
#: waited in the broker while the mirror was off must not fire when it comes back).
DEFAULT_TTL_S = 60.0
#: ``expires_at`` is honoured up to this long after ``sent_at``: a command may not outlive a
#: power cut by hours because its sender asked for it.
MAX_TTL_S = 600.0
