import { Component, useState } from "@odoo/owl";

import { _t } from "@web/core/l10n/translation";
import { useBus, useService } from "@web/core/utils/hooks";

/**
 * The cards of the queue's dashboard: a count of `get_queue_dashboard` and
 * the search filters (by name, see the ticket search view) that list the
 * tickets it counts.
 */
export const DASHBOARD_CARDS = [
    {
        key: "waiting",
        label: _t("Waiting"),
        title: _t("Unassigned tickets waiting for an agent"),
        filters: ["waiting"],
        icon: "fa-hourglass-half",
        alert: "info",
    },
    {
        key: "my_open",
        label: _t("My Open"),
        title: _t("Open tickets assigned to me"),
        filters: ["my_tickets", "open"],
        icon: "fa-user",
        alert: "primary",
    },
    {
        key: "urgent",
        label: _t("Urgent"),
        title: _t("Open urgent tickets"),
        filters: ["urgent", "open"],
        icon: "fa-exclamation-circle",
        alert: "danger",
    },
    {
        key: "sla_at_risk",
        label: _t("SLA at Risk"),
        title: _t("Open tickets close to a service level deadline"),
        filters: ["sla_at_risk", "open"],
        icon: "fa-clock-o",
        alert: "warning",
    },
    {
        key: "sla_breached",
        label: _t("SLA Breached"),
        title: _t("Open tickets that missed a service level target"),
        filters: ["sla_breached", "open"],
        icon: "fa-bell",
        alert: "danger",
    },
    {
        key: "resolved_today",
        label: _t("Resolved Today"),
        title: _t("Tickets resolved since midnight"),
        filters: ["resolved_today"],
        icon: "fa-check",
        alert: "success",
    },
];

/**
 * Counts of the agents' queue above the tickets kanban and list; a click on
 * a count shows these tickets. The counts come from the controller (see
 * `useTicketQueue`), which refreshes them live.
 */
export class TicketQueueDashboard extends Component {
    static template = "im_livechat_ticket.TicketQueueDashboard";
    static props = {
        counts: { type: Object, optional: true },
    };

    setup() {
        this.cards = DASHBOARD_CARDS;
        this.notifier = useService("im_livechat_ticket.queue_notifier");
        this.notifierState = useState(this.notifier.state);
        // the active card follows the search
        useBus(this.env.searchModel, "update", () => this.render());
    }

    /** Names of the active filters, when the query has nothing but filters. */
    get activeFilterNames() {
        const names = new Set();
        for (const item of this.env.searchModel.getSearchItems((item) => item.isActive)) {
            if (item.type !== "filter") {
                if (!["groupBy", "dateGroupBy"].includes(item.type)) {
                    return new Set();
                }
                continue;
            }
            names.add(item.name);
        }
        return names;
    }

    isActive(card) {
        const active = this.activeFilterNames;
        return (
            active.size === card.filters.length && card.filters.every((name) => active.has(name))
        );
    }

    /** Show the tickets of ``card``: its filters replace the query, group-bys stay. */
    onCardClick(card) {
        const searchModel = this.env.searchModel;
        const items = searchModel.getSearchItems(
            (item) => item.type === "filter" && card.filters.includes(item.name)
        );
        searchModel.query = searchModel.query.filter(({ searchItemId }) =>
            ["groupBy", "dateGroupBy"].includes(searchModel.searchItems[searchItemId].type)
        );
        for (const item of items) {
            searchModel.toggleSearchItem(item.id);
        }
    }

    onToggleNotify() {
        this.notifier.toggle();
    }
}
