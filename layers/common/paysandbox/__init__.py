"""paysandbox domain: everything the Lambda handlers share.

Read top-down: ``settings`` (environment), ``errors`` (domain errors -> HTTP), ``models``
(request and response shapes of both API flavours), ``states`` (the state machine),
``repository`` (the only DynamoDB code), ``payments`` (the operations handlers call).
"""
