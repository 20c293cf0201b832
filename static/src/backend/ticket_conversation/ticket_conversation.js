import { Composer } from "@mail/core/common/composer";
import { ImStatus } from "@mail/core/common/im_status";
import { Thread } from "@mail/core/common/thread";
import { Typing } from "@mail/discuss/typing/common/typing";

import { Component, onWillStart, onWillUpdateProps, toRaw, useEffect } from "@odoo/owl";

import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useBus, useService } from "@web/core/utils/hooks";
import { useDebounced } from "@web/core/utils/timing";
import { standardFieldProps } from "@web/views/fields/standard_field_props";

import { TICKET_MESSAGE_POSTED } from "@im_livechat_ticket/backend/ticket_conversation/thread_model_patch";
import { useTicketThread } from "@im_livechat_ticket/common/ticket_thread_hook";

/**
 * The conversation (a livechat `discuss.channel`) of a ticket, shown live in
 * the ticket's form with Discuss' own `Thread` and `Composer`.
 *
 * Used on the ticket's `channel_id` field:
 * `<field name="channel_id" widget="im_livechat_ticket_conversation" nolabel="1"/>`
 *
 * Members of the conversation (the assigned agent) get Odoo's live updates
 * and a composer. Other agents may read it (record rules): they see the
 * history, updated live while the form is open, and a hint to take the
 * ticket to reply.
 */
export class TicketConversation extends Component {
    static template = "im_livechat_ticket.TicketConversation";
    static components = { Composer, ImStatus, Thread, Typing };
    static props = { ...standardFieldProps };

    setup() {
        super.setup();
        Object.assign(
            this,
            useTicketThread({
                getTicketId: () => this.props.record.resId,
                ticketEvents: ["im_livechat.ticket/updated"],
                onTicketEvent: () => this.reloadRecordDebounced(),
                env: {
                    // The form gives its chatter a shared "fetch once" flag:
                    // without this, our Thread and the ticket's chatter would
                    // fight over it and one of them would never load its
                    // messages.
                    chatter: undefined,
                    inChatter: undefined,
                },
            })
        );
        this.actionService = useService("action");
        /** channel and agent of the record when last seen (the record mutates in place) */
        this.channelId = false;
        this.agentId = false;
        this.reloadRecordDebounced = useDebounced(this.reloadRecord, 300);
        // A reply opens the ticket (state, first response date) server-side.
        useBus(this.env.bus, TICKET_MESSAGE_POSTED, ({ detail }) => {
            if (this.state.thread && detail.thread.eq(this.state.thread)) {
                this.reloadRecordDebounced();
            }
        });
        // Not awaited: the form shows at once, the conversation when loaded.
        onWillStart(() => {
            this.loadThread(this.props);
        });
        onWillUpdateProps((nextProps) => {
            // The record is updated in place: compare with what we last saw.
            if (this.getChannelId(nextProps) !== this.channelId) {
                this.loadThread(nextProps);
                return;
            }
            const agentId = this.getAgentId(nextProps);
            if (agentId !== this.agentId && !nextProps.record.dirty) {
                this.agentId = agentId;
                // Taking (or handing over) the ticket changes who is a member:
                // refresh the membership so the composer shows up or goes.
                if (this.state.thread) {
                    toRaw(this.state.thread).fetchChannelInfo();
                }
            }
        });
        useEffect(
            (thread) => {
                if (!thread) {
                    return;
                }
                // On screen: see thread_model_patch.js
                thread.ticketConversationViewCount++;
                return () => {
                    if (thread.exists()) {
                        thread.ticketConversationViewCount--;
                    }
                };
            },
            () => [this.state.thread]
        );
    }

    /** @returns {number|false} */
    getChannelId(props) {
        const value = props.record.data[props.name];
        return (value && value[0]) || false;
    }

    /** @returns {number|false} */
    getAgentId(props) {
        const value = props.record.data.user_id;
        return (value && value[0]) || false;
    }

    get thread() {
        return this.state.thread;
    }

    get isMember() {
        return Boolean(this.thread?.selfMember);
    }

    get correspondent() {
        return this.thread?.correspondent;
    }

    get hasKnownImStatus() {
        return ["online", "away", "offline"].includes(this.correspondent?.persona?.im_status);
    }

    get title() {
        return this.correspondent?.name || this.thread?.displayName || "";
    }

    /** Show the record's conversation (see `loadTicketThread`); opening it reads it. */
    async loadThread(props) {
        this.channelId = this.getChannelId(props);
        this.agentId = this.getAgentId(props);
        const thread = await this.loadTicketThread(this.channelId);
        if (thread?.selfMember) {
            // Opening the ticket is reading its conversation: clears the
            // unread counters (queue badge, agent_unread_count) at once.
            thread.markAsRead();
        }
    }

    async reloadRecord() {
        const record = this.props.record;
        // Never throw away what the agent is editing in the form.
        if (record.isNew || (await record.isDirty())) {
            return;
        }
        await record.load();
    }

    onPostCallback() {
        this.state.jumpThreadPresent++;
    }

    openInDiscuss() {
        const channelId = this.getChannelId(this.props);
        if (!channelId) {
            return;
        }
        this.actionService.doAction({
            type: "ir.actions.client",
            tag: "mail.action_discuss",
            name: _t("Discuss"),
            params: { active_id: channelId },
        });
    }
}

export const ticketConversation = {
    component: TicketConversation,
    displayName: _t("Ticket Conversation"),
    supportedTypes: ["many2one"],
    fieldDependencies: [{ name: "user_id", type: "many2one", relation: "res.users" }],
};

registry.category("fields").add("im_livechat_ticket_conversation", ticketConversation);
