"""A small OAuth 2 / OpenID Connect provider for the single sign-on tests.

A program, not a test module (Odoo never imports it): ``test_sso.py`` starts it
with ``python oidc_provider.py '<config as JSON>'``. It serves on 127.0.0.1 and a
free port, printed as ``listening on http://127.0.0.1:<port>``, what Odoo's
``auth_oauth`` and OCA's ``auth_oidc`` call at an identity provider such as
Keycloak, built from Authlib's server components on werkzeug:

- ``GET /authorize`` shows a sign-in form, ``POST /authorize`` checks the
  user's password and redirects back to the client: the access token in the
  URL fragment for the implicit flow (``response_type=token``, what
  ``auth_oauth`` asks for), a code in the query for the authorization-code
  flow (``response_type=code``, PKCE required, OpenID ``id_token`` issued);
- ``POST /token`` exchanges a code for an access token and an ``id_token``
  (client authentication by HTTP Basic or form);
- ``GET /userinfo`` answers the claims of a valid access token (bearer header
  or ``access_token`` query parameter), 401 with a ``WWW-Authenticate``
  challenge otherwise; ``/userinfo/header-only`` takes the header only, as
  Microsoft Graph's does;
- ``GET /jwks`` publishes the signing key, ``GET /.well-known/openid-configuration``
  the endpoints.

The configuration has ``clients`` (``client_id``, ``client_secret``,
``redirect_uris``) and ``users`` (``username``, ``password``, ``sub``, ``email``,
``name``, optional ``email_verified``). Everything lives in memory and ends with
the process.
"""

import json
import logging
import secrets
import sys
import time
from collections import defaultdict
from functools import cached_property
from html import escape

from authlib.jose import JsonWebKey
from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    ClientMixin,
    OAuth2Error,
    OAuth2Payload,
    OAuth2Request,
    grants,
)
from authlib.oauth2.rfc6749.models import AuthorizationCodeMixin
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from werkzeug.routing import Map, Rule
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

KEY_ID = "test-key"


class Client(ClientMixin):
    def __init__(self, client_id, client_secret, redirect_uris):
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uris = redirect_uris

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope):
        return scope

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret):
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method, endpoint):
        # each grant lists the methods it accepts: "none" for the implicit grant
        # (no secret in a browser), a secret for a code at the token endpoint
        return True

    def check_response_type(self, response_type):
        return response_type in ("token", "code")

    def check_grant_type(self, grant_type):
        return grant_type in ("authorization_code", "implicit")


class AuthorizationCode(AuthorizationCodeMixin):
    def __init__(self, client_id, user, payload):
        self.client_id = client_id
        self.user = user
        self.redirect_uri = payload.get("redirect_uri")
        self.scope = payload.get("scope")
        self.nonce = payload.get("nonce")
        self.code_challenge = payload.get("code_challenge")
        self.code_challenge_method = payload.get("code_challenge_method")
        self.auth_time = int(time.time())

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return self.auth_time

    def get_acr(self):
        return None

    def get_amr(self):
        return None


def user_info(user, scope):
    """The claims of ``user`` that ``scope`` grants."""
    info = UserInfo(sub=user["sub"])
    scopes = (scope or "").split()
    if "profile" in scopes:
        info["name"] = user["name"]
    if "email" in scopes:
        info["email"] = user["email"]
        info["email_verified"] = user.get("email_verified", True)
    return info


class CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def save_authorization_code(self, code, request):
        self.server.codes[code] = AuthorizationCode(
            request.client.client_id, request.user, request.payload.data
        )

    def query_authorization_code(self, code, client):
        item = self.server.codes.get(code)
        return item if item and item.client_id == client.client_id else None

    def delete_authorization_code(self, authorization_code):
        for code, item in list(self.server.codes.items()):
            if item is authorization_code:
                del self.server.codes[code]

    def authenticate_user(self, authorization_code):
        return authorization_code.user


class IdToken(OpenIDCode):
    """Adds a signed ``id_token`` to the token response of the code grant."""

    def __init__(self, key, issuer):
        super().__init__(require_nonce=False)
        self.key = key
        self.issuer = issuer

    def exists_nonce(self, nonce, request):
        return False

    def get_jwt_config(self, grant, client):
        return {"key": self.key, "alg": "RS256", "iss": self.issuer, "exp": 3600, "kid": KEY_ID}

    def generate_user_info(self, user, scope):
        return user_info(user, scope)


class Payload(OAuth2Payload):
    def __init__(self, request):
        self._request = request

    @property
    def data(self):
        return self._request.values

    @cached_property
    def datalist(self):
        values = defaultdict(list)
        for name in self.data:
            values[name].extend(self.data.getlist(name))
        return values


class WerkzeugOAuth2Request(OAuth2Request):
    """What Authlib's Flask integration does, for a plain werkzeug request."""

    def __init__(self, request):
        super().__init__(request.method, request.url, headers=request.headers)
        self._request = request
        self.payload = Payload(request)

    @property
    def args(self):
        return self._request.args

    @property
    def form(self):
        return self._request.form


def generate_bearer_token(grant_type, client, user=None, scope=None, **kwargs):
    return {
        "token_type": "Bearer",
        "access_token": secrets.token_urlsafe(32),
        "expires_in": 3600,
        "scope": scope,
    }


class Provider(AuthorizationServer):
    """The authorization server, its in-memory store and its HTTP endpoints."""

    def __init__(self, config, issuer):
        super().__init__()
        self.issuer = issuer
        self.key = JsonWebKey.generate_key("RSA", 2048, is_private=True, options={"kid": KEY_ID})
        self.clients = {c["client_id"]: Client(**c) for c in config["clients"]}
        self.users = {user["username"]: user for user in config["users"]}
        self.tokens = {}  # access token -> (user, client id, scope)
        self.codes = {}  # code -> AuthorizationCode
        self.register_token_generator("default", generate_bearer_token)
        self.register_grant(grants.ImplicitGrant)
        self.register_grant(CodeGrant, [IdToken(self.key, issuer), CodeChallenge(required=True)])
        self.url_map = Map(
            [
                Rule("/authorize", endpoint="authorize", methods=["GET", "POST"]),
                Rule("/token", endpoint="token", methods=["POST"]),
                Rule("/userinfo", endpoint="userinfo", methods=["GET", "POST"]),
                Rule("/userinfo/header-only", endpoint="userinfo_header", methods=["GET"]),
                Rule("/jwks", endpoint="jwks", methods=["GET"]),
                Rule("/.well-known/openid-configuration", endpoint="discovery"),
            ]
        )

    # what Authlib leaves to a framework integration

    def query_client(self, client_id):
        return self.clients.get(client_id)

    def save_token(self, token, request):
        self.tokens[token["access_token"]] = (
            request.user,
            request.client.client_id,
            token["scope"],
        )

    def create_oauth2_request(self, request):
        return WerkzeugOAuth2Request(request)

    def handle_response(self, status, body, headers):
        if isinstance(body, dict):
            body = json.dumps(body)
        return Response(body, status=status, headers=headers)

    def send_signal(self, name, *args, **kwargs):
        pass

    # the endpoints

    @Request.application
    def __call__(self, request):
        endpoint, _ = self.url_map.bind_to_environ(request.environ).match()
        return getattr(self, f"_serve_{endpoint}")(request)

    def _serve_authorize(self, request):
        try:
            grant = self.get_consent_grant(request)
        except OAuth2Error as error:
            return self._json(dict(error.get_body()), status=400)
        if request.method == "GET":
            return self._login_form(request)
        user = self.users.get(request.form.get("username", ""))
        if not user or not secrets.compare_digest(
            user["password"], request.form.get("password", "")
        ):
            return self._login_form(request, "Invalid username or password")
        return self.create_authorization_response(request, grant_user=user, grant=grant)

    def _login_form(self, request, error=""):
        # the authorization request goes on in hidden fields
        hidden = "".join(
            f'<input type="hidden" name="{escape(name)}" value="{escape(value)}"/>'
            for name, value in request.args.items(multi=True)
        )
        body = (
            "<html><body><h1>Test identity provider</h1>"
            f'<p class="error">{escape(error)}</p>'
            f'<form method="post" action="/authorize">{hidden}'
            '<input name="username"/><input name="password" type="password"/>'
            '<button type="submit">Sign in</button></form></body></html>'
        )
        return Response(body, status=401 if error else 200, content_type="text/html")

    def _serve_token(self, request):
        return self.create_token_response(request)

    def _serve_userinfo(self, request, header_only=False):
        access_token = "" if header_only else request.args.get("access_token", "")
        scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            access_token = credentials
        if access_token not in self.tokens:
            response = self._json({"error": "invalid_token"}, status=401)
            response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
            return response
        user, _client_id, scope = self.tokens[access_token]
        return self._json(dict(user_info(user, scope)))

    def _serve_userinfo_header(self, request):
        return self._serve_userinfo(request, header_only=True)

    def _serve_jwks(self, request):
        return self._json({"keys": [self.key.as_dict(is_private=False, alg="RS256", use="sig")]})

    def _serve_discovery(self, request):
        return self._json(
            {
                "issuer": self.issuer,
                "authorization_endpoint": self.issuer + "/authorize",
                "token_endpoint": self.issuer + "/token",
                "userinfo_endpoint": self.issuer + "/userinfo",
                "jwks_uri": self.issuer + "/jwks",
                "response_types_supported": ["code", "token"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
            }
        )

    @staticmethod
    def _json(data, status=200):
        return Response(json.dumps(data), status=status, content_type="application/json")


def main():
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # errors only, not every request
    config = json.loads(sys.argv[1])
    # port 0: the system picks a free one; the issuer names it, so bind first
    server = make_server("127.0.0.1", 0, lambda environ, start_response: [], threaded=True)
    issuer = f"http://127.0.0.1:{server.server_port}"
    server.app = Provider(config, issuer)
    sys.stdout.write(f"listening on {issuer}\n")
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
