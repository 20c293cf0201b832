import { Composer } from "@mail/core/common/composer";
import { ImStatus } from "@mail/core/common/im_status";
import { Thread } from "@mail/core/common/thread";

import {
    Component,
    onWillStart,
    onWillUnmount,
    status,
    toRaw,
    useEffect,
    useExternalListener,
} from "@odoo/owl";

import { browser } from "@web/core/browser/browser";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useBus, useService } from "@web/core/utils/hooks";

import { useTicketThread } from "@im_livechat_ticket/common/ticket_thread_hook";
import { useTicketPresence } from "@im_livechat_ticket/portal/ticket_chat/ticket_presence_hook";

const TICKET_EVENTS = ["im_livechat.ticket/updated", "im_livechat.ticket/resolved"];

/**
 * Fetch a channel's data (members, self membership...) once, as Discuss'
 * `Thread.getOrFetch` does in the web client: the frontend bundle has the
 * store without that fetching part.
 *
 * @param {import("models").Thread} thread
 * @returns {Promise<import("models").Thread|undefined>} nothing if it cannot be read
 */
async function fetchChannelOnce(thread) {
    if (thread.fetchChannelInfoState !== "fetched") {
        thread.fetchChannelInfoState = "fetching";
        await thread.fetchChannelInfo();
        if (thread.exists()) {
            thread.fetchChannelInfoState = "fetched";
        }
    }
    return thread.exists() ? thread : undefined;
}

/**
 * The live conversation of a ticket on its portal page, for its customer:
 * Discuss' own `Thread` (history, older messages on scroll, day separators,
 * authors and avatars, attachments with the file viewer) and `Composer`
 * (upload button, drag and drop, paste, typing notifications), fed by the
 * mail store and the bus like the website's live chat.
 *
 * Mounted by the public components service from
 * `<owl-component name="im_livechat_ticket.ticket_chat" props="..."/>`
 * inside `.o_im_livechat_ticket_conversation`; the server-rendered history
 * and form stay in the page for browsers without JavaScript, hidden (CSS)
 * once this chat shows.
 *
 * Realtime: the customer's websocket follows the channels they are a member
 * of and their partner (`ir.websocket`): new messages and typing come on the
 * conversation's channel, `im_livechat.ticket/*` events on the partner, the
 * agent's presence on the presence channel Discuss subscribes for each
 * person it shows. After a dropped connection the messages posted meanwhile
 * are fetched again, merged by id.
 */
export class TicketChat extends Component {
    static template = "im_livechat_ticket.TicketChat";
    static components = { Composer, ImStatus, Thread };
    static props = {
        ticketId: Number,
        channelId: Number,
        ticketState: String,
        agentPartnerId: { type: [Number, Boolean], optional: true },
        storeData: { type: Object, optional: true },
    };

    setup() {
        super.setup();
        Object.assign(
            this,
            useTicketThread({
                getTicketId: () => this.props.ticketId,
                ticketEvents: TICKET_EVENTS,
                onTicketEvent: (payload) => this.onTicketEvent(payload),
                fetchChannel: fetchChannelOnce,
                state: {
                    ticketState: this.props.ticketState,
                    /** "connected" or "disconnected" (the websocket) */
                    connection: "connected",
                    uploadError: "",
                    /** the assigned agent's partner */
                    agentId: this.props.agentPartnerId || undefined,
                    /** read out by screen readers: the last message of the other side */
                    announcement: "",
                },
                env: {
                    inImLivechatTicket: true,
                    // a chat between two people: own messages on the right, as in
                    // the website's live chat window
                    inChatWindow: true,
                },
            })
        );
        this.fileUploadService = useService("file_upload");
        // the customer is online for the agent while this page is open
        useTicketPresence();
        /** the websocket was lost since the thread was loaded: catch up on reconnect */
        this.missedUpdates = false;
        this.onBusDisconnect = this.onBusDisconnect.bind(this);
        this.onBusConnect = this.onBusConnect.bind(this);
        this.onFileUploadLoaded = this.onFileUploadLoaded.bind(this);
        this.busService.addEventListener("disconnect", this.onBusDisconnect);
        this.busService.addEventListener("reconnect", this.onBusConnect);
        this.busService.addEventListener("connect", this.onBusConnect);
        this.fileUploadService.bus.addEventListener("FILE_UPLOAD_LOADED", this.onFileUploadLoaded);
        useBus(this.env.bus, "discuss.channel/new_message", ({ detail }) => {
            if (this.thread && detail.channel.eq(this.thread) && !detail.message.isSelfAuthored) {
                this.announce(detail.message);
                this.markAsReadIfVisible();
            }
        });
        useExternalListener(document, "visibilitychange", () => this.markAsReadIfVisible());
        // Messages may have come between the page's request (which marked
        // the conversation as read) and the thread's load.
        useEffect(
            (isLoaded) => {
                if (isLoaded) {
                    this.markAsReadIfVisible();
                }
            },
            () => [this.thread?.isLoaded]
        );
        // Not awaited: the page shows at once (with its server-rendered
        // history), the live chat replaces it when loaded.
        onWillStart(() => {
            this.loadThread();
        });
        onWillUnmount(() => {
            this.busService.removeEventListener("disconnect", this.onBusDisconnect);
            this.busService.removeEventListener("reconnect", this.onBusConnect);
            this.busService.removeEventListener("connect", this.onBusConnect);
            this.fileUploadService.bus.removeEventListener(
                "FILE_UPLOAD_LOADED",
                this.onFileUploadLoaded
            );
        });
    }

    /** @returns {import("models").Thread|undefined} */
    get thread() {
        return this.state.thread;
    }

    get isMember() {
        return Boolean(this.thread?.selfMember);
    }

    get isResolved() {
        return this.state.ticketState === "resolved";
    }

    /** The assigned agent's membership of the conversation, if any. */
    get agentMember() {
        const agentId = this.state.agentId;
        if (!this.thread || !agentId) {
            return undefined;
        }
        return this.thread.channelMembers.find(
            (member) => member.persona?.type === "partner" && member.persona.id === agentId
        );
    }

    get agentName() {
        const persona = this.agentMember?.persona;
        return persona ? persona.user_livechat_username || persona.name : "";
    }

    get hasAgentPresence() {
        return ["online", "away", "offline"].includes(this.agentMember?.persona.im_status);
    }

    get agentPresenceText() {
        switch (this.agentMember?.persona.im_status) {
            case "online":
                return _t("Online");
            case "away":
                return _t("Away");
            case "offline":
                return _t("Offline");
        }
        return "";
    }

    /**
     * Show the conversation (see `loadTicketThread`); if it cannot be read,
     * the server-rendered page stays.
     */
    async loadThread() {
        // The websocket first: personas inserted while it runs get their
        // presence followed (Persona.storeAsTrackedImStatus).
        await this.busService.start();
        if (this.props.storeData) {
            this.store.insert(this.props.storeData);
        }
        await this.loadTicketThread(this.props.channelId);
    }

    /**
     * Put a message of the other side in the page's live region: screen
     * readers read "author: text" out once, politely. The conversation
     * itself is no live region: loading older messages or posting one's own
     * would be read out too.
     */
    announce(message) {
        if (message.isNotification) {
            this.state.announcement = message.inlineBody;
            return;
        }
        const author = message.author?.user_livechat_username || message.author?.name || "";
        const text =
            message.inlineBody ||
            message.attachment_ids.map((attachment) => attachment.name).join(", ");
        this.state.announcement = author ? _t("%(author)s: %(text)s", { author, text }) : text;
    }

    markAsReadIfVisible() {
        const thread = this.thread;
        if (thread?.selfMember && thread.isLoaded && document.visibilityState === "visible") {
            toRaw(thread).markAsRead();
        }
    }

    onPostCallback() {
        this.state.uploadError = "";
        this.state.jumpThreadPresent++;
    }

    /**
     * A ticket event for this ticket: follow its state (the composer gives
     * way to the resolved notice, and back on reopen), its agent, and swap
     * in the parts of the page the server renders for the new state.
     */
    async onTicketEvent(payload) {
        const wasResolved = this.isResolved;
        this.state.ticketState = payload.state;
        this.state.uploadError = "";
        try {
            await this.refreshStatusParts();
        } catch {
            // offline: the page catches up when the bus reconnects
            this.missedUpdates = true;
            return;
        }
        if (this.isResolved && !wasResolved) {
            // the notice (Reopen, rating) replaces the composer: show it
            this.rootRef.el
                ?.closest(".o_im_livechat_ticket_page")
                ?.querySelector(".o_im_livechat_ticket_resolved")
                ?.scrollIntoView({ behavior: "smooth", block: "nearest" });
        }
    }

    /**
     * Whether `current` holds a form the customer is filling in (a star
     * chosen, a comment typed) that the fresh version would wipe out: keep
     * it while the fresh version still offers that same form.
     */
    isBeingFilled(current, fresh) {
        const form = current.querySelector("form");
        if (!form || !fresh.querySelector(`form[action="${form.getAttribute("action")}"]`)) {
            return false;
        }
        return [...form.elements].some(
            (field) =>
                (["radio", "checkbox"].includes(field.type) &&
                    field.checked !== field.defaultChecked) ||
                (["text", "textarea"].includes(field.type) && field.value !== field.defaultValue)
        );
    }

    /** Replace the header and the footer of the page by their current version. */
    async refreshStatusParts() {
        const response = await browser.fetch(`/my/tickets/${this.props.ticketId}/status`);
        if (!response.ok || status(this) === "destroyed") {
            return;
        }
        const doc = new DOMParser().parseFromString(await response.text(), "text/html");
        const card = this.rootRef.el?.closest(".o_im_livechat_ticket_conversation");
        const page = card?.closest(".o_im_livechat_ticket_page");
        for (const selector of [".o_im_livechat_ticket_header", ".o_im_livechat_ticket_footer"]) {
            const fresh = doc.querySelector(`.o_im_livechat_ticket_status ${selector}`);
            const current = page?.querySelector(selector);
            if (fresh && current && !this.isBeingFilled(current, fresh)) {
                current.replaceWith(document.importNode(fresh, true));
            }
        }
        const stateBadge = doc.querySelector(".o_im_livechat_ticket_state");
        if (stateBadge?.dataset.state) {
            this.state.ticketState = stateBadge.dataset.state;
        }
        // The agent, with their presence (live chat members' data has none).
        const agentEl = doc.querySelector(".o_im_livechat_ticket_agent[data-partner-id]");
        const agentId = agentEl ? Number(agentEl.dataset.partnerId) : undefined;
        if (agentEl) {
            this.store.Persona.insert({
                type: "partner",
                id: agentId,
                im_status: agentEl.dataset.imStatus,
            });
        }
        if (agentId !== this.state.agentId && this.thread) {
            // a new agent joined the conversation: refresh its members
            await toRaw(this.thread).fetchChannelInfo();
        }
        this.state.agentId = agentId;
    }

    onBusDisconnect() {
        this.state.connection = "disconnected";
        this.missedUpdates = true;
    }

    /** Back online (the bus reconnected, or reconnected after "offline"): catch up. */
    async onBusConnect() {
        this.state.connection = "connected";
        if (!this.missedUpdates) {
            return;
        }
        this.missedUpdates = false;
        try {
            await Promise.all([this.fetchMissedMessages(), this.refreshStatusParts()]);
        } catch {
            // the network is not back yet: try again on the next connection
            this.missedUpdates = true;
        }
    }

    /**
     * Fetch the messages newer than the last one shown, page after page, and
     * add those not known yet: the bus may deliver some of them too (it
     * sends what a reconnecting client missed), the store keeps each message
     * once (by id) and the thread shows each once.
     */
    async fetchMissedMessages() {
        const thread = this.thread && toRaw(this.thread);
        if (!thread?.isLoaded || thread.loadNewer) {
            return; // Thread loads what it lacks when it shows it
        }
        while (true) {
            const after = thread.newestPersistentMessage?.id;
            const fetched = await thread.fetchMessages(after ? { after } : {});
            const knownIds = new Set(thread.messages.map((message) => message.id));
            const missing = fetched.filter((message) => !knownIds.has(message.id));
            if (missing.length) {
                thread.messages.push(...missing);
                thread.messages.sort((m1, m2) => m1.id - m2.id);
            }
            if (!after || !missing.length || fetched.length < thread.store.FETCH_LIMIT) {
                break;
            }
        }
        this.markAsReadIfVisible();
    }

    /**
     * The server refuses some files (size, type) with `{"error": ...}`:
     * besides Odoo's notification, say it next to the composer.
     */
    onFileUploadLoaded({ detail: { upload } }) {
        if (
            upload.data.get("thread_model") !== "discuss.channel" ||
            Number(upload.data.get("thread_id")) !== this.props.channelId
        ) {
            return;
        }
        let error;
        if (upload.xhr.status === 413) {
            error = _t("This file is too large.");
        } else {
            try {
                error = JSON.parse(upload.xhr.response)?.error;
            } catch {
                error = undefined;
            }
        }
        this.state.uploadError = error || "";
    }

    dismissUploadError() {
        this.state.uploadError = "";
    }
}

registry.category("public_components").add("im_livechat_ticket.ticket_chat", TicketChat);
