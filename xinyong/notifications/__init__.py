"""Notifications (通知): the outbox of events that departments must hear about, read through a
pull feed or pushed to signed webhooks, and the subscriptions of departments to subjects."""
