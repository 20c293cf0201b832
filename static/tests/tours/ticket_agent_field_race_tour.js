import { rpc } from "@web/core/network/rpc";
import { registry } from "@web/core/registry";

// Driven by tests/test_agent_field_tour.py.
const AGENT_FIELD = ".o_field_widget[name='user_id']";

/**
 * Bob opens a ticket assigned to Alice; meanwhile the ticket is reassigned to
 * him (another request, as from a second tab). The form still shows Alice;
 * Bob picks Martha and saves: the server refuses, the form says why.
 */
registry.category("web_tour.tours").add("im_livechat_ticket_agent_field_race_tour", {
    steps: () => [
        {
            content: "The form shows the agent it loaded",
            trigger: `${AGENT_FIELD} input:value(Alice Agent)`,
            async run() {
                const ticketId = Number(window.location.pathname.split("/").at(-1));
                await rpc("/web/dataset/call_kw/im_livechat.ticket/action_assign", {
                    model: "im_livechat.ticket",
                    method: "action_assign",
                    args: [[ticketId]],
                    kwargs: {},
                });
            },
        },
        {
            content: "Pick another agent in the stale form",
            trigger: `${AGENT_FIELD} input`,
            run: "edit Martha",
        },
        {
            content: "Martha is offered",
            trigger: ".o-autocomplete--dropdown-item a:contains(Martha Manager)",
            run: "click",
        },
        {
            content: "Save",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "The save is refused with the reason",
            trigger: ".modal:contains(was just assigned to Bob Agent)",
        },
        {
            content: "Close the message",
            trigger: ".modal .btn:contains(Close)",
            run: "click",
        },
        {
            content: "Discard the stale change",
            trigger: ".o_form_button_cancel",
            run: "click",
        },
        {
            content: "Reload the ticket, as the message says",
            trigger: `.o_form_saved ${AGENT_FIELD} input:value(Alice Agent)`,
            run() {
                window.location.reload();
            },
        },
        {
            content: "The form shows the agent who has the ticket now",
            trigger: `${AGENT_FIELD} input:value(Bob Agent)`,
        },
    ],
});
