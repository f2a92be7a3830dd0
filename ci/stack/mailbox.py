#!/usr/bin/env python3
"""Reads the mail the notifier sent to the local SMTP sink: the sink (`mail-sink`, testkit) writes
each message it receives as `<dir>/<unix-millis>-<seq>.eml`, renamed into place once complete.
Standard library only, so `make up`, the walk-through and every Python suite can use it as is.

As a module (the suites and demo_data.py put ci/stack on sys.path):

    mail = wait_for_mail(mail_dir, "ada@example.com", VERIFY_SUBJECT, timeout_s=60)
    token = token_from(mail)          # the 43-character token of the mail's link
    link_params(mail)["user"]         # the user id a verification link names
    mails(mail_dir, to_address=..., subject_contains=..., after=...)   # every match, oldest first

`after` (unix seconds) leaves out mail the sink received earlier: a caller that asks for a new
mail notes the time first, so that an older mail to the same address cannot answer for it.
When several mails match, `wait_for_mail` answers the newest, the one a person would click.

As a command (the mail directory is `--dir`, else $MAIL_DIR, else .dev/mail of this checkout):

    python3 ci/stack/mailbox.py token --to ada@example.com --kind verify   # prints the token
    python3 ci/stack/mailbox.py token --to ada@example.com --kind reset --timeout 30
    python3 ci/stack/mailbox.py show --to ada@example.com                  # the newest mail
    python3 ci/stack/mailbox.py list                                       # one line per mail

`--kind` is verify ("Confirm your email address") or reset ("Reset your password"). Exit
status 1, with the reason on stderr, when no such mail arrived within `--timeout` (default 30 s).

The name is the one the plan gave it; it shadows the standard library's `mailbox` (mbox,
Maildir) for a program that puts ci/stack first on sys.path, and none of them uses that one.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import email.utils
import os
import re
import signal
import sys
import time
from email.message import EmailMessage
from pathlib import Path

VERIFY_SUBJECT = "Confirm your email address"
RESET_SUBJECT = "Reset your password"
CHANGED_SUBJECT = "Your password was changed"
KINDS = {"verify": VERIFY_SUBJECT, "reset": RESET_SUBJECT}

# 32 random bytes, base64url without padding. The link carries it in its fragment
# (`#user=<id>&token=<token>` or `#token=<token>`); an HTML part would escape `&` as `&amp;`.
TOKEN = re.compile(r"(?<![A-Za-z0-9_-])token=([A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])")
FRAGMENT = re.compile(r"#((?:[a-z_]+=[A-Za-z0-9_.-]+(?:&amp;|&))*[a-z_]+=[A-Za-z0-9_.-]+)")
POLL_S = 0.1

# Parsed messages by path: a file in the sink's directory never changes once it is there, and a
# suite waits for hundreds of mails in a directory that holds hundreds more.
_parsed: dict[Path, tuple[frozenset[str], str, EmailMessage]] = {}


def default_dir() -> Path:
    return Path(os.environ.get("MAIL_DIR") or Path(__file__).resolve().parents[2] / ".dev" / "mail")


def received_at(path: Path) -> float:
    """Unix seconds the sink received the message, from its file name; its mtime otherwise."""
    millis = path.name.split("-", 1)[0]
    return int(millis) / 1000 if millis.isdigit() else path.stat().st_mtime


def parse(path: Path) -> tuple[frozenset[str], str, EmailMessage]:
    """(lower-case recipient addresses, subject, message) of one .eml file."""
    if path not in _parsed:
        with open(path, "rb") as handle:
            message = email.message_from_binary_file(handle, policy=email.policy.default)
        recipients = frozenset(address.lower() for _, address in
                               email.utils.getaddresses(message.get_all("to", [])))
        _parsed[path] = (recipients, str(message.get("subject", "")), message)
    return _parsed[path]


def mails(mail_dir: str | Path, to_address: str | None = None,
          subject_contains: str | None = None, after: float | None = None) -> list[EmailMessage]:
    """Every complete mail in `mail_dir` to `to_address` whose subject contains
    `subject_contains`, received at or after `after` (unix seconds), oldest first. Each message
    has `received_at` (unix seconds), `path` and `recipients` (lower-case addresses) set as
    attributes."""
    folder = Path(mail_dir)
    if not folder.is_dir():
        return []
    found = []
    # The sink writes `<name>.tmp` and renames it: only `.eml` files are complete.
    for path in sorted(folder.glob("*.eml"), key=lambda p: (received_at(p), p.name)):
        at = received_at(path)
        if after is not None and at < after:
            continue
        recipients, subject, message = parse(path)
        if to_address is not None and to_address.lower() not in recipients:
            continue
        if subject_contains is not None and subject_contains not in subject:
            continue
        message.received_at, message.path, message.recipients = at, path, recipients
        found.append(message)
    return found


def wait_for_mail(mail_dir: str | Path, to_address: str, subject_contains: str,
                  timeout_s: float, after: float | None = None) -> EmailMessage:
    """The newest mail to `to_address` whose subject contains `subject_contains` (received at
    or after `after`, unix seconds), once one is there; TimeoutError after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = mails(mail_dir, to_address, subject_contains, after)
        if found:
            return found[-1]
        if time.monotonic() >= deadline:
            raise TimeoutError(f"no mail to {to_address} with {subject_contains!r} in {mail_dir} "
                               f"within {timeout_s:.0f} s")
        time.sleep(POLL_S)


def text_of(message: EmailMessage) -> str:
    """The plain-text part (else the HTML one), decoded; the notifier's text part states the
    link and the token."""
    part = message.get_body(preferencelist=("plain", "html"))
    return part.get_content() if part is not None else ""


def token_from(message: EmailMessage) -> str:
    """The token of the mail's link; ValueError when the mail carries none, or two that differ."""
    found = set(TOKEN.findall(text_of(message)))
    if len(found) != 1:
        raise ValueError(f"{len(found)} distinct tokens in the mail {message.get('subject')!r}")
    return found.pop()


def link_params(message: EmailMessage) -> dict[str, str]:
    """The parameters of the first link fragment that carries a token, e.g. {"user": ...,
    "token": ...} of a verification link."""
    for fragment in FRAGMENT.findall(text_of(message)):
        params = dict(pair.split("=", 1) for pair in fragment.replace("&amp;", "&").split("&"))
        if "token" in params:
            return params
    return {}


def main(argv: list[str]) -> int:
    # `mailbox.py list | head` ends quietly, as other commands in a pipe do.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=None, help="the sink's directory")
    commands = parser.add_subparsers(dest="command", required=True)
    token = commands.add_parser("token", help="print the token of the newest such mail")
    token.add_argument("--to", required=True)
    token.add_argument("--kind", choices=sorted(KINDS), required=True)
    token.add_argument("--timeout", type=float, default=30.0)
    show = commands.add_parser("show", help="print the newest mail to an address")
    show.add_argument("--to", required=True)
    show.add_argument("--timeout", type=float, default=30.0)
    commands.add_parser("list", help="one line per mail: time, recipients, subject")
    args = parser.parse_args(argv)
    mail_dir = args.dir or default_dir()
    try:
        if args.command == "token":
            print(token_from(wait_for_mail(mail_dir, args.to, KINDS[args.kind], args.timeout)))
        elif args.command == "show":
            message = wait_for_mail(mail_dir, args.to, "", args.timeout)
            print(f"From: {message['from']}\nTo: {message['to']}\nSubject: {message['subject']}"
                  f"\nFile: {message.path}\n\n{text_of(message)}")
        else:
            for message in mails(mail_dir):
                stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(message.received_at))
                print(f"{stamp}  {message['to']}  {message['subject']}")
    except (TimeoutError, ValueError) as error:
        print(f"mailbox: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
