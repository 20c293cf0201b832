from . import discuss_channel
from . import im_livechat_channel
from . import im_livechat_ticket
from . import res_partner
