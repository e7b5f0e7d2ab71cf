"""Dissemination that loses nothing: outbox, signed webhooks, channels, acks, escalation.

Where to look (modules of ``bolo.dispatch``):

==========================================================  =====================================
question                                                    module
==========================================================  =====================================
Which rows does an issued version write, to whom?           ``outbox`` (``enqueue_version``)
What tables hold deliveries, attempts, escalations?         ``model``
When is a row due, who leases it, what does an attempt      ``attempts`` (``claim_due``,
change (backoff, 410, fallback to the next channel)?        ``record_attempts``)
How long until a retry; what does an HTTP status mean?      ``policy`` (pure)
What is sent to a post (payload, language, SMS length)?     ``messages``, ``sms``
How is a webhook signed; which secrets does a post have?    ``signing``, ``keys``
How is each kind of channel sent (webhook, Apprise, MQTT)?  ``channels/`` (``sender`` picks one)
How fast may bolo send to one gateway?                      ``channels/limits``
Who acknowledged, and is a late ack refused?                ``acks``
What happens when a post does not acknowledge?              ``escalation``
Are the posts checking in?                                  ``heartbeat``
What runs the sending, in which process?                    ``runner/`` (``processes``)
How does the in-process dispatcher claim, send, record?     ``runner/inprocess``, ``send_loop``
What does its database side (thread or child) do?           ``runner/database``,
                                                            ``runner/database_child``
Is anything sending (readiness)?                            ``runner/liveness``
How do rows travel through NATS JetStream?                  ``nats/`` (``relay``, ``parcels``,
                                                            ``worker``, ``connection``)
How does a post verify and receive webhooks?                ``receiver/`` (``verify``, ``server``)
HTTP routes, CLI commands, settings?                        ``routes``, ``cli``, ``config``
==========================================================  =====================================
"""
