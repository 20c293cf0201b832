// Loaded first: this patch must wrap the live chat visitor's one.
import "@im_livechat/embed/common/thread_model_patch";
import { SESSION_STATE } from "@im_livechat/embed/common/livechat_service";

import { Thread } from "@mail/core/common/thread_model";

import { toRaw } from "@odoo/owl";

import { patch } from "@web/core/utils/patch";

/**
 * The website's live chat code (`im_livechat/static/src/embed`, part of the
 * frontend bundle) treats every "livechat" conversation of the page as the
 * anonymous visitor's session: posting or uploading first "persists" that
 * session, which creates a new live chat. A ticket's conversation is a live
 * chat too, but one the customer is already a member of. While `callback`
 * runs (synchronously: the visitor code only checks its state before its
 * first `await`), the visitor's service sees `thread` as its persisted
 * session, then gets its own state back. Nothing observes the change: it is
 * made on the raw service.
 *
 * @param {import("models").Thread} thread a ticket's conversation
 * @param {Function} callback
 */
export function withTicketSession(thread, callback) {
    const livechat = toRaw(thread.store.env.services["im_livechat.livechat"]);
    if (!livechat) {
        return callback();
    }
    const saved = { state: livechat.state, thread: livechat.thread };
    livechat.state = SESSION_STATE.PERSISTED;
    livechat.thread = toRaw(thread);
    try {
        return callback();
    } finally {
        Object.assign(livechat, saved);
    }
}

// `isImLivechatTicket`: see common/thread_model_patch.js
patch(Thread.prototype, {
    get hasWelcomeMessage() {
        // the visitor's welcome text belongs to the live chat button
        return !this.isImLivechatTicket && super.hasWelcomeMessage;
    },
    post() {
        if (!this.isImLivechatTicket) {
            return super.post(...arguments);
        }
        return withTicketSession(this, () => super.post(...arguments));
    },
});
