import { Call } from "@mail/discuss/call/common/call";
import { Thread } from "@mail/core/common/thread_model";

import { useState } from "@odoo/owl";

import { _t } from "@web/core/l10n/translation";
import { useService } from "@web/core/utils/hooks";
import { patch } from "@web/core/utils/patch";

import {
    TicketConversation,
    ticketConversation,
} from "@im_livechat_ticket/backend/ticket_conversation/ticket_conversation";

// The form's conversation shows its call as Discuss does (ticket_conversation_patch.xml).
patch(TicketConversation, {
    components: { ...TicketConversation.components, Call },
});

patch(ticketConversation, {
    fieldDependencies: [
        ...ticketConversation.fieldDependencies,
        { name: "state", type: "selection" },
    ],
});

/** The queue card's *Call* keys already acted on (one call per click). */
const startedCallKeys = new Set();

patch(TicketConversation.prototype, {
    setup() {
        super.setup(...arguments);
        this.rtc = useState(useService("discuss.rtc"));
    },
    get isTicketResolved() {
        return this.props.record.data.state === "resolved";
    },
    /** Whether this agent is in the conversation's call. */
    get isInTicketCall() {
        return Boolean(this.thread?.eq(this.rtc.state.channel));
    },
    /** The call button: an agent of the conversation, an open ticket (or a call to leave). */
    get hasTicketCallButton() {
        return Boolean(
            this.thread && this.isMember && (this.isInTicketCall || !this.isTicketResolved)
        );
    },
    get ticketCallTitle() {
        return this.isInTicketCall ? _t("Leave the call") : _t("Call the customer");
    },
    /** The other side's ICE state (`connected` once media flows), for styles and tests. */
    get ticketCallIceState() {
        const other = this.thread?.rtcSessions.find((session) =>
            session.notEq(this.rtc.selfSession)
        );
        return other?.connectionState || "waiting";
    },
    async loadThread() {
        await super.loadThread(...arguments);
        // opened by the queue card's Call (action_call_customer): call once
        const key = this.props.record.context?.im_livechat_ticket_start_call;
        if (
            key &&
            !startedCallKeys.has(key) &&
            key.startsWith(`${this.props.record.resId}-`) &&
            this.thread?.selfMember &&
            !this.isInTicketCall
        ) {
            startedCallKeys.add(key);
            await this.toggleTicketCall();
        }
    },
    async toggleTicketCall() {
        if (this.rtc.state.hasPendingRequest) {
            return;
        }
        await this.rtc.toggleCall(this.thread);
    },
});

patch(Thread.prototype, {
    /** Accepting a call of a conversation the ticket's form shows opens no chat window over it. */
    open() {
        if (this.isShownInTicketConversation) {
            return;
        }
        return super.open(...arguments);
    },
});
