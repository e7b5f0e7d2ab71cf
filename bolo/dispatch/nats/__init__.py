"""The NATS JetStream backend: the connection and stream (``connection``), the relay that
publishes due rows (``relay``) in parcels (``parcels``), and the workers that send them
(``worker``)."""
