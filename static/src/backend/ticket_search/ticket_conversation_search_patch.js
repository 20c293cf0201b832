import { Message } from "@mail/core/common/message";
import { Thread } from "@mail/core/common/thread_model";

import { status } from "@odoo/owl";

import { patch } from "@web/core/utils/patch";

import { TicketConversation } from "@im_livechat_ticket/backend/ticket_conversation/ticket_conversation";

/**
 * Set by the "Conversation" field of the tickets' search view
 * (`context="{'im_livechat_ticket_search': self}"`): the words searched.
 * The form opened from the results gets it in its context.
 */
export const SEARCH_CONTEXT_KEY = "im_livechat_ticket_search";

patch(Thread.prototype, {
    setup() {
        super.setup(...arguments);
        /** id of the message a ticket search found in this conversation */
        this.ticketSearchMatchId = undefined;
    },
});

/** The ticket form opened from a conversation search shows the matching message. */
patch(TicketConversation.prototype, {
    async loadThread(props) {
        await super.loadThread(...arguments);
        const thread = this.state.thread;
        const words = this.getConversationSearchWords(props);
        if (!words || !thread || thread.id !== this.getChannelId(props)) {
            return;
        }
        const messageId = await this.env.services.orm.call(
            "im_livechat.ticket",
            "get_conversation_search_match",
            [[props.record.resId], words]
        );
        if (!messageId || status(this) === "destroyed" || this.state.thread !== thread) {
            return;
        }
        thread.ticketSearchMatchId = messageId;
        const message = this.store.Message.insert({ id: messageId, thread });
        // loads the messages around it if needed, scrolls to it and flashes it
        await this.messageHighlight.highlightMessage(message, thread);
    },

    /** @returns {string} the last words searched, or "" */
    getConversationSearchWords(props) {
        const value = props.record.context?.[SEARCH_CONTEXT_KEY];
        const words = Array.isArray(value) ? value : [value];
        return words.filter((word) => typeof word === "string" && word.trim()).at(-1) || "";
    },
});

/** The found message stays marked while the conversation is shown. */
patch(Message.prototype, {
    get attClass() {
        const thread = this.props.thread;
        return {
            ...super.attClass,
            o_im_livechat_ticket_search_match: Boolean(
                thread?.isImLivechatTicket && thread.ticketSearchMatchId === this.message.id
            ),
        };
    },
});
