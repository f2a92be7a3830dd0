#!/usr/bin/env python3
"""Loads a small demo catalog through the command API, as a client would: the demo seller signs
up, confirms their address with the token the notifier mailed to the local sink ($MAIL_DIR, read
with mailbox.py), is made a seller by the admin, and creates the products.

Usage: demo_data.py .dev/stack.env
Skips everything when the demo seller already is one, so `make up` can run it every time. A run
cut short before the promotion carries on where it stopped: the account that exists is signed in
to, an address verified already is not verified again, a spent or expired token is replaced by a
new mail.
"""

import base64
import json
import sys
import time
import urllib.error
import urllib.request

import mailbox

SELLER_EMAIL = "demo-seller@cloudcommerce.dev"
SELLER_PASSWORD = "demo-seller-password"

PRODUCTS = [
    ("KET-001", "Kettle", "kitchen", 2599, "Boils 1.7 l in under three minutes."),
    ("TEA-010", "Teapot", "kitchen", 3450, "Stoneware teapot, 1 l."),
    ("MUG-002", "Enamel mug", "kitchen", 1200, "Camp mug, 350 ml."),
    ("LMP-100", "Desk lamp", "lighting", 4999, "Dimmable LED desk lamp."),
    ("BLB-007", "Filament bulb", "lighting", 899, "E27, 4 W, warm white."),
    ("CHR-055", "Oak chair", "furniture", 12900, "Solid oak dining chair."),
    ("TBL-020", "Side table", "furniture", 8900, "Round side table, 45 cm."),
    ("BKS-300", "Bookshelf", "furniture", 15900, "Five shelves, walnut veneer."),
]
# From sign-up to the file in the sink: the relay, the broker, the notifier and one SMTP round
# trip, about a second here; a first start of the notifier may take longer.
MAIL_TIMEOUT_S = 60


def load_env(path):
    env = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if "=" in line:
                key, value = line.strip().split("=", 1)
                env[key] = value
    return env


def call(base, method, path, body=None, token=None):
    request = urllib.request.Request(base + path, method=method)
    request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", "Bearer " + token)
    data = json.dumps(body).encode() if body is not None else None
    try:
        with urllib.request.urlopen(request, data=data, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def login(base, email, password):
    status, body = call(base, "POST", "/v1/sessions", {"email": email, "password": password})
    return body["access_token"] if status == 200 else None


def claims(token):
    """The payload of an access token, unverified: who signed in, and with which role."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def verify_email(base, mail_dir, user_id, token, fresh):
    """Posts the token of the newest verification mail to the seller, as their click on the link
    would. When there is no such mail (an account from an earlier run whose mail was deleted), or
    its token is spent or expired (410), asks for a new mail once; 409 then means the address was
    verified already."""
    since = None
    for attempt in (1, 2):
        try:
            mail = mailbox.wait_for_mail(mail_dir, SELLER_EMAIL, mailbox.VERIFY_SUBJECT,
                                         MAIL_TIMEOUT_S if fresh or attempt == 2 else 5,
                                         after=since)
        except TimeoutError as error:
            if fresh or attempt == 2:
                sys.exit(f"{error}; see .dev/logs/notifier.log and .dev/logs/mail-sink.log")
            mail = None
        if mail is not None:
            status, body = call(base, "POST", f"/v1/users/{user_id}/email-verification",
                                {"token": mailbox.token_from(mail)})
            if status == 200:
                return
            if status != 410 or attempt == 2:
                sys.exit(f"verifying the demo seller's address failed: {status} {body}")
        since = time.time()
        status, body = call(base, "POST", f"/v1/users/{user_id}/email-verification-requests",
                            token=token)
        if status == 409 and (body or {}).get("code") == "email_already_verified":
            return
        if status != 202:
            sys.exit(f"asking for another verification mail failed: {status} {body}")


def main():
    env = load_env(sys.argv[1])
    base = env["COMMAND_API_URL"]
    seller = login(base, SELLER_EMAIL, SELLER_PASSWORD)
    if seller and claims(seller).get("role") == "seller":
        print("==> demo data already loaded", file=sys.stderr)
        return
    admin = login(base, env["DEV_ADMIN_EMAIL"], env["DEV_ADMIN_PASSWORD"])
    if not admin:
        sys.exit("cannot sign in as the bootstrap admin")
    fresh = seller is None
    if fresh:
        status, body = call(base, "POST", "/v1/users", {
            "email": SELLER_EMAIL, "password": SELLER_PASSWORD, "display_name": "Demo Seller"})
        if status != 201:
            sys.exit(f"registering the demo seller failed: {status} {body}")
        seller = login(base, SELLER_EMAIL, SELLER_PASSWORD)
    seller_id = claims(seller)["sub"]
    # Only an address that reaches a person may hold a seller's rights.
    verify_email(base, env["MAIL_DIR"], seller_id, seller, fresh)
    status, body = call(base, "PUT", f"/v1/users/{seller_id}/role", {"role": "seller"}, admin)
    if status != 200:
        sys.exit(f"promoting the demo seller failed: {status} {body}")
    seller = login(base, SELLER_EMAIL, SELLER_PASSWORD)
    for sku, name, category, price, description in PRODUCTS:
        status, body = call(base, "POST", "/v1/products", {
            "sku": sku, "name": name, "category": category, "description": description,
            "price": {"amount_minor": price, "currency": "EUR"}, "stock": 25}, seller)
        if status != 201:
            sys.exit(f"creating {sku} failed: {status} {body}")
        call(base, "POST", f"/v1/products/{body['id']}/publish", token=seller)
    print(f"==> demo data loaded: 1 seller, {len(PRODUCTS)} published products", file=sys.stderr)


if __name__ == "__main__":
    main()
