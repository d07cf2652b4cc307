"""E-mail drafts (.eml) a coordinator opens in Outlook (or Thunderbird, Apple Mail) and sends themselves.

hwbs-xl never sends mail: no SMTP, no accounts. A draft is a plain RFC 5322 message with the header
``X-Unsent: 1``, which makes Outlook open it as an unsent message ready to edit and send. The subject and
body come from a template whose first line is ``Subject: ...`` followed by a blank line (see
templates/email_issue.txt); ``{name}`` placeholders are filled from the values given (``templates.fill``).
"""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Mapping
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formataddr
from pathlib import Path

from .. import templates
from ..errors import InvalidData
from ..templates import fill

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def render_template(name: str, values: Mapping[str, object], plan_dir: Path | None = None) -> tuple[str, str]:
    """(subject, body) of an e-mail template, placeholders filled."""
    text = templates.read_text(name, plan_dir).replace("\r\n", "\n")
    first, _, body = text.partition("\n")
    if not first.lower().startswith("subject:"):
        raise InvalidData(f"The e-mail template {name} does not start with a 'Subject:' line.",
                          hint="Make its first line 'Subject: ...', then a blank line, then the message.")
    return fill(first.split(":", 1)[1].strip(), values), fill(body.lstrip("\n"), values)


def build_eml(to_name: str, to_email: str, subject: str, body: str, attachment: Path | None, *,
              data: bytes | None = None) -> bytes:
    """One draft message, attachment included, as the bytes of an .eml file (CRLF line endings).
    ``data`` is the attachment's content when it is already in memory (else it is read from the path).

    ``to_email`` may be empty: the draft then has no ``To`` for the coordinator to fill in Outlook. No Date or Message-ID header, so the same input gives the same bytes.
    """
    msg = EmailMessage(policy=SMTP)
    if to_email:
        msg["To"] = formataddr((to_name, to_email))
    msg["Subject"] = " ".join(subject.split())
    msg["X-Unsent"] = "1"
    msg.set_content(body.replace("\r\n", "\n"))
    if attachment is not None:
        mime = XLSX_TYPE if attachment.suffix.lower() == ".xlsx" else (
            mimetypes.guess_type(attachment.name)[0] or "application/octet-stream")
        maintype, subtype = mime.split("/", 1)
        data = attachment.read_bytes() if data is None else data
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=attachment.name)
        # The email package picks a random boundary; one derived from the content keeps drafts reproducible
        # ("==" cannot start a base64 line, so the boundary never occurs inside the attachment).
        msg.set_boundary("==hwbs-xl-" + hashlib.sha256(data + body.encode("utf-8")).hexdigest()[:32] + "==")
    return msg.as_bytes()
