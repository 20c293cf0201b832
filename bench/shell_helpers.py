"""What the scripts bench runs inside ``odoo-bin shell`` (populate.py, queue_populate.py) share.

A shell script is read from stdin, so it has no ``__file__`` to import beside; ``Odoo.shell``
(bench/server.py) sets ``$BENCH_DIR`` and the scripts load this file with
``runpy.run_path(os.path.join(os.environ["BENCH_DIR"], "shell_helpers.py"))``.
"""

from odoo import Command
from odoo.tools import plaintext2html


def make_users(env, login_prefix, names, groups, password):
    """One user per name, logins ``<login_prefix>_0000``..., all with ``password``; the hash is
    computed once and copied (pbkdf2 costs ~0.5 s)."""
    if not names:
        return env["res.users"]
    users = (
        env["res.users"]
        .with_context(no_reset_password=True)
        .create(
            [
                {
                    "name": name,
                    "login": f"{login_prefix}_{i:04d}",
                    "email": f"{login_prefix}_{i:04d}@example.com",
                    "groups_id": [Command.set(groups)],
                }
                for i, name in enumerate(names)
            ]
        )
    )
    users[0].password = password
    env.flush_all()
    env.cr.execute("SELECT password FROM res_users WHERE id = %s", [users[0].id])
    hashed = env.cr.fetchone()[0]
    env.cr.execute("UPDATE res_users SET password = %s WHERE id IN %s", [hashed, tuple(users.ids)])
    return users


def post_as(user, channel, text):
    """Posts ``text`` on ``channel`` as ``user``, as a comment."""
    # sudo: as /mail/message/post does, after its access check
    channel.with_user(user).sudo().message_post(
        body=plaintext2html(text), message_type="comment", subtype_xmlid="mail.mt_comment"
    )
