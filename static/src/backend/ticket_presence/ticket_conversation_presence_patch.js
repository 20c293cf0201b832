import { Composer } from "@mail/core/common/composer";

import { onMounted, onWillUnmount, useChildSubEnv, useState } from "@odoo/owl";

import { browser } from "@web/core/browser/browser";
import { ConfirmationDialog } from "@web/core/confirmation_dialog/confirmation_dialog";
import { _t } from "@web/core/l10n/translation";
import { rpc } from "@web/core/network/rpc";
import { user } from "@web/core/user";
import { useService } from "@web/core/utils/hooks";
import { patch } from "@web/core/utils/patch";

import { TicketConversation } from "@im_livechat_ticket/backend/ticket_conversation/ticket_conversation";
import { TicketViewers } from "@im_livechat_ticket/backend/ticket_presence/ticket_viewers";

const VIEWING_ROUTE = "/im_livechat_ticket/viewing";
/** milliseconds between two reports of an open form (VIEWER_HEARTBEAT on the server) */
const HEARTBEAT = 20000;

patch(TicketConversation, {
    components: { ...TicketConversation.components, TicketViewers },
});

/**
 * Who else is on the ticket, in its form: the form reports itself open to
 * the other agents (`/im_livechat_ticket/viewing`, every 20 s, a goodbye when
 * it closes), shows the others who have it open and who types, warns an agent
 * who is not the assignee before a reply, and lets them take it over.
 */
patch(TicketConversation.prototype, {
    setup() {
        super.setup(...arguments);
        this.viewersService = useService("im_livechat_ticket.viewers");
        this.viewersState = useState(this.viewersService.state);
        this.dialogService = useService("dialog");
        this.notificationService = useService("notification");
        this.ormService = useService("orm");
        /** the ticket this form last reported open */
        this.viewingTicketId = false;
        let heartbeat;
        const onPageHide = () => this.leaveTicket({ beacon: true });
        onMounted(() => {
            this.viewersService.load();
            this.reportViewing();
            heartbeat = browser.setInterval(() => this.reportViewing(), HEARTBEAT);
            browser.addEventListener("pagehide", onPageHide);
        });
        onWillUnmount(() => {
            browser.clearInterval(heartbeat);
            browser.removeEventListener("pagehide", onPageHide);
            this.leaveTicket();
        });
        useChildSubEnv({
            imLivechatTicketReplyGuard: (composer) => this.confirmTicketReply(composer),
        });
    },
    async loadThread() {
        const result = await super.loadThread(...arguments);
        if (this.viewingTicketId !== (this.props.record.resId || false)) {
            this.reportViewing();
        }
        return result;
    },
    /** Tell the agents this form shows its ticket (and no longer the one before). */
    async reportViewing() {
        const ticketId = this.props.record.resId || false;
        if (this.viewingTicketId && this.viewingTicketId !== ticketId) {
            this.leaveTicket();
        }
        this.viewingTicketId = ticketId;
        if (!ticketId) {
            return;
        }
        try {
            const { viewers } = await rpc(
                VIEWING_ROUTE,
                { ticket_id: ticketId, viewing: true },
                { silent: true }
            );
            this.viewersService.set(ticketId, viewers);
        } catch {
            // offline for a moment: the next beat reports again
        }
    },
    /** The form closes (or shows another ticket): a goodbye to the other agents. */
    leaveTicket({ beacon = false } = {}) {
        const ticketId = this.viewingTicketId;
        if (!ticketId) {
            return;
        }
        this.viewingTicketId = false;
        const params = { ticket_id: ticketId, viewing: false };
        if (beacon && browser.navigator.sendBeacon) {
            // the page goes away: an RPC would not finish
            const body = JSON.stringify({ jsonrpc: "2.0", method: "call", params });
            browser.navigator.sendBeacon(
                VIEWING_ROUTE,
                new Blob([body], { type: "application/json" })
            );
            return;
        }
        rpc(VIEWING_ROUTE, params, { silent: true }).catch(() => {});
    },
    /** The other agents who have this ticket open now. */
    get ticketOtherViewers() {
        const ticketId = this.props.record.resId;
        return ticketId ? this.viewersService.othersOf(ticketId, this.viewersState) : [];
    },
    get ticketAgent() {
        const value = this.props.record.data.user_id;
        return value ? { id: value[0], name: value[1] } : undefined;
    },
    get isTicketAgentSelf() {
        return this.ticketAgent?.id === user.userId;
    },
    /** Whether the assigned agent types now (the conversation's typing, or the viewers' flag). */
    get isTicketAgentTyping() {
        const agent = this.ticketAgent;
        if (!agent) {
            return false;
        }
        const viewer = this.ticketOtherViewers.find((other) => other.user_id === agent.id);
        if (viewer?.is_typing) {
            return true;
        }
        return Boolean(
            this.thread?.otherTypingMembers.some((member) => member.persona?.userId === agent.id)
        );
    },
    /** "Sophie is assigned (and is typing)", shown to an agent who is not. */
    get ticketCollisionText() {
        const agent = this.ticketAgent;
        if (!agent || this.isTicketAgentSelf || this.props.record.data.state === "resolved") {
            return "";
        }
        return this.isTicketAgentTyping
            ? _t("%(agent)s is assigned and is typing", { agent: agent.name })
            : _t("%(agent)s is assigned", { agent: agent.name });
    },
    /** Before a reply of an agent who is not the assignee: warn, send on confirm. */
    confirmTicketReply() {
        const text = this.ticketCollisionText;
        if (!text) {
            return true;
        }
        return new Promise((resolve) => {
            this.dialogService.add(
                ConfirmationDialog,
                {
                    title: _t("Reply to a colleague's ticket?"),
                    body: _t("%(warning)s. Send your reply to the customer anyway?", {
                        warning: text,
                    }),
                    confirmLabel: _t("Send anyway"),
                    cancelLabel: _t("Cancel"),
                    confirm: () => resolve(true),
                    cancel: () => resolve(false),
                },
                { onClose: () => resolve(false) }
            );
        });
    },
    /** One click: the ticket is mine; refused if someone reassigned it since the form loaded. */
    async takeOverTicket() {
        const record = this.props.record;
        const previous = this.ticketAgent;
        const loaded = record.data.loaded_user_id;
        const expected = (Array.isArray(loaded) ? loaded[0] : loaded) || previous?.id || false;
        try {
            await this.ormService.call("im_livechat.ticket", "action_take_over", [[record.resId]], {
                context: { ticket_expected_user_id: expected },
            });
        } finally {
            await record.load();
        }
        this.notificationService.add(
            previous
                ? _t("You took over this ticket from %(agent)s, who was told in a note.", {
                      agent: previous.name,
                  })
                : _t("You took this ticket."),
            { type: "success" }
        );
    },
});

patch(Composer.prototype, {
    async sendMessage() {
        // the ticket form's reply to its customer (not a note, not an edition)
        const guard = this.env.imLivechatTicketReplyGuard;
        if (
            guard &&
            this.props.type !== "note" &&
            this.thread?.model === "discuss.channel" &&
            !this.props.composer.message &&
            !(await guard(this))
        ) {
            return;
        }
        return super.sendMessage(...arguments);
    },
});
