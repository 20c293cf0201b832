import { registry } from "@web/core/registry";

import { CONVERSATION } from "./tour_helpers";

/**
 * The agent merges ticket "Charger" (a duplicate) into ticket "Battery" of
 * the same customer from the form's "Merge into…" dialog, and lands on the
 * kept ticket with both histories and the notice.
 */
registry.category("web_tour.tours").add("im_livechat_ticket_merge_tour", {
    steps: () => [
        {
            content: "The duplicate's conversation is shown",
            trigger: `${CONVERSATION} .o-mail-Message:contains(The charger light is red.)`,
        },
        {
            content: "Open the merge dialog",
            trigger: ".o_form_view .o_im_livechat_ticket_merge_button",
            run: "click",
        },
        {
            content: "Look for the ticket to keep",
            trigger: ".modal .o_field_widget[name='target_id'] input",
            run: "edit Battery",
        },
        {
            content: "The customer's open ticket is offered",
            trigger: ".o-autocomplete--dropdown-item:contains(Battery)",
            run: "click",
        },
        {
            content: "Merge",
            trigger: ".modal .o_im_livechat_ticket_merge_confirm",
            run: "click",
        },
        {
            content: "The kept ticket opens",
            trigger: ".o_form_view .o_field_widget[name='name'] input:value(Battery)",
        },
        {
            content: "which is not merged itself",
            trigger: ".o_form_view:not(:has(.ribbon:contains(Merged)))",
        },
        {
            content: "with the duplicate's messages in its conversation",
            trigger: `${CONVERSATION} .o-mail-Message:contains(Is the light red all the time?)`,
        },
        {
            content: "its own",
            trigger: `${CONVERSATION} .o-mail-Message:contains(Which charger do you use?)`,
        },
        {
            content: "and the notice of the merge",
            trigger: `${CONVERSATION} .o-mail-NotificationMessage:contains(merged into this ticket)`,
        },
        {
            content: "Back to the duplicate",
            trigger: ".o_breadcrumb a:contains(Charger)",
            run: "click",
        },
        {
            content: "It is marked as merged, with one ribbon",
            trigger: ".o_form_view .ribbon:contains(Merged)",
        },
        {
            content: "and points to the kept ticket",
            trigger: ".o_form_view .o_field_widget[name='merged_into_id']:contains(Battery)",
        },
        {
            content: "without the Resolved ribbon on top of it",
            trigger: ".o_form_view:not(:has(.ribbon:contains(Resolved)))",
        },
    ],
});

/**
 * The customer has the kept ticket's page open while an agent merges the
 * duplicate into it (tests/test_merge.py plays the agent): the notice comes
 * live, and the duplicate's history appears in place without a reload.
 */
registry.category("web_tour.tours").add("im_livechat_ticket_merge_customer_tour", {
    steps: () => [
        {
            content: "The kept ticket's conversation is loaded",
            trigger:
                ".o_im_livechat_ticket_chat .o-mail-Message:contains(Which charger do you use?)",
        },
        {
            content: "The merge notice arrives",
            trigger:
                ".o_im_livechat_ticket_chat .o-mail-NotificationMessage:contains(merged into this ticket)",
        },
        {
            content: "and the duplicate's messages with it",
            trigger:
                ".o_im_livechat_ticket_chat .o-mail-Message:contains(Is the light red all the time?)",
        },
        {
            content: "the kept ticket's own still there",
            trigger:
                ".o_im_livechat_ticket_chat .o-mail-Message:contains(The battery does not charge.)",
        },
    ],
});
