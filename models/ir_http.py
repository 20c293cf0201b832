import re

from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import HTTPException

from odoo import models
from odoo.http import request

# Odoo's XPG codes (language[_territory][@modifier]) and their BCP 47 scripts,
# as pyToJsLocale (web/static/src/core/l10n/utils/locales.js) converts them
XPG_LANG = re.compile(r"^([a-z]+)(?:_([A-Z\d]+))?(?:@(.+))?$")
XPG_SCRIPTS = {"latin": "Latn", "Cyrl": "Cyrl"}


class IrHttp(models.AbstractModel):
    """The frontend's language of a signed-in user is their profile's.

    Odoo picks a frontend page's language from, in order, the URL
    (``/de/my/tickets``), the ``frontend_lang`` cookie, the session's context
    (the profile's language at login) and the default language
    (``http_routing``'s ``_match``). The cookie follows whatever the browser
    last showed, e.g. an anonymous visit, so a signed-in customer could see
    pages in another language than their profile's, which their e-mails use.

    For a signed-in user, this makes it: the language in the URL, which is a
    choice of the language selector (its links are ``/<lang>/<page>``) and is
    saved to the user's profile; else the profile's language. The cookie
    keeps following the page (Odoo sets it), for the frontend's JavaScript."""

    _inherit = "ir.http"

    @classmethod
    def _match(cls, path):
        if (
            hasattr(request, "is_frontend")
            or not request.session.uid
            or cls._is_not_frontend_route(path)
        ):
            return super()._match(path)
        chosen_lang = cls._get_url_frontend_lang(path)
        if chosen_lang:
            request.im_livechat_ticket_chosen_lang = chosen_lang
            # Served without its prefix here: Odoo would redirect (/de/page to
            # /page for the default language) or rewrite it the same way.
            path = "/" + (path.split("/", 2)[2:] or [""])[0]
            request.reroute(path)
        # Routed as if the default language were asked: Odoo redirects to
        # /<lang>/page for another one, which would read as a choice. The
        # language is set once the user is known (_pre_dispatch).
        cookies, env = request.cookies, request.env
        if "frontend_lang" in cookies:
            request.cookies = ImmutableMultiDict(
                [(key, value) for key, value in cookies.items(multi=True) if key != "frontend_lang"]
            )
        request.env = env(context=dict(env.context, lang=cls._get_default_lang().code))
        try:
            return super()._match(path)
        finally:
            request.cookies, request.env = cookies, env
            if getattr(request, "is_frontend", False):
                # until _pre_dispatch knows better (an unknown page's 404 stops before)
                session_lang = request.env["ir.http"].get_nearest_lang(env.context.get("lang"))
                request.lang = (
                    chosen_lang
                    or (session_lang and request.env["res.lang"]._get_data(code=session_lang))
                    or getattr(request, "lang", None)
                )

    @classmethod
    def _is_not_frontend_route(cls, path):
        """Whether ``path`` is a route without a page language (JSON-RPC, the
        websocket, the backend): most of a signed-in user's requests, every
        message and every socket among them. Matched as Odoo's base ir.http
        matches, which is what http_routing does first too; a path it does
        not know (``/de/my/tickets``) may be a page behind a language."""
        try:
            rule, _args = (
                request.env["ir.http"]
                .routing_map()
                .bind_to_environ(request.httprequest.environ)
                .match(path_info=path, return_rule=True)
            )
        except HTTPException:  # not found, or a redirect: the page logic decides
            return False
        return not rule.endpoint.routing.get("website", False)

    @classmethod
    def _pre_dispatch(cls, rule, args):
        if getattr(request, "is_frontend", False) and request.session.uid:
            lang = cls._get_signed_in_frontend_lang()
            if lang:
                request.lang = lang
        return super()._pre_dispatch(rule, args)

    @classmethod
    def _get_url_frontend_lang(cls, path):
        """The frontend language whose code starts ``path`` (``/de/...`` or
        ``/de_DE/...``), or None."""
        prefix = path.split("/", 2)[1]
        if not prefix:
            return None
        for lang in request.env["res.lang"]._get_frontend().values():
            if prefix in (lang.url_code, lang.code):
                return lang
        return None

    @classmethod
    def _get_signed_in_frontend_lang(cls):
        """The language of the page for the signed-in user: the one chosen in
        the URL, saved to their profile (on a GET, as the language selector
        sends), else their profile's. None for the public user."""
        if not request.env.uid or request.env.user._is_public():
            return None
        user = request.env.user
        lang = getattr(request, "im_livechat_ticket_chosen_lang", None)
        if lang:
            if request.httprequest.method != "GET" or request.env.cr.readonly:
                return lang
            if user.lang != lang.code:
                # a user may write their own language (res.users.SELF_WRITEABLE_FIELDS)
                user.write({"lang": lang.code})
        else:
            profile_lang = request.env["ir.http"].get_nearest_lang(user.lang)
            if not profile_lang:
                return None
            lang = request.env["res.lang"]._get_data(code=profile_lang)
        # the session's context follows (the frontend's JavaScript reads it)
        if request.session.context.get("lang") != lang.code:
            request.session.context = dict(request.session.context, lang=lang.code)
        return lang

    def _get_html_lang(self, lang_code):
        """``lang_code`` (Odoo's, e.g. ``de_DE``, ``sr@latin``) as HTML's
        ``lang`` wants it (BCP 47: ``de-DE``, ``sr-Latn``)."""
        match = XPG_LANG.match(lang_code or "")
        if not match:
            return (lang_code or "").replace("_", "-")
        language, territory, modifier = match.groups()
        return "-".join(filter(None, [language, XPG_SCRIPTS.get(modifier), territory]))
