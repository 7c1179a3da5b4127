"""Signed webhooks for case systems: subscriptions per API token, an outbox written in the
same transaction as each event, and a worker (`vehiclewatch webhooks run`) that delivers it."""
