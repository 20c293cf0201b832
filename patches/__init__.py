"""Server-wide changes to Odoo, applied from the manifest's ``post_load``."""

from . import bus_dispatch


def apply_all():
    bus_dispatch.apply()
