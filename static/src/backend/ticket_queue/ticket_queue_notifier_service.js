import { reactive } from "@odoo/owl";

import { browser } from "@web/core/browser/browser";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { user } from "@web/core/user";

export const NOTIFY_STORAGE_KEY = "im_livechat_ticket.notify_new_tickets";

/**
 * Opt-in alerts for new tickets, per browser: when enabled (the bell of the
 * queue's dashboard), an `im_livechat.ticket/created` event for a ticket that
 * waits for an agent or is assigned to the current user shows a toast, plays
 * a short sound and, when the browser allows it, a system notification.
 *
 * Works on every backend page, not only on the queue. Only the main tab
 * plays the sound and shows the system notification; every tab shows the
 * toast.
 *
 * A customer's call on a ticket nobody has taken rings every online agent of
 * the team, whatever that setting: *Answer* takes the ticket and joins the call.
 */
export const ticketQueueNotifierService = {
    dependencies: [
        "action",
        "bus_service",
        "mail.notification.permission",
        "mail.sound_effects",
        "multi_tab",
        "notification",
        "orm",
    ],

    start(env, services) {
        const {
            action,
            bus_service: busService,
            "mail.notification.permission": permission,
            "mail.sound_effects": soundEffects,
            multi_tab: multiTab,
            notification,
            orm,
        } = services;
        const state = reactive({
            enabled: browser.localStorage.getItem(NOTIFY_STORAGE_KEY) === "1",
        });

        function openTicket(ticketId) {
            action.doAction({
                type: "ir.actions.act_window",
                res_model: "im_livechat.ticket",
                res_id: ticketId,
                views: [[false, "form"]],
            });
        }

        function notify(ticket) {
            const title = ticket.user_id
                ? _t("New ticket for you")
                : _t("New ticket waiting for an agent");
            const message = `${ticket.reference} ${ticket.name}`;
            const close = notification.add(message, {
                title,
                type: "info",
                buttons: [
                    {
                        // a verb here: "Open" alone is the state's label
                        name: _t("Open ticket"),
                        primary: true,
                        onClick: () => {
                            close();
                            openTicket(ticket.id);
                        },
                    },
                ],
            });
            if (!multiTab.isOnMainTab()) {
                return;
            }
            soundEffects.play("new-message");
            if (permission.permission === "granted" && browser.Notification) {
                try {
                    const systemNotification = new browser.Notification(title, {
                        body: message,
                        icon: "/im_livechat/static/description/icon.png",
                        tag: `im_livechat_ticket_${ticket.id}`,
                    });
                    systemNotification.addEventListener("click", () => {
                        window.focus();
                        systemNotification.close();
                        openTicket(ticket.id);
                    });
                } catch {
                    // e.g. Chrome on Android needs a service worker: the toast is enough
                }
            }
        }

        // customers' calls on tickets nobody has taken: ticket id -> {close, stopSound}
        const rings = new Map();

        function stopRinging(ticketId) {
            const ring = rings.get(ticketId);
            if (ring) {
                rings.delete(ticketId);
                ring.stopSound?.();
                ring.close();
            }
        }

        async function answer(ticketId) {
            stopRinging(ticketId);
            const result = await orm.call("im_livechat.ticket", "action_answer_call", [[ticketId]]);
            await action.doAction(result);
        }

        busService.subscribe("im_livechat.ticket/call_ringing", (ticket) => {
            stopRinging(ticket.id);
            const close = notification.add(`${ticket.reference} ${ticket.name}`, {
                title: _t("%(caller)s is calling", { caller: ticket.caller }),
                type: "warning",
                sticky: true,
                buttons: [
                    { name: _t("Answer"), primary: true, onClick: () => answer(ticket.id) },
                    { name: _t("Ignore"), onClick: () => stopRinging(ticket.id) },
                ],
                onClose: () => stopRinging(ticket.id),
            });
            let stopSound;
            if (multiTab.isOnMainTab()) {
                soundEffects.play("incoming-call", { loop: true });
                stopSound = () => soundEffects.stop("incoming-call");
            }
            rings.set(ticket.id, { close, stopSound });
        });
        busService.subscribe("im_livechat.ticket/call_ring_ended", ({ id }) => stopRinging(id));
        // another agent answered (took the ticket)
        busService.subscribe("im_livechat.ticket/updated", (ticket) => {
            if (ticket.user_id) {
                stopRinging(ticket.id);
            }
            // the server leaves resolved tickets' conversations out of agents'
            // subscriptions (models/ir_websocket.py): listen to this one again
            if (ticket.reopened) {
                busService.forceUpdateChannels();
            }
        });

        busService.subscribe("im_livechat.ticket/created", (ticket) => {
            if (!state.enabled || (ticket.user_id && ticket.user_id !== user.userId)) {
                return;
            }
            notify(ticket);
        });

        return {
            state,
            async toggle() {
                state.enabled = !state.enabled;
                browser.localStorage.setItem(NOTIFY_STORAGE_KEY, state.enabled ? "1" : "0");
                if (state.enabled && permission.permission === "prompt") {
                    await permission.requestPermission();
                }
            },
        };
    },
};

registry.category("services").add("im_livechat_ticket.queue_notifier", ticketQueueNotifierService);
