import { inputFiles } from "@web/../tests/utils";
import { registry } from "@web/core/registry";

// Driven by tests/test_portal_chat_tour.py, whose scripted agent answers in
// a background thread: the texts below are shared with it.
const CHAT = ".o_im_livechat_ticket_chat";
const FIRST_MESSAGE = "My e-bike battery does not charge.";
const PHOTO_TEXT = "Here is a photo of the charger";
const AGENT_REPLY = "Thanks, the charger looks fine";
const SOLVED_TEXT = "It charges again, thank you!";
const PING_TEXT = "Ping before going offline";
const AWAY_REPLY = "Posted while you were away";
const ONLINE_REPLY = "I can see that you are online";

/** A small PNG picture. */
async function makePng() {
    const canvas = document.createElement("canvas");
    canvas.width = 48;
    canvas.height = 32;
    const context = canvas.getContext("2d");
    context.fillStyle = "#1e78c8";
    context.fillRect(0, 0, canvas.width, canvas.height);
    return new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
}

function messagesWith(text) {
    return [...document.querySelectorAll(`${CHAT} .o-mail-Message`)].filter((el) =>
        el.querySelector(".o-mail-Message-body")?.textContent.includes(text)
    );
}

function assertShownOnce(text) {
    const count = messagesWith(text).length;
    if (count !== 1) {
        throw new Error(`"${text}" is shown ${count} times, expected once.`);
    }
}

/** Type `text` in the live composer and send it with the send button. */
function sendMessageSteps(text) {
    return [
        {
            content: `Type "${text}"`,
            trigger: `${CHAT} .o-mail-Composer-input`,
            run: `edit ${text}`,
        },
        {
            content: "Send it",
            trigger: `${CHAT} .o-mail-Composer-send:enabled`,
            run: "click",
        },
        {
            content: "It shows as the customer's own message",
            trigger: `${CHAT} .o-mail-Message.o-selfAuthored .o-mail-Message-body:contains(${text})`,
        },
    ];
}

const chatLoadedSteps = () => [
    {
        content: "The live chat replaces the server-rendered history",
        trigger: `${CHAT} .o-mail-Message.o_im_livechat_ticket_message_own:contains(${FIRST_MESSAGE})`,
    },
    {
        content: "The server-rendered history is hidden",
        trigger: ".o_im_livechat_ticket_history:not(:visible)",
    },
    {
        content: "A live region for incoming messages, the composer has a label",
        trigger: `${CHAT} .o_im_livechat_ticket_chat_announcer[role=status][aria-live=polite]`,
        run() {
            const input = document.querySelector(`${CHAT} .o-mail-Composer-input`);
            if (!input?.getAttribute("aria-label")) {
                throw new Error("The composer's text area has no label.");
            }
        },
    },
];

registry.category("web_tour.tours").add("im_livechat_ticket_portal_chat_tour", {
    steps: () => [
        ...chatLoadedSteps(),
        {
            content: "Type a message",
            trigger: `${CHAT} .o-mail-Composer-input`,
            run: `edit ${PHOTO_TEXT}`,
        },
        {
            content: "Attach a picture with the composer's upload button",
            trigger: `${CHAT} .o-mail-Composer button[aria-label='Attach files']`,
            async run() {
                await inputFiles(`${CHAT} .o-mail-Composer-coreMain .o_input_file`, [
                    new File([await makePng()], "charger.png", { type: "image/png" }),
                ]);
            },
        },
        {
            content: "The picture is uploaded and previewed in the composer",
            trigger: `${CHAT} .o-mail-Composer .o-mail-AttachmentImage[title='charger.png']:not(.o-isUploading)`,
        },
        {
            content: "Send the message with its picture",
            trigger: `${CHAT} .o-mail-Composer-send:enabled`,
            run: "click",
        },
        {
            content: "The message and its picture show as the customer's own",
            trigger: `${CHAT} .o-mail-Message.o-selfAuthored:contains(${PHOTO_TEXT}) .o-mail-AttachmentImage[title='charger.png'] img`,
        },
        {
            content: "The agent's reply arrives without reloading the page",
            trigger: `${CHAT} .o-mail-Message:not(.o-selfAuthored):contains(${AGENT_REPLY})`,
            timeout: 30000,
            run() {
                assertShownOnce(PHOTO_TEXT);
                assertShownOnce(AGENT_REPLY);
                if (!this.anchor.querySelector(".o-mail-Message-author")?.textContent.trim()) {
                    throw new Error("The agent's message has no author name.");
                }
            },
        },
        {
            content: "Open the picture",
            trigger: `${CHAT} .o-mail-Message.o-selfAuthored .o-mail-AttachmentImage[title='charger.png'] img`,
            run: "click",
        },
        {
            content: "The file viewer shows it",
            trigger: ".o-FileViewer img.o-FileViewer-viewImage",
        },
        {
            content: "Zoom in",
            trigger: ".o-FileViewer .o-FileViewer-toolbarButton[title='Zoom In (+)']",
            run: "click",
        },
        {
            content: "The picture is zoomed",
            trigger:
                ".o-FileViewer .o-FileViewer-toolbarButton[title='Reset Zoom (0)']:not(.o_disabled)",
        },
        {
            content: "Close the file viewer",
            trigger: ".o-FileViewer [aria-label='Close']",
            run: "click",
        },
        {
            content: "The file viewer is closed",
            trigger: "body:not(:has(.o-FileViewer))",
        },
        // the agent resolves the ticket once this message is in
        ...sendMessageSteps(SOLVED_TEXT),
        {
            content: "Resolved while the page is open: the notice replaces the composer",
            trigger: ".o_im_livechat_ticket_resolved:contains(This ticket was resolved.)",
            timeout: 30000,
        },
        {
            content: "No composer any more",
            trigger: `${CHAT}:not(:has(.o-mail-Composer))`,
        },
        {
            content: "The customer may reopen the ticket and rate the help",
            trigger:
                ".o_im_livechat_ticket_resolved:has(.o_im_livechat_ticket_reopen):has(.o_im_livechat_ticket_rating_form)",
        },
        {
            content: "The header shows the new state",
            trigger:
                ".o_im_livechat_ticket_header .o_im_livechat_ticket_state[data-state=resolved]",
        },
    ],
});

registry.category("web_tour.tours").add("im_livechat_ticket_portal_chat_catchup_tour", {
    steps: () => [
        ...chatLoadedSteps(),
        // the agent then posts while this page gets no notification of it,
        // and starts typing (a notification the page does get)
        ...sendMessageSteps(PING_TEXT),
        {
            content: "The agent is typing",
            trigger: `${CHAT} .o-discuss-Typing:contains(is typing)`,
            timeout: 30000,
            run() {
                if (messagesWith(AWAY_REPLY).length) {
                    throw new Error("The agent's message arrived before the connection dropped.");
                }
                // the browser goes offline: the bus worker closes its websocket
                window.dispatchEvent(new Event("offline"));
            },
        },
        {
            content: "The page says the connection is lost",
            trigger: `${CHAT} .o_im_livechat_ticket_chat_offline`,
            run() {
                // back online: the bus worker opens a new websocket
                window.dispatchEvent(new Event("online"));
            },
        },
        {
            content: "The agent's message posted meanwhile shows after reconnecting",
            trigger: `${CHAT} .o-mail-Message:not(.o-selfAuthored):contains(${AWAY_REPLY})`,
        },
        {
            content: "Connected again",
            trigger: `${CHAT}:not(:has(.o_im_livechat_ticket_chat_offline))`,
        },
        {
            content: "Every message shows exactly once",
            trigger: `${CHAT} .o-mail-Message:contains(${AWAY_REPLY})`,
            run() {
                for (const text of [FIRST_MESSAGE, PING_TEXT, AWAY_REPLY]) {
                    assertShownOnce(text);
                }
            },
        },
    ],
});

// The test's agent answers once Odoo has the customer online.
registry.category("web_tour.tours").add("im_livechat_ticket_portal_presence_tour", {
    steps: () => [
        ...chatLoadedSteps(),
        {
            content: "The agent sees the customer online while the page is open, and says so",
            trigger: `${CHAT} .o-mail-Message:not(.o-selfAuthored):contains(${ONLINE_REPLY})`,
            timeout: 30000,
        },
    ],
});
