import { Message } from "@mail/core/common/message";

import { useEffect } from "@odoo/owl";

import { patch } from "@web/core/utils/patch";

patch(Message.prototype, {
    setup() {
        super.setup(...arguments);
        if (this.env.inImLivechatTicket) {
            // the body's class in the server-rendered history (see thread_patch.js)
            useEffect(
                (bodyEl) => bodyEl?.classList.add("o_im_livechat_ticket_body"),
                () => [this.messageBody.el]
            );
        }
    },
});
