"""paysandbox domain: everything the Lambda handlers share.

Read top-down: ``settings`` (environment), ``errors`` (domain errors -> HTTP), ``models``
(request and response shapes of both API flavours), ``states`` (the state machine),
``repository`` (the only DynamoDB code), ``payments`` (the operations handlers call).
"""

__version__ = "0.1.0"  # kept equal to pyproject.toml's version (tests/unit/test_models.py)
