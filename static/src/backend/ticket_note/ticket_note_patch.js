import { Composer } from "@mail/core/common/composer";
import { Message } from "@mail/core/common/message_model";
import { Thread } from "@mail/core/common/thread";

import { onWillUnmount, reactive, useChildSubEnv, useState } from "@odoo/owl";

import { _t } from "@web/core/l10n/translation";
import { rpc } from "@web/core/network/rpc";
import { patch } from "@web/core/utils/patch";

import { TicketConversation } from "@im_livechat_ticket/backend/ticket_conversation/ticket_conversation";

/** Bus notification: a ticket got a new internal note (im_livechat_ticket_note.py). */
export const NOTE_EVENT = "im_livechat.ticket/note";

/**
 * Internal notes in the ticket form's conversation: the composer switches
 * between "Reply" (the customer's channel) and "Internal note" (a note of the
 * ticket itself, `mail.mt_note`, posted by Discuss' own composer in note mode
 * on the ticket's thread); the notes show among the conversation's messages
 * in time order, marked as internal. Nothing here touches the channel: a
 * note never reaches the customer.
 */
patch(Message.prototype, {
    /** A note written on a ticket (not its tracking, not a customer e-mail). */
    get isImLivechatTicketNote() {
        return (
            this.thread?.model === "im_livechat.ticket" &&
            this.is_note &&
            this.message_type === "comment"
        );
    },
});

patch(TicketConversation.prototype, {
    setup() {
        super.setup(...arguments);
        const notesState = reactive({
            /** "reply" (to the customer) or "note" (internal) */
            mode: "reply",
            /** @type {import("models").Message[]} */
            loaded: [],
            /** @type {import("models").Thread|undefined} the ticket's own thread */
            thread: undefined,
        });
        this.ticketNotes = useState(notesState);
        // the Thread below shows the notes: it observes them itself (see its patch)
        useChildSubEnv({
            imLivechatTicketNotes: {
                state: notesState,
                notesOf: (thread, observed) => this.getTicketNotesOf(thread, observed),
            },
        });
        const onNoteEvent = (payload) => {
            if (payload?.id === this.props.record.resId) {
                this.loadTicketNotes();
            }
        };
        this.busService.subscribe(NOTE_EVENT, onNoteEvent);
        onWillUnmount(() => this.busService.unsubscribe(NOTE_EVENT, onNoteEvent));
    },
    /** The ticket's own thread (`mail.thread` of the ticket): where notes go. */
    get ticketNoteThread() {
        return this.ticketNotes.thread;
    },
    /**
     * The notes to show among the messages of `thread`, the conversation on screen.
     *
     * @param {import("models").Thread} thread
     * @param {Object} [observed] the caller's `useState` of the notes' state
     */
    getTicketNotesOf(thread, observed = this.ticketNotes) {
        const noteThread = observed.thread;
        if (!noteThread || !this.thread || thread.notEq(this.thread)) {
            return [];
        }
        // what we fetched, and what the composer (or the chatter) added since
        const notes = new Map();
        for (const message of [...observed.loaded, ...noteThread.messages]) {
            if (message.exists() && message.isImLivechatTicketNote && !message.isEmpty) {
                notes.set(message.id, message);
            }
        }
        return [...notes.values()];
    },
    get isTicketNoteMode() {
        return this.ticketNotes.mode === "note";
    },
    get ticketNotePlaceholder() {
        return _t("Write an internal note: only agents see it. @name notifies a colleague.");
    },
    setTicketComposerMode(mode) {
        this.ticketNotes.mode = mode;
    },
    async loadThread() {
        const result = await super.loadThread(...arguments);
        await this.loadTicketNotes();
        return result;
    },
    async loadTicketNotes() {
        const ticketId = this.props.record.resId;
        if (!ticketId) {
            Object.assign(this.ticketNotes, { loaded: [], thread: undefined });
            return;
        }
        if (this.ticketNotes.thread?.id !== ticketId) {
            this.ticketNotes.thread = this.store.Thread.insert({
                model: "im_livechat.ticket",
                id: ticketId,
            });
        }
        let result;
        try {
            result = await rpc(
                "/im_livechat_ticket/notes",
                { ticket_id: ticketId },
                { silent: true }
            );
        } catch {
            return; // not an agent, or offline: the conversation shows without notes
        }
        const { data, messages } = result;
        if (ticketId !== this.props.record.resId) {
            return;
        }
        this.store.insert(data, { html: true });
        this.ticketNotes.loaded = this.store.Message.insert(messages);
    },
    onTicketNotePosted() {
        this.state.jumpThreadPresent++;
    },
});

patch(Thread.prototype, {
    setup() {
        super.setup(...arguments);
        if (this.env.imLivechatTicketNotes) {
            this.ticketNotesObserved = useState(this.env.imLivechatTicketNotes.state);
        }
    },
    /** The conversation of a ticket's form shows the ticket's notes among its messages. */
    get orderedMessages() {
        const notes =
            this.env.imLivechatTicketNotes?.notesOf(this.props.thread, this.ticketNotesObserved) ||
            [];
        if (!notes.length) {
            return super.orderedMessages;
        }
        const messages = this.props.thread.nonEmptyMessages;
        // Notes older than the loaded messages wait until those load
        const oldest = this.props.thread.loadOlder ? messages[0]?.id || 0 : 0;
        // Message ids follow the time the messages were written.
        const merged = [...messages, ...notes.filter((note) => note.id > oldest)].sort(
            (a, b) => a.id - b.id
        );
        return this.props.order === "asc" ? merged : merged.reverse();
    },
    /** A note shown in the conversation it is not part of (its actions act on the ticket's chatter). */
    isForeignTicketNote(message) {
        return Boolean(message.isImLivechatTicketNote && message.thread?.notEq(this.props.thread));
    },
    isSquashed(msg, prevMsg) {
        if (this.isForeignTicketNote(msg) || (prevMsg && this.isForeignTicketNote(prevMsg))) {
            return false;
        }
        return super.isSquashed(...arguments);
    },
    getMessageClassName(message) {
        const className = super.getMessageClassName(...arguments);
        return this.isForeignTicketNote(message)
            ? `${className} o_im_livechat_ticket_note`.trim()
            : className;
    },
});

// the note composer: Discuss' own, on the ticket's thread
patch(TicketConversation, {
    components: { ...TicketConversation.components, Composer },
});
