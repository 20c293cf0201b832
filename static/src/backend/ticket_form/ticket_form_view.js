import { registry } from "@web/core/registry";
import { FormController } from "@web/views/form/form_controller";
import { formView } from "@web/views/form/form_view";

/**
 * The ticket form: a save that changes the Agent field says which agent the
 * form loaded (`loaded_user_id`, computed by the server when the record is
 * read), so that the server refuses it when someone else reassigned the
 * ticket since, as it refuses the actions ("Assign to Me", Take).
 *
 * Arch: `<form js_class="im_livechat_ticket_form">` with the field
 * `loaded_user_id` (invisible).
 */
export class TicketFormController extends FormController {
    async onWillSaveRecord(record, changes) {
        if ("user_id" in changes && "loaded_user_id" in record.data) {
            const loaded = record.data.loaded_user_id; // [id, name] or false
            changes.loaded_user_id = (Array.isArray(loaded) ? loaded[0] : loaded) || false;
        }
        return super.onWillSaveRecord(...arguments);
    }
}

registry.category("views").add("im_livechat_ticket_form", {
    ...formView,
    Controller: TicketFormController,
});
