import { Thread } from "@mail/core/common/thread";

import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";

/**
 * On the ticket page, messages carry the classes of the server-rendered
 * history too: the customer's own and the agent's are told apart the same
 * way with or without JavaScript (styles, tests).
 */
patch(Thread.prototype, {
    /** Accessible name of the message list (see thread_patch.xml). */
    get imLivechatTicketLabel() {
        return _t("Messages");
    },
    getMessageClassName(message) {
        const className = super.getMessageClassName(message);
        if (!this.env.inImLivechatTicket || message.isNotification) {
            return className;
        }
        const side = message.isSelfAuthored
            ? "o_im_livechat_ticket_message_own"
            : "o_im_livechat_ticket_message_other";
        return `${className} o_im_livechat_ticket_message ${side}`.trim();
    },
});
