import { registry } from "@web/core/registry";
import { KanbanController } from "@web/views/kanban/kanban_controller";
import { kanbanView } from "@web/views/kanban/kanban_view";
import { ListController } from "@web/views/list/list_controller";
import { listView } from "@web/views/list/list_view";

import { TicketQueueDashboard } from "./ticket_queue_dashboard";
import { useTicketQueue } from "./ticket_queue_hook";

/**
 * The agents' queue: the tickets kanban and list stay live (bus events) and,
 * in the queue action (context key `im_livechat_ticket_queue_dashboard`),
 * show the dashboard counts above the records.
 *
 * Arch: `<kanban js_class="im_livechat_ticket_queue_kanban">`,
 * `<list js_class="im_livechat_ticket_queue_list">`.
 */
function ticketQueueController(Controller) {
    return class extends Controller {
        static components = { ...Controller.components, TicketQueueDashboard };

        setup() {
            super.setup();
            this.showTicketDashboard = Boolean(
                this.props.context?.im_livechat_ticket_queue_dashboard
            );
            this.ticketQueue = useTicketQueue({ dashboard: this.showTicketDashboard });
        }

        get modelParams() {
            const params = super.modelParams;
            const onRootLoaded = params.hooks.onRootLoaded;
            params.hooks.onRootLoaded = async () => {
                this.ticketQueue?.refreshCounts();
                return onRootLoaded?.();
            };
            return params;
        }
    };
}

export class TicketQueueKanbanController extends ticketQueueController(KanbanController) {
    static template = "im_livechat_ticket.TicketQueueKanbanView";
}

export class TicketQueueListController extends ticketQueueController(ListController) {
    static template = "im_livechat_ticket.TicketQueueListView";
}

export const ticketQueueKanbanView = {
    ...kanbanView,
    Controller: TicketQueueKanbanController,
};

export const ticketQueueListView = {
    ...listView,
    Controller: TicketQueueListController,
};

registry.category("views").add("im_livechat_ticket_queue_kanban", ticketQueueKanbanView);
registry.category("views").add("im_livechat_ticket_queue_list", ticketQueueListView);
