import { Store } from "@mail/core/common/store_service";
import { patch } from "@web/core/utils/patch";

function newClientKey() {
    // randomUUID needs a secure context (https or localhost)
    return (
        globalThis.crypto?.randomUUID?.() ??
        `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}-${Math.random().toString(36).slice(2)}`
    );
}

/**
 * Every post to a ticket's conversation (`isImLivechatTicket`, set where a
 * ticket shows it) carries a key made once per message. Odoo's "failed,
 * retry" re-sends the same parameters, so a retry after a lost response
 * returns the stored message instead of storing it twice (see
 * discuss.channel.message_post).
 */
patch(Store.prototype, {
    async getMessagePostParams({ thread }) {
        if (!thread?.isImLivechatTicket) {
            return super.getMessagePostParams(...arguments);
        }
        const params = await super.getMessagePostParams(...arguments);
        params.post_data.ticket_client_key = newClientKey();
        return params;
    },
});
