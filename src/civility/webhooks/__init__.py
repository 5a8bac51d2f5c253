"""Outgoing webhooks: signed JSON events POSTed to the operator's HTTPS endpoints.

Events are stored in the transaction of the change that caused them (an outbox fed by
``civility.moderation.audit.audit_recorded``) and delivered after commit, with retries. See
docs/webhooks.md.
"""
