import { threadActionsRegistry } from "@mail/core/common/thread_actions";
import { _t } from "@web/core/l10n/translation";

// The same as the /ticket command, as a button in a live chat's header.
threadActionsRegistry.add("im_livechat_ticket-convert", {
    condition(component) {
        const thread = component.thread;
        return (
            thread?.model === "discuss.channel" &&
            thread.channel_type === "livechat" &&
            (!component.props.chatWindow || component.props.chatWindow.isOpen)
        );
    },
    icon: "fa fa-fw fa-ticket",
    iconLarge: "fa fa-fw fa-lg fa-ticket",
    name: _t("Turn into a Ticket"),
    async open(component) {
        await component.env.services.orm.call("discuss.channel", "execute_command_ticket", [
            [component.thread.id],
        ]);
    },
    sequence: 25,
    sequenceGroup: 20,
});
