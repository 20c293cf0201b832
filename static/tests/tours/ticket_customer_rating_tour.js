import { registry } from "@web/core/registry";

// Driven by tests/test_live_tours.py (test_customer_rates_resolved_ticket).
const RATING_COMMENT = "Quick answer, the lights shine again";
const FORM = ".o_im_livechat_ticket_rating_form";

/** The customer of a resolved ticket rates the help from the ticket's page. */
registry.category("web_tour.tours").add("im_livechat_ticket_customer_rating_tour", {
    steps: () => [
        {
            content: "The page says the ticket is resolved",
            trigger: ".o_im_livechat_ticket_resolved:contains(This ticket was resolved.)",
        },
        {
            content: "and asks for a rating",
            trigger: `.o_im_livechat_ticket_resolved ${FORM} legend:contains(How was our help?)`,
        },
        {
            content: "Give 4 stars (Good)",
            trigger: `${FORM} label[for=o_im_livechat_ticket_score_4]`,
            run: "click",
        },
        {
            content: "The 4th star is chosen",
            trigger: `${FORM} label[for=o_im_livechat_ticket_score_4]`,
            run() {
                const checked = document.querySelector(`${FORM} input[name=score]:checked`);
                if (checked?.value !== "4") {
                    throw new Error(`The chosen score is ${checked?.value}, expected 4.`);
                }
            },
        },
        {
            content: "Write a comment",
            trigger: `${FORM} textarea[name=feedback]`,
            run: `edit ${RATING_COMMENT}`,
        },
        {
            content: "Send the rating",
            trigger: `${FORM} button.o_im_livechat_ticket_rate`,
            run: "click",
        },
        {
            content: "The page thanks the customer",
            trigger: ".o_im_livechat_ticket_rating_done:contains(Thank you!)",
        },
        {
            content: "with the rating given",
            trigger:
                ".o_im_livechat_ticket_rating_done .o_im_livechat_ticket_rating_value[title=Good]",
        },
        {
            content: "and the comment",
            trigger: `.o_im_livechat_ticket_rating_done .o_im_livechat_ticket_rating_feedback:contains(${RATING_COMMENT})`,
        },
        {
            content: "No rating form any more",
            trigger: `body:not(:has(${FORM}))`,
        },
    ],
});
