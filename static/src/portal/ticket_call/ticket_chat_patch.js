import { patch } from "@web/core/utils/patch";

import { TicketChat } from "@im_livechat_ticket/portal/ticket_chat/ticket_chat";
import { TicketCall, TicketCallButton } from "@im_livechat_ticket/portal/ticket_call/ticket_call";

// The ticket page's chat shows the conversation's call (ticket_chat_patch.xml).
patch(TicketChat, {
    components: { ...TicketChat.components, TicketCall, TicketCallButton },
});

patch(TicketChat.prototype, {
    /** Read `text` out once, politely, in the page's live region. */
    announceText(text) {
        this.state.announcement = text;
    },
});
