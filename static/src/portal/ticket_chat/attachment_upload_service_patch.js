// Loaded first: this patch must wrap the live chat visitor's one.
import "@im_livechat/embed/common/attachment_upload_service_patch";

import { AttachmentUploadService } from "@mail/core/common/attachment_upload_service";

import { patch } from "@web/core/utils/patch";

import { withTicketSession } from "@im_livechat_ticket/portal/ticket_chat/thread_model_patch";

/** Uploads into a ticket's conversation go to that conversation (see `withTicketSession`). */
patch(AttachmentUploadService.prototype, {
    upload(thread) {
        if (!thread?.isImLivechatTicket) {
            return super.upload(...arguments);
        }
        return withTicketSession(thread, () => super.upload(...arguments));
    },
});
