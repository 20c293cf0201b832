from . import controllers
from . import models
from . import patches


def post_load():
    """Server-wide patches (odoo/modules/module.py runs this once the module is
    imported): never a side effect of importing models/."""
    patches.apply_all()
