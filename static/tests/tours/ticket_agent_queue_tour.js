import { registry } from "@web/core/registry";

const LIVE_SUBJECT = "Live ticket: the saddle squeaks";

function count(card, value) {
    return `.o_im_livechat_ticket_dashboard_card[data-card='${card}'] .o_im_livechat_ticket_dashboard_count:contains(${value})`;
}

function card(key) {
    return `.o_im_livechat_ticket_dashboard_card[data-card='${key}']`;
}

/**
 * An agent works the queue: reads the dashboard, takes the waiting ticket;
 * a customer then opens a ticket (the test creates it once the first one is
 * taken, see test_agent_queue_tour.py): it shows up without a reload, the
 * agent takes it and resolves it.
 */
registry.category("web_tour.tours").add("im_livechat_ticket_agent_queue_tour", {
    steps: () => [
        {
            content: "The queue shows my open tickets; mark the page to tell a reload",
            trigger: ".o_kanban_record:contains(Brakes fail)",
            run() {
                document.body.classList.add("o_im_livechat_ticket_tour_no_reload");
            },
        },
        {
            content: "with service level badges",
            trigger: ".o_kanban_record:contains(Chain rusty) .o_field_badge:contains(Breached)",
        },
        {
            content: "The dashboard counts the tickets waiting for an agent",
            trigger: count("waiting", 1),
        },
        {
            content: "my open tickets",
            trigger: count("my_open", 2),
        },
        {
            content: "the urgent ones",
            trigger: count("urgent", 1),
        },
        {
            content: "those at risk of missing their service level",
            trigger: count("sla_at_risk", 1),
        },
        {
            content: "those that missed it",
            trigger: count("sla_breached", 1),
        },
        {
            content: "and those resolved today",
            trigger: count("resolved_today", 1),
        },
        {
            content: "Show the tickets waiting for an agent",
            trigger: card("waiting"),
            run: "click",
        },
        {
            content: "The waiting tickets are shown",
            trigger: `${card("waiting")}.active`,
        },
        {
            content: "Take the waiting ticket",
            trigger: ".o_kanban_record:contains(Pedal loose) button.o_im_livechat_ticket_take",
            run: "click",
        },
        {
            content: "Nothing waits any more",
            trigger: count("waiting", 0),
        },
        {
            content: "and the ticket is mine",
            trigger: count("my_open", 3),
        },
        {
            content: "A customer opens a ticket: it shows up among the waiting ones by itself",
            trigger: `.o_kanban_record:contains(${LIVE_SUBJECT}) button.o_im_livechat_ticket_take`,
            timeout: 60000,
        },
        {
            content: "and is counted",
            trigger: count("waiting", 1),
        },
        {
            content: "The page was not reloaded",
            trigger: "body.o_im_livechat_ticket_tour_no_reload .o_im_livechat_ticket_dashboard",
        },
        {
            content: "Take the new ticket",
            trigger: `.o_kanban_record:contains(${LIVE_SUBJECT}) button.o_im_livechat_ticket_take`,
            run: "click",
        },
        {
            content: "It is mine",
            trigger: count("my_open", 4),
        },
        {
            content: "Back to my open tickets",
            trigger: card("my_open"),
            run: "click",
        },
        {
            content: "Open the new ticket",
            trigger: `.o_kanban_record:contains(${LIVE_SUBJECT})`,
            run: "click",
        },
        {
            content: "Its form shows the customer's message",
            trigger:
                ".o_im_livechat_ticket_conversation .o-mail-Message:contains(It squeaks at every turn of the pedals)",
        },
        {
            content: "and its service level",
            trigger: ".o_form_view .o_field_widget[name=sla_status]",
        },
        {
            content: "Resolve it",
            trigger: ".o_form_view .o_form_statusbar button[name=action_resolve]",
            run: "click",
        },
        {
            content: "The ticket is resolved",
            trigger: ".o_statusbar_status button.o_arrow_button_current[data-value='resolved']",
        },
        {
            content: "Back to the queue",
            trigger: ".o_breadcrumb a:contains(Tickets)",
            run: "click",
        },
        {
            content: "The dashboard counts it",
            trigger: count("resolved_today", 2),
        },
    ],
});
