import re

from odoo import models

# Odoo's XPG codes (language[_territory][@modifier]) and their BCP 47 scripts,
# as pyToJsLocale (web/static/src/core/l10n/utils/locales.js) converts them
XPG_LANG = re.compile(r"^([a-z]+)(?:_([A-Z\d]+))?(?:@(.+))?$")
XPG_SCRIPTS = {"latin": "Latn", "Cyrl": "Cyrl"}


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    def _get_html_lang(self, lang_code):
        """``lang_code`` (Odoo's, e.g. ``de_DE``, ``sr@latin``) as HTML's
        ``lang`` wants it (BCP 47: ``de-DE``, ``sr-Latn``)."""
        match = XPG_LANG.match(lang_code or "")
        if not match:
            return (lang_code or "").replace("_", "-")
        language, territory, modifier = match.groups()
        return "-".join(filter(None, [language, XPG_SCRIPTS.get(modifier), territory]))
