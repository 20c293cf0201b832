from . import attachment
from . import portal
from . import portal_mail
