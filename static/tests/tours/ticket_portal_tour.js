import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("im_livechat_ticket_portal_tour", {
    url: "/my",
    steps: () => [
        {
            content: "Open the Support Tickets entry of the customer portal",
            trigger: ".o_portal_index_card a[href='/my/tickets']",
            run: "click",
        },
        {
            content: "Start a new ticket",
            trigger: "a.o_im_livechat_ticket_new_button",
            run: "click",
        },
        {
            content: "Type the subject",
            trigger: "form.o_im_livechat_ticket_new_form input[name=name]",
            run: "edit My bike is broken",
        },
        {
            content: "Describe the problem",
            trigger: "form.o_im_livechat_ticket_new_form textarea[name=message]",
            run: "edit The chain keeps falling off.",
        },
        {
            content: "Choose the High priority",
            trigger: "form.o_im_livechat_ticket_new_form select[name=priority]",
            run: "select 2",
        },
        {
            content: "Send the ticket",
            trigger: "button.o_im_livechat_ticket_submit",
            run: "click",
        },
        {
            content: "The ticket page shows the subject",
            trigger: "h1.o_im_livechat_ticket_subject:contains(My bike is broken)",
        },
        {
            content: "The ticket page shows the chosen priority",
            trigger:
                ".o_im_livechat_ticket_header .o_im_livechat_ticket_priority[title='Priority: High']",
        },
        {
            content: "The first message is in the conversation, as the customer's own",
            trigger:
                ".o_im_livechat_ticket_conversation .o_im_livechat_ticket_message_own .o_im_livechat_ticket_body:contains(The chain keeps falling off.)",
        },
        {
            content: "Go back to the list of tickets",
            trigger: ".o_portal_submenu a[href='/my/tickets']",
            run: "click",
        },
        {
            content: "The new ticket is listed",
            trigger:
                ".o_im_livechat_ticket_row .o_im_livechat_ticket_subject a:contains(My bike is broken)",
        },
    ],
});
