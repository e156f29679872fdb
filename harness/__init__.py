"""The one test harness shared by ``tests/``, ``bench/`` and ``sandbox/``.

- ``fake_aws``: the fake AWS identity every local process uses, and a fresh moto account.
- ``receiver``: a real webhook receiver on 127.0.0.1.
- ``streams``: a DynamoDB stream reader (moto's real GetRecords).
- ``webhook_checks``: a delivery's signatures checked as a merchant's receiver checks them.
- ``sandbox_process``: ``python -m sandbox`` started as a user would.

Product code (``functions/``, ``layers/``) never imports it. Modules here import boto3 or
moto only inside functions, so importing the package changes nothing.
"""
