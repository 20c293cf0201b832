import { reactive } from "@odoo/owl";

import { browser } from "@web/core/browser/browser";
import { registry } from "@web/core/registry";
import { user } from "@web/core/user";

/** Bus notification with the agents who have a ticket open (im_livechat_ticket_presence.py). */
export const VIEWERS_EVENT = "im_livechat.ticket/viewers";
/** A ticket's list that no event refreshed for this long is forgotten (a closed tab). */
export const VIEWERS_EXPIRY = 60000;
const CLOCK_TICK = 10000;

/**
 * Who has which ticket open now, for the queue's cards and the ticket's form:
 * a first picture from the server (`get_ticket_viewers`), then the
 * `im_livechat.ticket/viewers` events of the agents' group. A list no event
 * refreshed for `VIEWERS_EXPIRY` is dropped, so a form closed without a
 * goodbye disappears within a minute.
 */
export const ticketViewersService = {
    dependencies: ["bus_service", "orm"],
    start(env, { bus_service: busService, orm }) {
        const state = reactive({
            /** @type {Object<number, {viewers: Object[], at: number}>} */
            tickets: {},
            now: Date.now(),
        });
        let loading;
        let clock;

        function set(ticketId, viewers) {
            state.tickets[ticketId] = { viewers, at: Date.now() };
        }

        function load() {
            loading ??= orm.silent
                .call("im_livechat.ticket", "get_ticket_viewers", [])
                .then((byTicket) => {
                    for (const [ticketId, viewers] of Object.entries(byTicket)) {
                        set(Number(ticketId), viewers);
                    }
                })
                .catch(() => {
                    loading = undefined;
                });
            clock ??= browser.setInterval(() => (state.now = Date.now()), CLOCK_TICK);
            return loading;
        }

        busService.subscribe(VIEWERS_EVENT, (payload) => {
            if (payload?.id) {
                set(payload.id, payload.viewers || []);
            }
        });
        // what changed while the socket was away
        busService.addEventListener("reconnect", () => {
            if (loading) {
                loading = undefined;
                load();
            }
        });

        /**
         * The other agents who have `ticketId` open now.
         *
         * @param {number} ticketId
         * @param {Object} [observed] the component's `useState` of `state`,
         *   so that it renders again when the answer changes
         */
        function othersOf(ticketId, observed = state) {
            const entry = observed.tickets[ticketId];
            if (!entry || observed.now - entry.at > VIEWERS_EXPIRY) {
                return [];
            }
            return entry.viewers.filter((viewer) => viewer.user_id !== user.userId);
        }

        return { state, load, set, othersOf };
    },
};

registry.category("services").add("im_livechat_ticket.viewers", ticketViewersService);
