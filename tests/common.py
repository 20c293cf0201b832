from odoo.tests import TransactionCase, new_test_user


class TicketFixtures:
    """Two customer companies with portal employees, two agents, a manager,
    an employee outside live chat, and the default support team assigning
    every ticket to the first agent. Mix into any Odoo test case and call
    ``_setup_ticket_fixtures`` from ``setUpClass``."""

    @classmethod
    def _setup_ticket_fixtures(cls):
        cls.team = cls.env.ref("im_livechat_ticket.im_livechat_channel_customer_support")
        cls.agent = new_test_user(
            cls.env,
            login="ticket_agent",
            name="Alice Agent",
            groups="base.group_user,im_livechat.im_livechat_group_user",
        )
        cls.agent_2 = new_test_user(
            cls.env,
            login="ticket_agent_2",
            name="Bob Agent",
            groups="base.group_user,im_livechat.im_livechat_group_user",
        )
        cls.manager = new_test_user(
            cls.env,
            login="ticket_manager",
            name="Martha Manager",
            groups="base.group_user,im_livechat.im_livechat_group_manager",
        )
        cls.employee = new_test_user(
            cls.env, login="ticket_employee", name="Eve Employee", groups="base.group_user"
        )
        cls.team.write(
            {
                "user_ids": [(4, cls.agent.id), (4, cls.agent_2.id)],
                "ticket_assignment": "default",
                "ticket_default_user_id": cls.agent.id,
            }
        )
        cls.company_a = cls.env["res.partner"].create({"name": "Bikes A", "is_company": True})
        cls.company_b = cls.env["res.partner"].create({"name": "Bikes B", "is_company": True})
        cls.customer_a = cls._new_customer("ticket_customer_a", "Anna Customer", cls.company_a)
        cls.customer_a2 = cls._new_customer("ticket_customer_a2", "Arno Coworker", cls.company_a)
        cls.customer_b = cls._new_customer("ticket_customer_b", "Ben Customer", cls.company_b)

    @classmethod
    def _new_customer(cls, login, name, company):
        user = new_test_user(cls.env, login=login, name=name, groups="base.group_portal")
        user.partner_id.parent_id = company
        return user

    @classmethod
    def _new_ticket(cls, customer, name="My bike is broken", message="The chain came off.", **vals):
        ticket = (
            cls.env["im_livechat.ticket"]
            .with_user(customer)
            ._portal_create_ticket(
                name, message, vals.pop("priority", None), vals.pop("attachments", ())
            )
        )
        return ticket.with_env(cls.env)

    def _post_to_conversation(self, channel, body, session=None, attachment_ids=(), tokens=()):
        """Post in ``channel`` as the web client does (``/mail/message/post``,
        JSON-RPC; HttpCase only), as the user of ``session`` if given, else
        as the one currently logged in."""
        if session:
            self.opener.cookies["session_id"] = session.sid
        return self.make_jsonrpc_request(
            "/mail/message/post",
            {
                "thread_model": "discuss.channel",
                "thread_id": channel.id,
                "post_data": {
                    "body": body,
                    "message_type": "comment",
                    "subtype_xmlid": "mail.mt_comment",
                    "attachment_ids": list(attachment_ids),
                },
                "attachment_tokens": list(tokens),
            },
        )


class TicketCommon(TicketFixtures, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_ticket_fixtures()
