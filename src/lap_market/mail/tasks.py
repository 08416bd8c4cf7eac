"""The outbox's delivery loop, run on every worker tick."""

from lap_market.jobs import poller
from lap_market.mail.delivery import deliver_due

poller("mail.deliver")(deliver_due)
