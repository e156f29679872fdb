"""The API's OpenAPI 3.1 description (served at /openapi.json and /docs), built from the models at build/test time.

Nothing here runs in a request: ``python -m paysandbox.apidoc`` writes the document and its
HTML rendering next to the merchant function, which serves them as static files (generating
the schema at cold start would cost ~140 ms).
"""
