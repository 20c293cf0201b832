"""What an agent's socket listens to: the conversations of tickets that are
not resolved.

Odoo subscribes a user's socket to every conversation they are a member of,
and each time the socket is woken it polls the bus for all of them. An agent
stays a member of every ticket they worked on, so without this their history
would be paid on every message they receive (bench/README.md, "An agent's
history"). A resolved ticket takes no message from its customer; when it is
reopened, the agents' clients subscribe again (``reopened`` in the ticket's
``im_livechat.ticket/updated`` event). A conversation the client asks for by
name (``discuss.channel_<id>``, an open thread) is always kept, and
customers' sockets are left as Odoo makes them."""

import re

from odoo import models

CHANNEL_NAME = re.compile(r"discuss\.channel_(\d+)")


def _channel_id(channel):
    """The discuss.channel id behind a subscription (the record, or a
    ``(record, "members")`` pair), or None."""
    record = channel[0] if isinstance(channel, tuple) else channel
    if isinstance(record, models.BaseModel) and record._name == "discuss.channel":
        return record.id
    return None


class IrWebsocket(models.AbstractModel):
    _inherit = "ir.websocket"

    def _build_bus_channel_list(self, channels):
        asked = {
            int(match)
            for name in channels
            if isinstance(name, str)
            for match in CHANNEL_NAME.findall(name)
        }
        channels = super()._build_bus_channel_list(channels)
        if not (self.env.user and self.env.user._is_internal()):
            return channels
        member_of = {_channel_id(channel) for channel in channels} - asked - {None}
        closed = self.env["im_livechat.ticket"]._get_resolved_conversation_ids(member_of)
        if not closed:
            return channels
        return [channel for channel in channels if _channel_id(channel) not in closed]
