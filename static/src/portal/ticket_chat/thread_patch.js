import { Thread } from "@mail/core/common/thread";

import { patch } from "@web/core/utils/patch";

/**
 * On the ticket page, messages carry the classes of the server-rendered
 * history too: the customer's own and the agent's are told apart the same
 * way with or without JavaScript (styles, tests).
 */
patch(Thread.prototype, {
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
