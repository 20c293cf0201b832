import { registry } from "@web/core/registry";

import { CONVERSATION, customerMessageShownStep, writeAndSendSteps } from "./tour_helpers";

const REPLY = "Hello, please send me a photo of the charger's light.";

/**
 * The assigned agent opens a ticket's form, reads the customer's message in
 * the conversation widget and answers it from there: the ticket opens.
 */
registry.category("web_tour.tours").add("im_livechat_ticket_agent_conversation_tour", {
    steps: () => [
        customerMessageShownStep(
            "The customer's first message is shown in the ticket's conversation"
        ),
        {
            content: "with its author",
            trigger: `${CONVERSATION} .o-mail-Message-author:contains(Carla Customer)`,
        },
        {
            content: "The ticket waits for a first answer",
            trigger: ".o_statusbar_status button.o_arrow_button_current[data-value='new']",
        },
        {
            content: "The agent is a member: no hint, a composer",
            trigger: `${CONVERSATION}:not(:has(.o_im_livechat_ticket_conversation_hint))`,
        },
        ...writeAndSendSteps(
            `${CONVERSATION} .o-mail-Composer-input`,
            REPLY,
            "Write a reply",
            "Send it with Enter"
        ),
        {
            content: "The reply is posted in the conversation",
            trigger: `${CONVERSATION} .o-mail-Message:not(.o-pending) .o-mail-Message-body:contains(${REPLY})`,
        },
        {
            content: "The form shows the ticket open after the first answer",
            trigger: ".o_statusbar_status button.o_arrow_button_current[data-value='open']",
        },
        {
            content: "with its first response date",
            trigger: ".o_field_widget[name='first_response_date']:not(.o_field_empty)",
        },
    ],
});

/** Another agent, not a member of the conversation, reads it but cannot reply. */
registry.category("web_tour.tours").add("im_livechat_ticket_agent_conversation_reader_tour", {
    steps: () => [
        customerMessageShownStep("The customer's message is shown to a non-member agent"),
        {
            content: "who is told how to reply",
            trigger: `${CONVERSATION} .o_im_livechat_ticket_conversation_hint:contains(Assign the ticket to yourself to reply)`,
        },
        {
            content: "and gets no composer",
            trigger: `${CONVERSATION}:not(:has(.o-mail-Composer))`,
        },
        {
            content: "Take the ticket",
            trigger: ".o_form_view button[name='action_assign']",
            run: "click",
        },
        {
            content: "Now a member, the agent gets the composer",
            trigger: `${CONVERSATION} .o-mail-Composer-input`,
        },
        {
            content: "and the hint is gone",
            trigger: `${CONVERSATION}:not(:has(.o_im_livechat_ticket_conversation_hint))`,
        },
    ],
});
