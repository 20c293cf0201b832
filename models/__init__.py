from . import bus_dispatch
from . import discuss_channel
from . import discuss_channel_member
from . import im_livechat_channel
from . import im_livechat_ticket
from . import im_livechat_ticket_sla
from . import mail_message
from . import res_partner
