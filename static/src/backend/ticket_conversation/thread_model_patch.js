import { Thread } from "@mail/core/common/thread_model";

import { patch } from "@web/core/utils/patch";

/** Triggered on the env bus once a message posted from a ticket's form is saved. */
export const TICKET_MESSAGE_POSTED = "IM_LIVECHAT_TICKET:MESSAGE_POSTED";

/**
 * A conversation shown in a ticket's form is on screen, like the active
 * thread of Discuss or an open chat window: its new messages are not
 * "unread elsewhere" and need no chat bubble on top of the form.
 */
patch(Thread.prototype, {
    setup() {
        super.setup(...arguments);
        /** number of ticket conversation widgets showing this thread */
        this.ticketConversationViewCount = 0;
    },
    get isShownInTicketConversation() {
        return this.ticketConversationViewCount > 0;
    },
    computeIsDisplayed() {
        return this.isShownInTicketConversation || super.computeIsDisplayed();
    },
    async post() {
        if (!this.isShownInTicketConversation) {
            return super.post(...arguments);
        }
        const message = await super.post(...arguments);
        // The composer does not wait for a channel's post (optimistic
        // message): tell the ticket's form once the server has it.
        if (message) {
            this.store.env.bus.trigger(TICKET_MESSAGE_POSTED, { thread: this, message });
        }
        return message;
    },
    notifyMessageToUser(message) {
        if (
            this.model !== "discuss.channel" ||
            !this.isShownInTicketConversation ||
            this.store.ChatWindow.get({ thread: this })
        ) {
            return super.notifyMessageToUser(...arguments);
        }
        // Already on screen: no chat bubble, but still tell an agent whose
        // browser tab is in the background (title, sound, notification).
        if (!this.mute_until_dt && !this.store.settings.mute_until_dt) {
            this.store.env.services["mail.out_of_focus"].notify(message, this);
        }
    },
});
