import { registry } from "@web/core/registry";

import { CONVERSATION } from "./tour_helpers";

// Driven by tests/test_live_tours.py (test_agent_live_message_unread): a
// background thread posts the customer's message once the agent's websocket
// follows the conversation and the tour showed the waiting tickets, then its
// own open tickets again (it watches the queue's searches). The texts below
// are shared with it.
const LIVE_SUBJECT = "Live unread: the bell is mute";
const CUSTOMER_MESSAGE = "Tightened it, still no ring at all";

const CARD = `.o_kanban_record:contains(${LIVE_SUBJECT})`;
const DASHBOARD_CARD = ".o_im_livechat_ticket_dashboard_card";
const UNREAD_BADGE = "span.badge[title='Messages the agent has not read yet']";

/**
 * The agent looks at the queue, where their ticket has nothing unread; the
 * customer writes: the unread badge shows on its card without a reload. The
 * agent opens the ticket, reads the message in the conversation (clicks in
 * its reply box) and, back in the queue, the badge is gone.
 */
registry.category("web_tour.tours").add("im_livechat_ticket_agent_live_message_tour", {
    steps: () => [
        {
            content: "The queue shows the ticket; mark the page to tell a reload",
            trigger: `${CARD}:not(:has(${UNREAD_BADGE}))`,
            run() {
                document.body.classList.add("o_im_livechat_ticket_tour_no_reload");
            },
        },
        {
            content: "Show the tickets waiting for an agent",
            trigger: `${DASHBOARD_CARD}[data-card='waiting']`,
            run: "click",
        },
        {
            content: "The waiting tickets are shown",
            trigger: `${DASHBOARD_CARD}[data-card='waiting'].active`,
        },
        {
            // the test posts the customer's message once this search returned
            content: "Back to my open tickets",
            trigger: `${DASHBOARD_CARD}[data-card='my_open']`,
            run: "click",
        },
        {
            content: "My open tickets are shown again",
            trigger: `${DASHBOARD_CARD}[data-card='my_open'].active`,
        },
        {
            content: "The customer writes: the unread badge shows on the ticket's card",
            trigger: `${CARD} ${UNREAD_BADGE}:contains(1)`,
            timeout: 60000,
        },
        {
            content: "The page was not reloaded",
            trigger: `body.o_im_livechat_ticket_tour_no_reload ${CARD}`,
        },
        {
            content: "Open the ticket",
            trigger: CARD,
            run: "click",
        },
        {
            content: "The customer's message shows in the ticket's conversation",
            trigger: `${CONVERSATION} .o-mail-Message:contains(${CUSTOMER_MESSAGE})`,
        },
        {
            // Opening the form is not enough to mark the conversation read
            // (no mark_as_read call: the widget's composer has no autofocus);
            // as in Discuss' chat windows, focusing the reply box reads it.
            content: "Read the conversation: click in its reply box",
            trigger: `${CONVERSATION} .o-mail-Composer-input`,
            run: "click",
        },
        {
            content: "Back to the queue",
            trigger: ".o_breadcrumb a:contains(Tickets)",
            run: "click",
        },
        {
            content: "The ticket is back on screen",
            trigger: ".o_im_livechat_ticket_dashboard",
        },
        {
            content: "Read: the unread badge is gone",
            trigger: `${CARD}:not(:has(${UNREAD_BADGE}))`,
        },
    ],
});
