from . import controllers
from . import models
from . import patches


def post_load():
    """Server-wide patches (odoo/modules/module.py runs this once the module is
    imported): never a side effect of importing models/."""
    patches.apply_all()


def uninstall_hook(env):
    """What Odoo does not drop by itself: the index on mail_message's own
    columns (models/mail_message.py); the rest goes with our fields and tables."""
    env.cr.execute("DROP INDEX IF EXISTS mail_message_ticket_rate_limit_idx")
