"""The post's side: checking a webhook's signature and dropping repeats (``verify``), and the
small HTTP server of ``bolo post-receiver`` (``server``)."""
