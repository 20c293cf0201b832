from odoo.exceptions import UserError
from odoo.http import request, route

from odoo.addons.im_livechat.controllers.attachment import LivechatAttachmentController
from odoo.addons.mail.models.discuss.mail_guest import add_guest_to_context


class TicketAttachmentController(LivechatAttachmentController):
    @route()
    @add_guest_to_context
    def mail_attachment_upload(self, ufile, thread_id, thread_model, is_pending=False, **kwargs):
        """Files sent into a ticket's conversation pass the ticket's size
        limit and content-type allow-list before Odoo stores them (Odoo's
        route creates them with sudo, skipping its own content checks)."""
        if thread_model == "discuss.channel" and not request.env.user._is_internal():
            # access first: a refusal must not tell which channels are tickets
            channel = request.env["discuss.channel"]._get_thread_with_access(
                int(thread_id), mode=request.env["discuss.channel"]._mail_post_access, **kwargs
            )
            # sudo: im_livechat.ticket - whether the accessible channel is a ticket's
            if channel and channel.sudo().livechat_ticket_ids:
                content = ufile.read()
                ufile.seek(0)
                try:
                    request.env["im_livechat.ticket"]._check_uploads([(ufile.filename, content)])
                except UserError as error:
                    return request.make_json_response({"error": error.args[0]})
        return super().mail_attachment_upload(ufile, thread_id, thread_model, is_pending, **kwargs)
