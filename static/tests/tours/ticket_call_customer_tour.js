import { registry } from "@web/core/registry";

// Driven by tests/test_call_tours.py: two browsers with fake camera and
// microphone, the agent's and the customer's, on one ticket.
const CALL = ".o_im_livechat_ticket_call";
const CHAT = ".o_im_livechat_ticket_chat";
const WAIT = 60000;

/** Accept to connected media, logged for the test's report. */
let acceptedAt = 0;

/** The test saves a screenshot under this name (the page's width tells which). */
function screenshotName() {
    return window.innerWidth < 576 ? "customer-ticket-call-phone" : "customer-ticket-call";
}

const muteSteps = [
    {
        content: "Mute",
        trigger: `${CALL}_mic[aria-pressed=false]`,
        run: "click",
    },
    {
        content: "Muted",
        trigger: `${CALL}_mic[aria-pressed=true]`,
    },
];

const connectedAndHangUpSteps = ({ withMute = true } = {}) => [
    {
        content: "Both sides' peer connection is connected",
        trigger: `${CALL}_active[data-peer-state=connected]`,
        timeout: WAIT,
        run() {
            if (acceptedAt) {
                const elapsed = Math.round(performance.now() - acceptedAt);
                // the test reads this line in the browser console
                // eslint-disable-next-line no-console
                console.log(`ticket call: accept to connected media in ${elapsed} ms`);
            }
        },
    },
    {
        content: "The call shows the agent, one's own preview and the call's length",
        trigger: `${CALL}_active:has(.o-discuss-CallParticipantCard) ${CALL}_duration`,
    },
    {
        content: "The agent's camera shows live",
        trigger: `${CALL}_active .o-discuss-CallParticipantCard video`,
        timeout: WAIT,
        run() {
            const [track] = this.anchor.srcObject?.getVideoTracks() || [];
            if (track?.readyState !== "live") {
                throw new Error("The agent's video is not live");
            }
        },
    },
    {
        content: "Turn the camera on",
        trigger: `${CALL}_camera[aria-pressed=false]`,
        run: "click",
    },
    {
        content: "The camera is on",
        trigger: `${CALL}_camera[aria-pressed=true]`,
        timeout: WAIT,
    },
    {
        content: "Screenshot of the call (README)",
        trigger: `${CALL}_active`,
        async run() {
            // the test reads this line in the browser console
            // eslint-disable-next-line no-console
            console.log(`ticket call: screenshot ${screenshotName()}`);
            await new Promise((resolve) => setTimeout(resolve, 1500));
        },
    },
    ...(withMute ? muteSteps : []),
    {
        content: "Hang up from the page",
        trigger: `${CALL}_hangup:enabled`,
        run: "click",
    },
    {
        content: "The call is over",
        trigger: `${CHAT}:not(:has(${CALL}_active))`,
        timeout: WAIT,
    },
    {
        content: "The conversation says so",
        trigger: `${CHAT} .o-mail-NotificationMessage:contains(Call ended)`,
        timeout: WAIT,
    },
];

registry.category("web_tour.tours").add("ticket_call_customer_answers_tour", {
    steps: () => [
        {
            content: "The agent's call rings on the ticket page",
            trigger: `${CALL}_incoming[role=alertdialog]:contains(Incoming call)`,
            timeout: WAIT,
        },
        {
            content: "Screen readers hear it",
            trigger: `${CHAT}_announcer:contains(is calling you)`,
        },
        {
            content: "Accept has the focus (Enter answers)",
            trigger: `${CALL}_accept`,
            run() {
                if (document.activeElement !== this.anchor) {
                    throw new Error("Accept does not have the focus");
                }
            },
        },
        {
            content: "Odoo's popup leaves it to the page",
            trigger: "body:not(:has(.o-discuss-CallInvitation))",
        },
        {
            content: "Accept",
            trigger: `${CALL}_accept:enabled`,
            run(helpers) {
                acceptedAt = performance.now();
                return helpers.click();
            },
        },
        ...connectedAndHangUpSteps(),
    ],
});

registry.category("web_tour.tours").add("ticket_call_customer_calls_tour", {
    steps: () => [
        {
            content: "The team takes calls: the page offers a Call button",
            trigger: `${CHAT} .o_im_livechat_ticket_call_start:enabled`,
            timeout: WAIT,
            run: "click",
        },
        {
            content: "Ringing the agent (who may answer at once)",
            trigger: `${CALL}_active:contains(Ringing the agent), ${CALL}_active[data-peer-state]`,
            timeout: WAIT,
            run() {
                acceptedAt = 0;
            },
        },
        ...connectedAndHangUpSteps(),
    ],
});

// The same call on a ticket no agent has taken: the team's online agents
// are rung, one answers from the ring (the mute button is the other tours').
registry.category("web_tour.tours").add("ticket_call_customer_calls_team_tour", {
    steps: () => [
        ...registry
            .category("web_tour.tours")
            .get("ticket_call_customer_calls_tour")
            .steps()
            .slice(0, 2),
        ...connectedAndHangUpSteps({ withMute: false }),
    ],
});
