import { registry } from "@web/core/registry";

/**
 * A duplicate ticket was merged into a ticket whose conversation this client
 * may show (the agent's form, the customer's page, Discuss): its messages
 * moved in among the older ones, which Discuss does not fetch again for a
 * loaded conversation. On `im_livechat.ticket/merged`, sent to the kept
 * conversation's channel, a loaded thread is fetched again.
 */
export const ticketMergeService = {
    dependencies: ["bus_service", "mail.store"],
    start(env, { bus_service: busService, "mail.store": store }) {
        busService.subscribe("im_livechat.ticket/merged", ({ channel_id }) => {
            const thread = store.Thread.get({ model: "discuss.channel", id: channel_id });
            if (!thread?.isLoaded || thread.status === "loading") {
                return;
            }
            thread.messages = [];
            thread.isLoaded = false;
            thread.fetchNewMessages();
        });
    },
};

registry.category("services").add("im_livechat_ticket.ticket_merge", ticketMergeService);
