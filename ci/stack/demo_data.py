#!/usr/bin/env python3
"""Loads a small demo catalog through the command API, as a client would.

Usage: demo_data.py .dev/stack.env
Skips everything when the demo seller already exists, so `make up` can run it every time.
"""

import json
import sys
import urllib.error
import urllib.request

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


def main():
    env = load_env(sys.argv[1])
    base = env["COMMAND_API_URL"]
    if login(base, SELLER_EMAIL, SELLER_PASSWORD):
        print("==> demo data already loaded", file=sys.stderr)
        return
    admin = login(base, env["DEV_ADMIN_EMAIL"], env["DEV_ADMIN_PASSWORD"])
    if not admin:
        sys.exit("cannot sign in as the bootstrap admin")
    status, body = call(base, "POST", "/v1/users", {
        "email": SELLER_EMAIL, "password": SELLER_PASSWORD, "display_name": "Demo Seller"})
    if status != 201:
        sys.exit(f"registering the demo seller failed: {status} {body}")
    seller_id = body["id"]
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
