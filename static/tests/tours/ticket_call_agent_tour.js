import { registry } from "@web/core/registry";

import { CONVERSATION } from "./tour_helpers";

// Driven by tests/test_call_tours.py, beside the customer's browser.
const CALL_VIEW = `${CONVERSATION}_call_view`;
const WAIT = 60000;

const conversationLoadedStep = () => ({
    content: "The conversation is loaded",
    trigger: `${CONVERSATION} .o-mail-Composer-input`,
    timeout: WAIT,
});

const connectedUntilHungUpSteps = (screenshot) => [
    {
        content: "Media flows between the agent and the customer",
        trigger: `${CALL_VIEW}[data-ice-state=connected], ${CALL_VIEW}[data-ice-state=completed]`,
        timeout: WAIT,
    },
    {
        content: "The form shows the call as Discuss does",
        trigger: `${CALL_VIEW} .o-discuss-Call .o-discuss-CallParticipantCard`,
    },
    {
        content: "Turn the camera on",
        trigger: `${CALL_VIEW} .o-discuss-CallActionList button[title='Turn camera on']`,
        run: "click",
    },
    {
        content: "The customer's video shows in the form",
        trigger: `${CALL_VIEW} .o-discuss-CallParticipantCard video`,
        timeout: WAIT,
        async run() {
            // the test reads this line in the browser console
            // eslint-disable-next-line no-console
            console.log(`ticket call: screenshot ${screenshot}`);
            await new Promise((resolve) => setTimeout(resolve, 1500));
        },
    },
    {
        content: "The customer hangs up: the call ends here too",
        trigger: `${CONVERSATION}:not(:has(${CALL_VIEW}))`,
        timeout: WAIT,
    },
    {
        content: "The conversation says how long it took",
        trigger: `${CONVERSATION} .o-mail-NotificationMessage:contains(Call ended)`,
        timeout: WAIT,
    },
];

registry.category("web_tour.tours").add("ticket_call_agent_calls_tour", {
    steps: () => [
        conversationLoadedStep(),
        {
            content: "Call the customer from the conversation's header",
            trigger: `${CONVERSATION}_call:enabled:contains(Call)`,
            run: "click",
        },
        {
            content: "Calling",
            trigger: `${CONVERSATION}_call:contains(Hang up)`,
            timeout: WAIT,
        },
        ...connectedUntilHungUpSteps("agent-ticket-call"),
    ],
});

registry.category("web_tour.tours").add("ticket_call_agent_answers_tour", {
    steps: () => [
        conversationLoadedStep(),
        {
            content: "The customer's call rings for the agent",
            trigger: ".o-discuss-CallInvitation button[title=Accept]",
            timeout: WAIT,
            run: "click",
        },
        {
            content: "The form shows the call: no chat window on top of it",
            trigger: "body:not(:has(.o-mail-ChatWindow))",
        },
        ...connectedUntilHungUpSteps("agent-ticket-call-answered"),
    ],
});

registry.category("web_tour.tours").add("ticket_call_agent_answers_ring_tour", {
    steps: () => [
        {
            content: "The queue is loaded",
            trigger: ".o_kanban_view, .o_list_view",
            timeout: WAIT,
        },
        {
            content: "A customer's call on an unassigned ticket rings: answer it",
            trigger: ".o_notification:contains(is calling) button:contains(Answer)",
            timeout: WAIT,
            run: "click",
        },
        {
            content: "Answering opened the ticket's form, in the call",
            trigger: `.o_form_view ${CONVERSATION}_call:contains(Hang up)`,
            timeout: WAIT,
        },
        ...connectedUntilHungUpSteps("agent-ticket-call-ring"),
    ],
});
