from odoo import models


class IrBinary(models.AbstractModel):
    _inherit = "ir.binary"

    def _find_record_check_access(self, record, access_token, field):
        # /web/content, /web/image: a token alone no longer opens a ticket's file
        if record._name == "ir.attachment" and access_token and not self.env.su:
            record._check_ticket_attachment_token_access()
        return super()._find_record_check_access(record, access_token, field)
