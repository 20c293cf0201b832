from . import attachment
from . import portal
from . import portal_mail
from . import ticket_desk
