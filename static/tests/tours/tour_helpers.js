/**
 * Selectors and steps the ticket tours share (imported by the tours beside
 * this file, all bundled in web.assets_tests).
 */

/** The conversation widget of the ticket form. */
export const CONVERSATION = ".o_im_livechat_ticket_conversation";

/** The first message of the tests' ticket (tests/test_agent_conversation_tour.py, test_collision.py). */
export const CUSTOMER_MESSAGE = "My e-bike battery does not charge";

/** A step waiting for the customer's first message in the form's conversation. */
export function customerMessageShownStep(content) {
    return {
        content,
        trigger: `${CONVERSATION} .o-mail-Message:contains(${CUSTOMER_MESSAGE})`,
    };
}

/**
 * Two steps: write ``text`` in the composer input ``input``, then send it with
 * Enter; ``write`` and ``send`` describe them.
 */
export function writeAndSendSteps(input, text, write, send) {
    return [
        { content: write, trigger: input, run: `edit ${text}` },
        { content: send, trigger: input, run: "press Enter" },
    ];
}
