import {
    useMessageEdition,
    useMessageHighlight,
    useMessageToReplyTo,
} from "@mail/utils/common/hooks";

import { onWillUnmount, status, useChildSubEnv, useComponent, useRef, useState } from "@odoo/owl";

import { useService } from "@web/core/utils/hooks";

/**
 * The setup shared by the two views of a ticket's conversation (a livechat
 * `discuss.channel`) made of Discuss' own `Thread` and `Composer`: the
 * customer's chat on the ticket's portal page (`TicketChat`) and the
 * conversation in the agent's ticket form (`TicketConversation`).
 *
 * The component gets the mail store and the bus, message edition,
 * highlight and reply (highlight given to the children's env), the `root`
 * ref (the composer's drop zone) and a state with the `thread` once loaded,
 * `loading`, `notFound` and `jumpThreadPresent` (to scroll down after a
 * post). The ticket's bus events in `ticketEvents` reach `onTicketEvent`
 * while the component lives; `loadTicketThread(channelId)` shows a
 * conversation.
 *
 * @param {Object} params
 * @param {() => number} params.getTicketId the ticket shown
 * @param {string[]} params.ticketEvents the ticket notifications to follow
 * @param {(payload: Object) => void} params.onTicketEvent called with the
 *   payload of those notifications about the ticket shown
 * @param {(thread: import("models").Thread) => Promise<import("models").Thread|undefined>} [params.fetchChannel]
 *   fetches the channel's data (members, self membership...), resolves to
 *   the thread or to nothing when it cannot be read; Discuss'
 *   `Thread.getOrFetch` by default
 * @param {Object} [params.state] the component's own keys of the state
 * @param {Object} [params.env] the component's own keys of its children's env
 */
export function useTicketThread({
    getTicketId,
    ticketEvents,
    onTicketEvent,
    fetchChannel,
    state: ownState = {},
    env = {},
}) {
    const component = useComponent();
    const store = useState(useService("mail.store"));
    const busService = useService("bus_service");
    const messageHighlight = useMessageHighlight();
    const state = useState({
        /** @type {import("models").Thread|undefined} */
        thread: undefined,
        loading: false,
        notFound: false,
        jumpThreadPresent: 0,
        ...ownState,
    });
    useChildSubEnv({ ...env, messageHighlight });
    fetchChannel ??= (thread) => store.Thread.getOrFetch({ model: thread.model, id: thread.id });
    /** the bus channel followed for a conversation the user is no member of */
    let busChannel;
    let loadId = 0;

    const onBusTicketEvent = (payload) => {
        if (payload?.id === getTicketId()) {
            onTicketEvent(payload);
        }
    };
    for (const type of ticketEvents) {
        busService.subscribe(type, onBusTicketEvent);
    }
    onWillUnmount(() => {
        for (const type of ticketEvents) {
            busService.unsubscribe(type, onBusTicketEvent);
        }
        releaseTicketThread();
    });

    /** Whether Discuss or a chat window keeps this channel followed already. */
    function isWatchedElsewhere(thread) {
        return Boolean(
            thread.isLocallyPinned ||
            thread.eq(store.discuss?.thread) ||
            store.ChatWindow.get({ thread })
        );
    }

    /** Stop following the bus channel of the conversation shown, if this did. */
    function releaseTicketThread() {
        const thread = state.thread;
        if (!busChannel) {
            return;
        }
        if (!thread || !(thread.selfMember || isWatchedElsewhere(thread))) {
            busService.deleteChannel(busChannel);
        }
        busChannel = undefined;
    }

    /**
     * Show the conversation `channelId` (instead of the one shown): its
     * channel's data is fetched the way Discuss and the chat windows do, the
     * messages by `Thread` itself when it mounts, older ones on scroll.
     *
     * @param {number|false} channelId
     * @returns {Promise<import("models").Thread|undefined>} the thread once
     *   shown; nothing when another was asked for meanwhile, the component is
     *   gone or the conversation cannot be read
     */
    async function loadTicketThread(channelId) {
        const currentLoadId = ++loadId;
        releaseTicketThread();
        Object.assign(state, { thread: undefined, notFound: false });
        if (!channelId) {
            return;
        }
        state.loading = true;
        let thread = store.Thread.insert({ model: "discuss.channel", id: channelId });
        // before the fetch: what the channel's data computes sees a ticket
        thread.isImLivechatTicket = true;
        try {
            thread = await fetchChannel(thread);
        } finally {
            if (currentLoadId === loadId) {
                state.loading = false;
            }
        }
        if (currentLoadId !== loadId || status(component) === "destroyed") {
            return; // another channel was asked for meanwhile, or the component went
        }
        if (!thread?.exists()) {
            state.notFound = true;
            return;
        }
        if (!thread.selfMember && !isWatchedElsewhere(thread)) {
            // Not a member (another agent, a colleague of the customer): the
            // websocket follows only the user's own conversations. Follow
            // this one while shown so new messages (and typing) come live,
            // and drop messages cached from an earlier visit: nothing kept
            // them up to date meanwhile.
            if (thread.isLoaded && thread.status !== "loading") {
                thread.messages = [];
                thread.isLoaded = false;
            }
            busChannel = thread.busChannel;
            busService.addChannel(busChannel);
        }
        state.thread = thread;
        return thread;
    }

    return {
        store,
        busService,
        messageEdition: useMessageEdition(),
        messageHighlight,
        messageToReplyTo: useMessageToReplyTo(),
        rootRef: useRef("root"),
        state,
        loadTicketThread,
    };
}
