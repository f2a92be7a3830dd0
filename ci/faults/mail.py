"""What the suites read from their SMTP sink (ci/stack/mailbox.py does the reading): a user's
token, as the user would take it from their mail, and which users got their verification mail,
how many times. The fault suite and the security suite use it.

Every user the fault suite signs up is sent one verification mail and asks for none again, so a
second one to the same address is a duplicate: the notifier mailed it, died before it recorded
the delivery, and mailed it again after its restart (at least once, by design).
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "stack"))

import mailbox  # noqa: E402  (ci/stack/mailbox.py, shared with make up and the other suites)

VERIFY_SUBJECT = mailbox.VERIFY_SUBJECT
RESET_SUBJECT = mailbox.RESET_SUBJECT
CHANGED_SUBJECT = mailbox.CHANGED_SUBJECT
# From a sign-up to its file in the sink: the relay, the broker, the notifier and one SMTP
# round trip, a second or two; a busy 2-core machine and a notifier just started take longer.
MAIL_TIMEOUT_S = 60.0


def verification_token(mail_dir: Path, email: str, user_id: str,
                       timeout: float = MAIL_TIMEOUT_S) -> str:
    """The token of the newest verification mail to `email`, checked to be for `user_id`."""
    message = mailbox.wait_for_mail(mail_dir, email, VERIFY_SUBJECT, timeout)
    named = mailbox.link_params(message).get("user")
    if named != user_id:
        raise RuntimeError(f"the verification mail to {email} names user {named}, not {user_id}")
    return mailbox.token_from(message)


def token(mail_dir: Path, email: str, subject: str, after: float | None = None,
          timeout: float = MAIL_TIMEOUT_S) -> str:
    """The token of the newest mail to `email` with `subject`, received at or after `after`."""
    return mailbox.token_from(mailbox.wait_for_mail(mail_dir, email, subject, timeout, after))


def arrived(mail_dir: Path, email: str, subject: str, after: float | None = None,
            timeout: float = MAIL_TIMEOUT_S) -> bool:
    """Whether a mail to `email` with `subject` arrived (at or after `after`) within `timeout`."""
    try:
        mailbox.wait_for_mail(mail_dir, email, subject, timeout, after)
        return True
    except TimeoutError:
        return False


def count(mail_dir: Path, email: str, subject: str, after: float | None = None) -> int:
    return len(mailbox.mails(mail_dir, email, subject, after))


def verification_counts(mail_dir: Path) -> Counter:
    """How many verification mails each address was sent."""
    counts: Counter = Counter()
    for message in mailbox.mails(mail_dir, subject_contains=VERIFY_SUBJECT):
        counts.update(message.recipients)
    return counts


def mailed_to_prefix(mail_dir: Path, prefix: str, after: float | None = None) -> int:
    """How many verification mails went to addresses that start with `prefix`."""
    return sum(1 for message in mailbox.mails(mail_dir, subject_contains=VERIFY_SUBJECT,
                                              after=after)
               if any(address.startswith(prefix) for address in message.recipients))


def unmailed(mail_dir: Path, addresses: set[str]) -> set[str]:
    """The addresses among `addresses` that have no verification mail yet."""
    mailed = verification_counts(mail_dir)
    return {a for a in addresses if a.lower() not in mailed}
