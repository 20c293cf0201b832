import { Call } from "@mail/discuss/call/common/call";

import { Component, onWillUnmount, useEffect, useRef, useState } from "@odoo/owl";

import { browser } from "@web/core/browser/browser";
import { _t } from "@web/core/l10n/translation";
import { useService } from "@web/core/utils/hooks";

/**
 * Whether the ticket's conversation `thread` rings for the current user (an
 * agent calls) while they are not in its call.
 */
function isRinging(rtc, thread) {
    return Boolean(thread.rtcInvitingSession) && !thread.eq(rtc.state.channel);
}

/**
 * The call of a ticket's conversation on the customer's ticket page, with
 * Discuss' own call service (`discuss.rtc`, peer to peer over Odoo's bus):
 *
 * - an agent calls: the incoming call with the agent's name and picture,
 *   *Accept* / *Decline* (focused, Escape declines), read out by screen
 *   readers through the page's live region (`announce`);
 * - in the call: Discuss' `Call` (the agent's video or picture, one's own
 *   preview), the call's length, microphone and camera switches and
 *   *Hang up*;
 * - a refused call (resolved ticket, ringing too often...) says why.
 *
 * Mounted in the ticket chat's template (ticket_chat_patch.xml).
 */
export class TicketCall extends Component {
    static template = "im_livechat_ticket.TicketCall";
    static components = { Call };
    static props = {
        thread: Object,
        isResolved: Boolean,
        announce: Function,
    };

    setup() {
        super.setup();
        this.rtc = useState(useService("discuss.rtc"));
        this.acceptRef = useRef("accept");
        this.state = useState({
            /** when this page joined the call (ms), for its length */
            joinedAt: 0,
            now: Date.now(),
        });
        this.timer = undefined;
        onWillUnmount(() => browser.clearInterval(this.timer));
        useEffect(
            (thread) => {
                // the ticket page shows this call: no second popup, no toast for refusals
                thread.ticketCallViewCount++;
                return () => {
                    if (thread.exists()) {
                        thread.ticketCallViewCount--;
                    }
                };
            },
            () => [this.props.thread]
        );
        useEffect(
            (ringing) => {
                if (ringing) {
                    this.props.announce(
                        _t("%(name)s is calling you: accept or decline the call.", {
                            name: this.callerName,
                        })
                    );
                    this.acceptRef.el?.focus();
                }
            },
            () => [this.isRinging]
        );
        useEffect(
            (inCall) => {
                browser.clearInterval(this.timer);
                if (inCall) {
                    this.state.joinedAt = Date.now();
                    this.state.now = this.state.joinedAt;
                    this.timer = browser.setInterval(() => (this.state.now = Date.now()), 1000);
                    this.props.announce(_t("You are in the call."));
                } else if (this.state.joinedAt) {
                    this.state.joinedAt = 0;
                    this.props.announce(_t("The call ended."));
                }
            },
            () => [this.isInCall]
        );
        useEffect(
            (error) => error && this.props.announce(error),
            () => [this.props.thread.ticketCallError]
        );
    }

    get thread() {
        return this.props.thread;
    }

    get isRinging() {
        return isRinging(this.rtc, this.thread);
    }

    get isInCall() {
        return Boolean(this.thread.eq(this.rtc.state.channel) && this.rtc.selfSession);
    }

    /** Someone is in the call, this page is not, and it does not ring. */
    get canJoin() {
        return (
            !this.isInCall &&
            !this.isRinging &&
            !this.props.isResolved &&
            this.thread.rtcSessions.length > 0
        );
    }

    get callerName() {
        const persona = this.thread.rtcInvitingSession?.channelMember?.persona;
        return persona ? persona.user_livechat_username || persona.name : "";
    }

    get callerAvatarUrl() {
        return this.thread.rtcInvitingSession?.channelMember?.persona?.avatarUrl;
    }

    /** The other side's sessions in the call. */
    get otherSessions() {
        return this.thread.rtcSessions.filter((session) => session.notEq(this.rtc.selfSession));
    }

    get otherName() {
        const names = this.otherSessions.map((session) => {
            const persona = session.channelMember?.persona;
            return persona?.user_livechat_username || persona?.name || "";
        });
        return names.filter(Boolean).join(", ");
    }

    /**
     * The state of the peer connection (`RTCPeerConnection.connectionState`)
     * to the other side, for styles and tests; read at each render (the
     * call's clock renders every second).
     */
    get peerState() {
        const [other] = this.otherSessions;
        const peer = other && this.rtc.p2pService?.peers.get(other.id);
        return peer?.connection?.connectionState || (other ? "new" : "waiting");
    }

    get isConnected() {
        return this.peerState === "connected";
    }

    get duration() {
        if (!this.state.joinedAt) {
            return "00:00";
        }
        const seconds = Math.max(0, Math.floor((this.state.now - this.state.joinedAt) / 1000));
        const pad = (value) => String(value).padStart(2, "0");
        const hours = Math.floor(seconds / 3600);
        const rest = `${pad(Math.floor((seconds % 3600) / 60))}:${pad(seconds % 60)}`;
        return hours ? `${hours}:${rest}` : rest;
    }

    get isMuted() {
        return Boolean(this.rtc.selfSession?.isMute);
    }

    get isCameraOn() {
        return Boolean(this.rtc.selfSession?.isCameraOn);
    }

    async accept() {
        if (this.rtc.state.hasPendingRequest) {
            return;
        }
        await this.rtc.toggleCall(this.thread);
    }

    async decline() {
        if (this.rtc.state.hasPendingRequest) {
            return;
        }
        await this.rtc.leaveCall(this.thread);
        this.props.announce(_t("You declined the call."));
    }

    onKeydownRinging(ev) {
        if (ev.key === "Escape") {
            ev.stopPropagation();
            this.decline();
        }
    }

    async join() {
        await this.rtc.toggleCall(this.thread);
    }

    async hangUp() {
        if (this.rtc.state.hasPendingRequest) {
            return;
        }
        await this.rtc.leaveCall(this.thread);
    }

    async toggleMicrophone() {
        await this.rtc.toggleMicrophone();
    }

    async toggleCamera() {
        await this.rtc.toggleVideo("camera");
    }

    dismissError() {
        this.thread.ticketCallError = "";
    }
}

/**
 * The *Call* button of the ticket page's header: the customer rings the
 * ticket's agent, when the team takes customers' calls.
 */
export class TicketCallButton extends Component {
    static template = "im_livechat_ticket.TicketCallButton";
    static props = { thread: Object, isResolved: Boolean };

    setup() {
        super.setup();
        this.rtc = useState(useService("discuss.rtc"));
    }

    get isShown() {
        const thread = this.props.thread;
        return (
            thread.ticketCustomerCalls &&
            thread.selfMember &&
            !this.props.isResolved &&
            thread.rtcSessions.length === 0 &&
            !isRinging(this.rtc, thread)
        );
    }

    async startCall() {
        if (this.rtc.state.hasPendingRequest) {
            return;
        }
        await this.rtc.toggleCall(this.props.thread);
    }
}
