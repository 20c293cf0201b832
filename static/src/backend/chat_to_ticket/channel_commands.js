import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";

// "/ticket [subject]" in a live chat turns the conversation into a ticket.
registry.category("discuss.channel_commands").add("ticket", {
    channel_types: ["livechat"],
    help: _t("Turn this chat into a support ticket (optional: its subject)"),
    methodName: "execute_command_ticket",
});
