import { onMounted, onWillUnmount, status, useComponent, useState } from "@odoo/owl";

import { browser } from "@web/core/browser/browser";
import { KeepLast } from "@web/core/utils/concurrency";
import { useService } from "@web/core/utils/hooks";
import { useDebounced } from "@web/core/utils/timing";

/** Domain events of tickets (see design.md), each one reloads the queue. */
export const TICKET_EVENTS = [
    "im_livechat.ticket/created",
    "im_livechat.ticket/updated",
    "im_livechat.ticket/resolved",
];
export const RELOAD_DELAY = 300;
/** While the user edits or selects rows, a reload waits this long and retries. */
const BUSY_RETRY_DELAY = 1000;

/**
 * Keeps a ticket view (kanban or list controller) live: reloads its records
 * when a ticket event arrives on the bus, or when a message is posted in the
 * conversation of a ticket on screen (unread counters), and keeps the
 * dashboard counts (`get_queue_dashboard`) fresh.
 *
 * Bursts of events are debounced into a single reload. A reload never
 * interrupts the user: while a row is edited or rows are selected it waits.
 *
 * Must be called from the setup of a controller that has `this.model`
 * (a RelationalModel) once `super.setup()` ran; the controller calls
 * `refreshCounts` whenever its model loaded (`onRootLoaded` hook), so that
 * the counts follow searches, button actions and live reloads alike.
 *
 * @param {Object} [options]
 * @param {boolean} [options.dashboard] whether to fetch the dashboard counts
 */
export function useTicketQueue({ dashboard = false } = {}) {
    const component = useComponent();
    const busService = useService("bus_service");
    const orm = useService("orm");
    const state = useState({
        /** @type {Object<string, number>|undefined} */
        counts: undefined,
    });
    const countsKeepLast = new KeepLast();
    let retryTimeout;

    function isBusy() {
        const root = component.model.root;
        return Boolean(root.editedRecord || root.selection?.length);
    }

    async function refreshCounts() {
        if (!dashboard) {
            return;
        }
        const counts = await countsKeepLast.add(
            orm.silent.call("im_livechat.ticket", "get_queue_dashboard", [])
        );
        if (status(component) !== "destroyed") {
            state.counts = counts;
        }
    }

    async function reloadRecords() {
        browser.clearTimeout(retryTimeout);
        if (status(component) === "destroyed") {
            return;
        }
        if (isBusy()) {
            refreshCounts();
            retryTimeout = browser.setTimeout(reload, BUSY_RETRY_DELAY);
            return;
        }
        const model = component.model;
        if (model.useSampleModel) {
            // The view showed sample data for want of tickets: a real one came.
            model.useSampleModel = false;
            await model.load();
            model.notify();
        } else {
            await model.root.load();
        }
    }

    // the counts follow every load of the records (see onRootLoaded)
    const reload = useDebounced(reloadRecords, RELOAD_DELAY);

    function onTicketEvent() {
        reload();
    }

    function onNewMessage(payload) {
        // The agent's websocket gets the messages of the conversations the
        // agent is a member of: refresh when one is on screen (unread counts).
        const channelId = payload?.id;
        if (
            channelId &&
            !component.model.useSampleModel &&
            component.model.root.records.some((record) => record.data.channel_id?.[0] === channelId)
        ) {
            reload();
        }
    }

    onMounted(() => {
        for (const eventName of TICKET_EVENTS) {
            busService.subscribe(eventName, onTicketEvent);
        }
        busService.subscribe("discuss.channel/new_message", onNewMessage);
    });
    onWillUnmount(() => {
        browser.clearTimeout(retryTimeout);
        for (const eventName of TICKET_EVENTS) {
            busService.unsubscribe(eventName, onTicketEvent);
        }
        busService.unsubscribe("discuss.channel/new_message", onNewMessage);
    });

    return { state, refreshCounts, reload };
}
