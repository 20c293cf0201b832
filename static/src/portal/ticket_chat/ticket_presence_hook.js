import { AWAY_DELAY, imStatusService } from "@bus/im_status_service";

import { onWillUnmount } from "@odoo/owl";

import { useService } from "@web/core/utils/hooks";
import { patch } from "@web/core/utils/patch";

/** The started presence service: Odoo's `start` keeps `updateBusPresence` on it and returns nothing. */
let imStatus;

// Deliberately on every page: it only keeps the started service within reach, it changes nothing.
patch(imStatusService, {
    start() {
        imStatus = this;
        return super.start(...arguments);
    },
});

/**
 * The presence of the customer while their ticket page is open: Odoo's own
 * `update_presence`, sent when it is due. Used by the ticket's chat only, so
 * the website's other pages keep Odoo's presence as it is.
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
 * partner (`store.self`). Leaving still works as in Odoo: the websocket
 * closes with the last page using it and the server marks the user
 * offline; inactive pages turn "away" after Odoo's delay.
 */
export function useTicketPresence() {
    const busService = useService("bus_service");
    const presence = useService("presence");
    const store = useService("mail.store");
    const updatePresence = () => imStatus?.updateBusPresence();
    const onImStatusUpdated = ({ partner_id, im_status }) => {
        const self = store.self;
        if (!partner_id || self?.type !== "partner" || self.id !== partner_id) {
            return;
        }
        const isActive = presence.getInactivityPeriod() < AWAY_DELAY;
        if (im_status === "offline" || (im_status === "away" && isActive)) {
            updatePresence();
        }
    };
    busService.addEventListener("reconnect", updatePresence);
    busService.subscribe("bus.bus/im_status_updated", onImStatusUpdated);
    onWillUnmount(() => {
        busService.removeEventListener("reconnect", updatePresence);
        busService.unsubscribe("bus.bus/im_status_updated", onImStatusUpdated);
    });
}
