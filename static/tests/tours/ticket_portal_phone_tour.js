import { registry } from "@web/core/registry";

// Driven by tests/test_portal_phone_tour.py, at 375x667 with touch: the
// texts below are shared with it (its scripted agent answers the message).
const CHAT = ".o_im_livechat_ticket_chat";
const ANNOUNCER = `${CHAT} .o_im_livechat_ticket_chat_announcer[role=status][aria-live=polite]`;
const SUBJECT = "Phone: the rear light is loose";
const FIRST_MESSAGE = "It rattles on every bump.";
const CUSTOMER_MESSAGE = "Sent from my phone with the Enter key";
const AGENT_REPLY = "A new clip is on its way";
const AGENT_NAME = "Alice Agent";

/** The page does not scroll sideways. */
function assertNoSidewaysScroll(page) {
    const overflow = document.documentElement.scrollWidth - window.innerWidth;
    if (overflow > 0) {
        throw new Error(
            `${page}: ${overflow}px wider than the screen (${window.innerWidth}px), it scrolls sideways.`
        );
    }
}

/** What a screen reader says a form field is: aria-label(ledby), its label, its title. */
function accessibleName(field) {
    const labelledBy = (field.getAttribute("aria-labelledby") || "")
        .split(/\s+/)
        .map((id) => id && document.getElementById(id)?.textContent)
        .join(" ");
    const labels = [...(field.labels || [])].map((label) => label.textContent).join(" ");
    return [field.getAttribute("aria-label"), labelledBy, labels, field.getAttribute("title")]
        .join(" ")
        .trim();
}

/** Every field a screen reader reaches (not hidden from it) has a name. */
function assertFieldsLabelled(page) {
    const fields = [...document.querySelectorAll("input, textarea, select")].filter(
        (field) =>
            field.type !== "hidden" &&
            field.checkVisibility({ visibilityProperty: true }) &&
            !field.closest("[aria-hidden=true]")
    );
    if (!fields.length) {
        return;
    }
    const unnamed = fields.filter((field) => !accessibleName(field));
    if (unnamed.length) {
        const names = unnamed.map((field) => field.outerHTML.slice(0, 120)).join("\n");
        throw new Error(`${page}: fields without an accessible name:\n${names}`);
    }
}

/** Every picture has a text for screen readers (empty for decoration). */
function assertImagesHaveAlt(page) {
    const bare = [...document.querySelectorAll("img:not([alt])")].filter((img) =>
        img.checkVisibility()
    );
    if (bare.length) {
        const names = bare.map((img) => img.outerHTML.slice(0, 120)).join("\n");
        throw new Error(`${page}: pictures without alt text:\n${names}`);
    }
}

/** `el` is shown, inside the screen's width, and (`onScreen`) within its height. */
function assertShown(el, what, { onScreen = false } = {}) {
    const rect = el?.getBoundingClientRect();
    if (!rect || !rect.width || !rect.height) {
        throw new Error(`${what} is not shown.`);
    }
    if (rect.left < 0 || rect.right > window.innerWidth) {
        throw new Error(`${what} sticks out of the screen (${rect.left}..${rect.right}px).`);
    }
    if (onScreen && (rect.top < 0 || rect.bottom > window.innerHeight)) {
        throw new Error(`${what} is off the screen (${rect.top}..${rect.bottom}px).`);
    }
}

registry.category("web_tour.tours").add("im_livechat_ticket_portal_phone_tour", {
    steps: () => [
        {
            content: "The list shows reference, subject and status of each ticket",
            trigger: ".o_im_livechat_ticket_row",
            run() {
                assertNoSidewaysScroll("/my/tickets");
                assertFieldsLabelled("/my/tickets");
                assertImagesHaveAlt("/my/tickets");
                for (const selector of [
                    ".o_im_livechat_ticket_reference",
                    ".o_im_livechat_ticket_subject a",
                    ".o_im_livechat_ticket_state",
                ]) {
                    assertShown(this.anchor.querySelector(selector), selector);
                }
            },
        },
        {
            content: "Start a new ticket",
            trigger: "a.o_im_livechat_ticket_new_button",
            run: "click",
        },
        {
            content: "The form fits the screen, every field has a label",
            trigger: "form.o_im_livechat_ticket_new_form",
            run() {
                assertNoSidewaysScroll("/my/tickets/new");
                assertFieldsLabelled("/my/tickets/new");
            },
        },
        {
            content: "Type the subject",
            trigger: "form.o_im_livechat_ticket_new_form input[name=name]",
            run: `edit ${SUBJECT}`,
        },
        {
            content: "Describe the problem",
            trigger: "form.o_im_livechat_ticket_new_form textarea[name=message]",
            run: `edit ${FIRST_MESSAGE}`,
        },
        {
            content: "Send the ticket",
            trigger: "button.o_im_livechat_ticket_submit",
            run: "click",
        },
        {
            content: "The ticket's live chat shows the first message",
            trigger: `${CHAT} .o-mail-Message.o-selfAuthored:contains(${FIRST_MESSAGE})`,
        },
        {
            content: "The page fits the screen; the composer and its send button are on it",
            trigger: `${CHAT} .o-mail-Composer-input`,
            run() {
                assertNoSidewaysScroll("/my/tickets/<id>");
                assertFieldsLabelled("/my/tickets/<id>");
                assertShown(this.anchor, "The composer", { onScreen: true });
                const send = document.querySelector(`${CHAT} .o-mail-Composer-send`);
                assertShown(send, "The send button", { onScreen: true });
                if (!send.getAttribute("aria-label") && !send.getAttribute("title")) {
                    throw new Error("The send button has no accessible name.");
                }
            },
        },
        {
            content: "The page has a live region for incoming messages, still silent",
            trigger: ANNOUNCER,
            run() {
                if (this.anchor.textContent.trim()) {
                    throw new Error(`The live region already says "${this.anchor.textContent}".`);
                }
            },
        },
        {
            content: "Type a message",
            trigger: `${CHAT} .o-mail-Composer-input`,
            run: `edit ${CUSTOMER_MESSAGE}`,
        },
        {
            content: "Send it with the keyboard",
            trigger: `${CHAT} .o-mail-Composer-input`,
            async run(helpers) {
                if (this.anchor.value !== CUSTOMER_MESSAGE) {
                    throw new Error(`The composer holds "${this.anchor.value}".`);
                }
                this.anchor.focus();
                await helpers.press("Enter");
            },
        },
        {
            content: "It shows as the customer's own message, and is not read out",
            trigger: `${CHAT} .o-mail-Message.o-selfAuthored:contains(${CUSTOMER_MESSAGE})`,
            run() {
                const said = document.querySelector(ANNOUNCER).textContent;
                if (said.includes(CUSTOMER_MESSAGE)) {
                    throw new Error("The customer's own message was read out.");
                }
            },
        },
        {
            // the test's agent answers once the message above is stored
            content: "The agent's reply arrives and is read out: author and text",
            trigger: `${ANNOUNCER}:contains(${AGENT_NAME}):contains(${AGENT_REPLY})`,
            timeout: 30000,
        },
        {
            content: "The reply shows in the conversation; still nothing sideways",
            trigger: `${CHAT} .o-mail-Message:not(.o-selfAuthored):contains(${AGENT_REPLY})`,
            run() {
                assertNoSidewaysScroll("/my/tickets/<id> after the reply");
                assertImagesHaveAlt("/my/tickets/<id>");
            },
        },
    ],
});
