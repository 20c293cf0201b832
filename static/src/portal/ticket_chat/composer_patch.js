// Loaded first: this patch must wrap the live chat visitor's one.
import "@im_livechat/embed/common/composer_patch";

import { Composer } from "@mail/core/common/composer";

import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";

patch(Composer.prototype, {
    get placeholder() {
        // the visitor's placeholder comes from the live chat button's options
        if (this.thread?.isImLivechatTicket) {
            return this.props.placeholder || _t("Write a message…");
        }
        return super.placeholder;
    },
    /** Accessible name of the text area (see composer_patch.xml). */
    get imLivechatTicketInputLabel() {
        return this.thread?.isImLivechatTicket ? _t("Your message") : undefined;
    },
});
