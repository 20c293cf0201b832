import { Rtc } from "@mail/discuss/call/common/rtc_service";
import { Thread } from "@mail/core/common/thread_model";

import { patch } from "@web/core/utils/patch";

patch(Thread.prototype, {
    setup() {
        super.setup(...arguments);
        /** Why the last call on this ticket's conversation was refused (shown where the ticket is). */
        this.ticketCallError = "";
        /** Whether customers may start calls (the ticket's team setting, from the server). */
        this.ticketCustomerCalls = false;
        /** Number of ticket call views showing this conversation's call (they show refusals). */
        this.ticketCallViewCount = 0;
    },
});

/**
 * The server refuses some calls on a ticket's conversation (a resolved
 * ticket, a customer ringing again too soon...). Odoo's `joinCall` would
 * leave its "pending request" set and the call buttons disabled: for ticket
 * conversations the refusal is shown and the call left cleanly.
 */
patch(Rtc.prototype, {
    async joinCall(channel) {
        if (!channel?.isImLivechatTicket) {
            return super.joinCall(...arguments);
        }
        channel.ticketCallError = "";
        try {
            return await super.joinCall(...arguments);
        } catch (error) {
            const message = error?.data?.message;
            if (!message) {
                throw error;
            }
            this.state.hasPendingRequest = false;
            this.pttExtService.unsubscribe();
            if (this.state.channel?.eq(channel)) {
                this.clear();
            }
            channel.ticketCallError = message;
            if (!channel.ticketCallViewCount) {
                this.notification.add(message, { type: "warning" });
            }
        }
    },
});
