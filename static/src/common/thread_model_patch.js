import { Thread } from "@mail/core/common/thread_model";

import { patch } from "@web/core/utils/patch";

patch(Thread.prototype, {
    setup() {
        super.setup(...arguments);
        /**
         * Whether this is the conversation of a ticket: set where a ticket
         * shows it (its portal page, its form; see ticket_thread_hook.js),
         * for the ticket-only behaviours of the other patches.
         */
        this.isImLivechatTicket = false;
    },
});
