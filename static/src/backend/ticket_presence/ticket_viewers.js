import { Component, onWillStart, useState } from "@odoo/owl";

import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { standardWidgetProps } from "@web/views/widgets/standard_widget_props";

/**
 * The other agents who have a ticket open, and who of them types: avatars
 * with their names. Used by the ticket's form (TicketConversation) and, as
 * the view widget `im_livechat_ticket_viewers`, on the queue's cards.
 */
export class TicketViewers extends Component {
    static template = "im_livechat_ticket.TicketViewers";
    static props = { ticketId: { type: Number, optional: true }, compact: { optional: true } };

    setup() {
        this.viewersService = useService("im_livechat_ticket.viewers");
        this.viewersState = useState(this.viewersService.state);
        onWillStart(() => {
            this.viewersService.load();
        });
    }

    get viewers() {
        return this.props.ticketId
            ? this.viewersService.othersOf(this.props.ticketId, this.viewersState)
            : [];
    }

    avatarUrl(viewer) {
        return `/web/image/res.partner/${viewer.partner_id}/avatar_128`;
    }

    title(viewer) {
        return viewer.is_typing
            ? _t("%(agent)s has this ticket open and is typing", { agent: viewer.name })
            : _t("%(agent)s has this ticket open", { agent: viewer.name });
    }
}

/** On a queue card: `<widget name="im_livechat_ticket_viewers"/>`. */
export class TicketViewersWidget extends Component {
    static template = "im_livechat_ticket.TicketViewersWidget";
    static components = { TicketViewers };
    static props = { ...standardWidgetProps };
}

registry.category("view_widgets").add("im_livechat_ticket_viewers", {
    component: TicketViewersWidget,
});
