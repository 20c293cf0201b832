import { PortalHomeCounters } from "@portal/js/portal";

PortalHomeCounters.include({
    /**
     * Keep the Support Tickets entry on /my even without tickets: it is where
     * a customer opens their first one.
     *
     * @override
     */
    _getCountersAlwaysDisplayed() {
        return this._super(...arguments).concat(["ticket_count"]);
    },
});
