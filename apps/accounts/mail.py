"""The mails the app sends on a person's behalf (invitations, password resets, address
confirmations), how often they may be sent, and the signed link that confirms a new address.

Every mail goes to an address somebody typed, so each kind is limited per sender and per
recipient within an hour (settings.MAIL_LIMITS), counted in the cache: Redis in production,
shared by every app process, so the limit holds however many processes serve the site.
"""

from __future__ import annotations

import hashlib
import logging
import time

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django_tasks import task

log = logging.getLogger(__name__)

WINDOW_SECONDS = 3600


class MailRefused(Exception):
    """Too many mails of one kind within the hour; the message says which limit."""


def spend(kind: str, **who: str) -> None:
    """Count one mail of `kind` for each party named (sender=…, recipient=…, client=…), or
    raise MailRefused, counting nothing, when one of them has used its hour's allowance.

    A fixed one-hour window per party: simple, shared through the cache, and at worst twice
    the limit across a window's edge, which is enough to stop a flood.
    """
    limits = settings.MAIL_LIMITS[kind]
    window = int(time.time() // WINDOW_SECONDS)
    keys = {}
    for party, value in who.items():
        if value is None:
            continue
        digest = hashlib.sha256(str(value).strip().lower().encode()).hexdigest()[:32]
        keys[party] = f"mail:{kind}:{party}:{digest}:{window}"
    counts = cache.get_many(list(keys.values()))
    for party, key in keys.items():
        if counts.get(key, 0) >= limits[party]:
            raise MailRefused(LIMIT_MESSAGES[party])
    for key in keys.values():
        cache.add(key, 0, timeout=WINDOW_SECONDS)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=WINDOW_SECONDS)


LIMIT_MESSAGES = {
    "sender": "You have sent as many of these emails as one person may within an hour. "
    "Nothing was sent; try again later.",
    "recipient": "That address has been sent as many of these emails as it may get within an "
    "hour. Nothing was sent; try again later.",
    "client": "Too many of these requests came from your network address within an hour. "
    "Nothing was sent; try again later.",
}


def send(template: str, context: dict, to: str) -> bool:
    """Send accounts/<template>_subject.txt and accounts/<template>.txt to one address; False
    (logged) when the mail server refused it, so the caller can say so instead of failing."""
    subject = render_to_string(f"accounts/{template}_subject.txt", context)
    body = render_to_string(f"accounts/{template}.txt", context)
    try:
        send_mail(" ".join(subject.split()), body, None, [to])
    except Exception:
        log.exception("Could not send the %s mail", template)
        return False
    return True


@task()
def deliver(subject: str, body: str, to: str) -> None:
    """Send one mail from the background jobs' queue (a failure is the task's, logged)."""
    send_mail(subject, body, None, [to])


def send_later(subject: str, body: str, to: str) -> None:
    """Queue a mail for the job runner: the request that asks for it answers at once, and in
    the same time whether or not a mail is sent."""
    from apps.jobs.running import wake_thread

    deliver.enqueue(" ".join(subject.split()), body, to)
    transaction.on_commit(wake_thread)


# --- Confirming a new email address ----------------------------------------------------------

EMAIL_CHANGE_SALT = "citemap.accounts.email-change"


class EmailChangeError(Exception):
    def __init__(self, message: str, *, status: int = 410) -> None:
        super().__init__(message)
        self.status = status


def email_change_token(user, new_email: str) -> str:
    """A signed link for `user` to take `new_email`. It carries the address the account has
    now, so it works once: after the change (or any other change of address) it is stale."""
    return signing.dumps(
        {"u": user.pk, "e": new_email, "o": user.email}, salt=EMAIL_CHANGE_SALT, compress=True
    )


def email_change_from_token(token: str, user) -> str:
    """The new address the link confirms for `user`, or EmailChangeError saying why not."""
    max_age = settings.EMAIL_CHANGE_MAX_AGE_DAYS * 24 * 3600
    try:
        data = signing.loads(token, salt=EMAIL_CHANGE_SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise EmailChangeError(
            "This confirmation link has expired. Change the address on your profile again to "
            "get a new one."
        ) from None
    except (signing.BadSignature, ValueError, UnicodeError):
        raise EmailChangeError("This confirmation link is not valid.", status=404) from None
    if not isinstance(data, dict) or not {"u", "e", "o"} <= data.keys():
        raise EmailChangeError("This confirmation link is not valid.", status=404)
    if data["u"] != user.pk:
        raise EmailChangeError(
            "This confirmation link is for another account. Sign in to the account whose "
            "address you changed, then open the link again.",
            status=403,
        )
    if data["o"] != user.email:
        raise EmailChangeError(
            "This confirmation link was already used, or your address changed since it was sent."
        )
    return data["e"]
