"""E-mail of one-time codes through Amazon SES.

Imported only on the code-step path, so the SES client (one per process, created here at
import) costs nothing to the other checkout requests or functions.
"""

from __future__ import annotations

import boto3

ses = boto3.client("ses")


def send_otp(sender: str, recipient: str, code: str, reference: str, amount_text: str) -> str:
    """Send the code; returns SES's message id. Raises botocore errors on failure."""
    subject = f"Your payment code: {code}"
    text = (
        f"Your one-time code for the payment of {amount_text} ({reference}) is {code}.\n\n"
        "It is valid until the payment expires. If you did not start this payment, ignore this e-mail.\n"
        "-- paysandbox (test mode: no real money moves)\n"
    )
    response = ses.send_email(
        Source=sender,
        Destination={"ToAddresses": [recipient]},
        Message={
            "Subject": {"Data": subject, "Charset": "UTF-8"},
            "Body": {"Text": {"Data": text, "Charset": "UTF-8"}},
        },
    )
    return str(response["MessageId"])
