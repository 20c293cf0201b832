import { AWAY_DELAY, imStatusService } from "@bus/im_status_service";

import { patch } from "@web/core/utils/patch";
import { session } from "@web/session";

/**
 * The presence of a signed-in user on the website's pages (a customer on
 * their ticket page): Odoo's own `update_presence`, sent when it is due.
 *
 * Odoo sends the presence once, on the bus worker's first "connect", and
 * again when the server says the user went offline, but only for the
 * `partner_id` of the web client's session. On the website neither
 * happens: each page joins the tab's shared bus worker, whose websocket is
 * already open or reopens ("reconnect"), while the server marks the user
 * offline as the previous page's websocket closes; and the frontend
 * session carries no `partner_id`. So a customer stayed offline for the
 * agent while their ticket page was open.
 *
 * Here the presence is also sent on every reconnection, and the server's
 * word about one's own presence is checked against the mail store's own
 * partner (`store.self`, the user's partner on a page that shows a chat).
 * Leaving still works as in Odoo: the websocket closes with the last page
 * using it and the server marks the user offline; inactive pages turn
 * "away" after Odoo's delay.
 */
patch(imStatusService, {
    start(env, services) {
        const api = super.start(...arguments);
        if (session.is_public) {
            return api; // visitors: the live chat's own guest presence
        }
        const { bus_service, presence } = services;
        bus_service.addEventListener("reconnect", () => this.updateBusPresence());
        bus_service.subscribe("bus.bus/im_status_updated", ({ partner_id, im_status }) => {
            const self = env.services["mail.store"]?.self;
            if (!partner_id || self?.type !== "partner" || self.id !== partner_id) {
                return;
            }
            const isActive = presence.getInactivityPeriod() < AWAY_DELAY;
            if (im_status === "offline" || (im_status === "away" && isActive)) {
                this.updateBusPresence();
            }
        });
        return api;
    },
});
