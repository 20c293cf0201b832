import { registry } from "@web/core/registry";

import { CONVERSATION } from "./tour_helpers";

/**
 * The agent searches the tickets for words of a conversation, opens the
 * ticket found and sees the matching message marked in its conversation.
 */
registry.category("web_tour.tours").add("im_livechat_ticket_search_tour", {
    steps: () => [
        {
            content: "Type words of a conversation in the search bar",
            trigger: ".o_searchview_input",
            run: "edit sprocket",
        },
        {
            content: "Search them in the conversations",
            trigger: ".o_searchview_autocomplete .o_menu_item:contains(Conversation)",
            run: "click",
        },
        {
            content: "Only the ticket whose conversation has the words is left",
            trigger: ".o_kanban_view:not(:has(.o_kanban_record:contains(Battery)))",
        },
        {
            content: "Open it",
            trigger: ".o_kanban_record:contains(Chain)",
            run: "click",
        },
        {
            content: "The matching message is marked in the conversation",
            trigger: `${CONVERSATION} .o-mail-Message.o_im_livechat_ticket_search_match:contains(sprocket)`,
        },
    ],
});
