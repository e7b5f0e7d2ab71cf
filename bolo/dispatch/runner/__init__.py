"""What runs the sending: the in-process dispatcher (``inprocess``) with its database side on a
thread (``database``) or in a child process (``database_child``), the send loop both backends
share (``send_loop``), the processes ``bolo serve``, ``bolo dispatcher`` and ``bolo relay``
assemble (``processes``) and their heartbeats (``liveness``)."""
