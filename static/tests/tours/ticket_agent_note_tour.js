import { registry } from "@web/core/registry";

import {
    CONVERSATION,
    CUSTOMER_MESSAGE,
    customerMessageShownStep,
    writeAndSendSteps,
} from "./tour_helpers";

const NOTE = "Internal: the charger was replaced last month";

/**
 * The assigned agent writes an internal note in the ticket form's
 * conversation: it shows among the messages, marked as internal; the other
 * agent who has the ticket open shows above the conversation.
 */
registry.category("web_tour.tours").add("im_livechat_ticket_note_tour", {
    steps: () => [
        customerMessageShownStep("The customer's message is shown"),
        {
            content: "The other agent who has the ticket open is shown",
            trigger: `${CONVERSATION} .o_im_livechat_ticket_collision .o_im_livechat_ticket_viewer:contains(Bob Agent)`,
        },
        {
            content: "Switch the composer to internal notes",
            trigger: `${CONVERSATION} .o_im_livechat_ticket_mode_note`,
            run: "click",
        },
        ...writeAndSendSteps(
            `${CONVERSATION} .o_im_livechat_ticket_note_composer .o-mail-Composer-input`,
            NOTE,
            "Write the note",
            "Log it with Enter"
        ),
        {
            content: "The note shows in the conversation, marked as internal",
            trigger: `${CONVERSATION} .o-mail-Thread .o-mail-Message.o_im_livechat_ticket_note:contains(${NOTE}) .o_im_livechat_ticket_note_label`,
        },
        {
            content: "after the customer's message",
            trigger: `${CONVERSATION} .o-mail-Message:contains(${CUSTOMER_MESSAGE}) ~ .o-mail-Message.o_im_livechat_ticket_note`,
        },
    ],
});

/** The customer's page never shows the note. */
registry.category("web_tour.tours").add("im_livechat_ticket_note_customer_tour", {
    steps: () => [
        {
            content: "The conversation is shown",
            trigger: `.o-mail-Message:contains(${CUSTOMER_MESSAGE})`,
        },
        {
            content: "without the agents' note",
            trigger: "body:not(:contains(the charger was replaced))",
        },
    ],
});

/** An agent who is not the assignee sees who is, and takes the ticket over in one click. */
registry.category("web_tour.tours").add("im_livechat_ticket_take_over_tour", {
    steps: () => [
        {
            content: "The assigned agent has the ticket open",
            trigger: `${CONVERSATION} .o_im_livechat_ticket_collision .o_im_livechat_ticket_viewer`,
        },
        {
            content: "and is named as the assignee",
            trigger: `${CONVERSATION} .o_im_livechat_ticket_collision_agent:contains(Alice Agent is assigned)`,
        },
        {
            content: "Take over",
            trigger: `${CONVERSATION} .o_im_livechat_ticket_take_over`,
            run: "click",
        },
        {
            content: "A notice says so",
            trigger: ".o_notification:contains(You took over this ticket from Alice Agent)",
        },
        {
            content: "The warning is gone: the ticket is mine",
            trigger: `${CONVERSATION}:not(:has(.o_im_livechat_ticket_collision_agent))`,
        },
    ],
});

/** The queue's card shows the other agent who has the ticket open. */
registry.category("web_tour.tours").add("im_livechat_ticket_queue_viewers_tour", {
    steps: () => [
        {
            content: "The ticket's card shows the other agent on it",
            trigger:
                ".o_kanban_record:contains(Battery) .o_im_livechat_ticket_viewer img[alt='Bob Agent']",
        },
    ],
});

const REPLY = "I had this one before: try another socket.";
const REPLY_INPUT = `${CONVERSATION} .o_im_livechat_ticket_conversation_composer:not(.o_im_livechat_ticket_note_composer) .o-mail-Composer-input`;

/** A former agent of the ticket (still in the conversation) replies: warned first. */
registry.category("web_tour.tours").add("im_livechat_ticket_reply_warning_tour", {
    steps: () => [
        ...writeAndSendSteps(REPLY_INPUT, REPLY, "The former agent still has the composer", "Send"),
        {
            content: "A warning names the assignee",
            trigger: ".modal:contains(Alice Agent is assigned)",
        },
        {
            content: "Cancel",
            trigger: ".modal .modal-footer button:contains(Cancel)",
            run: "click",
        },
        {
            content: "Nothing was sent, the text stays",
            trigger: `${CONVERSATION}:not(:has(.o-mail-Message-body:contains(${REPLY}))) .o-mail-Composer-input:value(${REPLY})`,
        },
        {
            content: "Send again",
            trigger: REPLY_INPUT,
            run: "press Enter",
        },
        {
            content: "Send anyway",
            trigger: ".modal .modal-footer button:contains(Send anyway)",
            run: "click",
        },
        {
            content: "The reply is posted",
            trigger: `${CONVERSATION} .o-mail-Message:not(.o-pending) .o-mail-Message-body:contains(${REPLY})`,
        },
    ],
});
