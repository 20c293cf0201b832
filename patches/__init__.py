"""Server-wide changes to Odoo, applied from the manifest's ``post_load``."""

from . import bus_dispatch, db_pool_wait


def apply_all():
    bus_dispatch.apply()
    db_pool_wait.apply()
