{
    "name": "Live Chat Tickets",
    "summary": "Ticketed customer support on top of Live Chat: "
    "portal tickets, realtime conversations and an agent queue",
    "description": """
Turns Odoo's live chat into a ticketed support desk.

* Portal customers open tickets on the website and chat with support agents
  in real time, each ticket in its own live chat conversation.
* Agents work a prioritised queue (urgent first, then oldest), get tickets
  assigned automatically, reply from the ticket or from Discuss and resolve.
* Customers rate the help once the ticket is resolved.
""",
    "version": "18.0.1.0.0",
    "category": "Website/Live Chat",
    "author": "im_livechat_ticket contributors",
    "license": "LGPL-3",
    "depends": ["im_livechat", "portal", "rating", "resource"],
    "data": [
        "security/im_livechat_ticket_security.xml",
        "security/ir.model.access.csv",
        "data/ir_sequence_data.xml",
        "data/im_livechat_channel_data.xml",
        "data/ir_cron_data.xml",
        "data/mail_template_data.xml",
        "views/im_livechat_ticket_views.xml",
        "views/im_livechat_ticket_collision_views.xml",
        "views/im_livechat_ticket_call_views.xml",
        "views/im_livechat_ticket_report_views.xml",
        "views/im_livechat_channel_views.xml",
        "views/res_partner_views.xml",
        "views/im_livechat_ticket_menus.xml",
        "views/im_livechat_ticket_templates.xml",
        "views/im_livechat_ticket_mail_templates.xml",
        "report/im_livechat_ticket_transcript.xml",
        "views/im_livechat_ticket_merge_views.xml",
        "views/im_livechat_ticket_merge_templates.xml",
        "views/im_livechat_ticket_search_views.xml",
        "views/im_livechat_ticket_search_templates.xml",
    ],
    "demo": [
        "demo/im_livechat_ticket_demo.xml",
        "demo/im_livechat_ticket_call_demo.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "im_livechat_ticket/static/src/common/**/*",
            "im_livechat_ticket/static/src/backend/**/*",
        ],
        "web.assets_frontend": [
            "im_livechat_ticket/static/src/common/**/*",
            "im_livechat_ticket/static/src/portal/**/*",
        ],
        "web.assets_tests": [
            "im_livechat_ticket/static/tests/tours/**/*",
        ],
    },
    "images": [
        "static/description/screenshots/customer-ticket-chat.png",
        "static/description/screenshots/agent-queue.png",
    ],
    "post_load": "post_load",
    "uninstall_hook": "uninstall_hook",
    "installable": True,
    "application": False,
}
