# the ticket's own class first: the files after it _inherit it
from . import im_livechat_ticket
from . import im_livechat_ticket_conversation
from . import im_livechat_ticket_portal
from . import im_livechat_ticket_rating
from . import im_livechat_ticket_service_level
from . import im_livechat_ticket_sla
from . import im_livechat_ticket_call
from . import discuss_channel
from . import discuss_channel_call
from . import discuss_channel_member
from . import discuss_channel_rtc_session
from . import im_livechat_channel
from . import ir_attachment
from . import ir_binary
from . import mail_message
from . import res_partner
