import { _t } from "@web/core/l10n/translation";
import { rpc } from "@web/core/network/rpc";
import { debounce } from "@web/core/utils/timing";
import publicWidget from "@web/legacy/js/public/public_widget";

/**
 * Bus notifications after which the customer's ticket list and counter may
 * have changed: a ticket's events (sent to the customer's partner), a new
 * message in one of their conversations, and their own read markers (sent
 * when they read a conversation in another tab).
 */
const TICKET_EVENTS = [
    "im_livechat.ticket/created",
    "im_livechat.ticket/updated",
    "im_livechat.ticket/resolved",
    "discuss.channel/new_message",
];
const REFRESH_DELAY = 500;

const TicketBusListenerMixin = {
    /** Listen to the bus; `callback` runs (debounced) after relevant notifications. */
    _listenToTicketEvents(callback) {
        this.busService = this.bindService("bus_service");
        this._onTicketEvent = debounce(callback, REFRESH_DELAY);
        this._onRecordInsert = (payload) => {
            if (payload?.["discuss.channel.member"]) {
                this._onTicketEvent();
            }
        };
        for (const type of TICKET_EVENTS) {
            this.busService.subscribe(type, this._onTicketEvent);
        }
        this.busService.subscribe("mail.record/insert", this._onRecordInsert);
        // the websocket follows the user's conversations and partner
        this.busService.start();
    },
    _stopListeningToTicketEvents() {
        if (!this.busService) {
            return;
        }
        for (const type of TICKET_EVENTS) {
            this.busService.unsubscribe(type, this._onTicketEvent);
        }
        this.busService.unsubscribe("mail.record/insert", this._onRecordInsert);
        this._onTicketEvent.cancel();
    },
    destroy() {
        this._stopListeningToTicketEvents();
        this._super(...arguments);
    },
};

/** /my/tickets: fetch the list again (same filters, sorting and page) when it may have changed. */
publicWidget.registry.ImLivechatTicketLiveList = publicWidget.Widget.extend(
    TicketBusListenerMixin,
    {
        selector: ".o_im_livechat_ticket_list",

        start() {
            this._listenToTicketEvents(() => this._refresh());
            return this._super(...arguments);
        },

        async _refresh() {
            const response = await fetch(window.location.href, {
                headers: { Accept: "text/html" },
            });
            if (!response.ok || !this.el) {
                return;
            }
            const doc = new DOMParser().parseFromString(await response.text(), "text/html");
            const fresh = doc.querySelector(".o_im_livechat_ticket_list");
            if (fresh) {
                this.el.replaceChildren(
                    ...[...fresh.childNodes].map((node) => document.importNode(node, true))
                );
            }
        },
    }
);

/**
 * /my: the unread messages of the user's tickets, on the Support Tickets
 * entry, kept up to date (and the entry's document counter, when shown).
 */
publicWidget.registry.ImLivechatTicketLiveCounter = publicWidget.Widget.extend(
    TicketBusListenerMixin,
    {
        selector: ".o_portal_my_home",

        start() {
            this.unreadEl = this.el.querySelector(".o_im_livechat_ticket_home_unread");
            if (this.unreadEl) {
                this._refresh();
                this._listenToTicketEvents(() => this._refresh());
            }
            return this._super(...arguments);
        },

        async _refresh() {
            const counters = ["ticket_unread_count"];
            const countEl = this.el?.querySelector("[data-placeholder_count='ticket_count']");
            if (countEl) {
                counters.push("ticket_count");
            }
            const values = await rpc("/my/counters", { counters });
            if (countEl && values.ticket_count !== undefined) {
                countEl.textContent = values.ticket_count;
            }
            const unread = values.ticket_unread_count || 0;
            if (this.unreadEl) {
                this.unreadEl.textContent = unread ? _t("%s unread", unread) : "";
                this.unreadEl.classList.toggle("d-none", !unread);
            }
        },
    }
);
