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
function setupTicketQueue(controller) {
    controller.showTicketDashboard = Boolean(
        controller.props.context?.im_livechat_ticket_queue_dashboard
    );
    controller.ticketQueue = useTicketQueue({ dashboard: controller.showTicketDashboard });
}

function withCountsHook(controller, params) {
    const onRootLoaded = params.hooks.onRootLoaded;
    params.hooks.onRootLoaded = async () => {
        controller.ticketQueue?.refreshCounts();
        return onRootLoaded?.();
    };
    return params;
}

export class TicketQueueKanbanController extends KanbanController {
    static template = "im_livechat_ticket.TicketQueueKanbanView";
    static components = { ...KanbanController.components, TicketQueueDashboard };

    setup() {
        super.setup();
        setupTicketQueue(this);
    }

    get modelParams() {
        return withCountsHook(this, super.modelParams);
    }
}

export class TicketQueueListController extends ListController {
    static template = "im_livechat_ticket.TicketQueueListView";
    static components = { ...ListController.components, TicketQueueDashboard };

    setup() {
        super.setup();
        setupTicketQueue(this);
    }

    get modelParams() {
        return withCountsHook(this, super.modelParams);
    }
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
