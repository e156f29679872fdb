"""A readable HTML rendering of the document for ``GET /docs``: static, no script, no CDN.

The one ``<style>`` carries ``{{nonce}}``, which the handler replaces per response to match
its Content-Security-Policy (as the console does).
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

STYLE = """
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1d2330;background:#fff}
main{max-width:60rem;margin:0 auto;padding:1rem}
h1{margin:.5rem 0}h2{margin-top:2rem;border-bottom:1px solid #d8dce3}
section{border:1px solid #d8dce3;border-radius:6px;padding:.5rem 1rem;margin:1rem 0}
h3{margin:.3rem 0;font-size:1rem;overflow-wrap:anywhere}
.m{display:inline-block;min-width:3.5rem;font-family:monospace;font-weight:700}
code,pre{font-family:ui-monospace,monospace;font-size:13px}
pre{background:#f4f6f9;padding:.5rem;overflow-x:auto;white-space:pre-wrap;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%;table-layout:fixed}
td,th{border-top:1px solid #e6e9ee;padding:.2rem .4rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{width:30%}.lock{color:#8a5a00}
"""


def render(doc: dict[str, Any]) -> str:
    schemas = doc["components"]["schemas"]
    parts = [
        '<!doctype html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(doc['info']['title'])} API reference</title>",
        f'<style nonce="{{{{nonce}}}}">{STYLE}</style></head><body><main>',
        f"<h1>{escape(doc['info']['title'])} API <small>{escape(doc['info']['version'])}</small></h1>",
        f"<p>{_text(doc['info']['description'])}</p>",
        '<p>Machine-readable: <a href="openapi.json">openapi.json</a> (OpenAPI 3.1).</p>',
    ]
    for tag in doc["tags"]:
        parts.append(f'<h2 id="{escape(tag["name"])}">{escape(tag["name"].capitalize())}</h2>')
        parts.append(f"<p>{_text(tag['description'])}</p>")
        for path, methods in doc["paths"].items():
            for method, op in methods.items():
                if tag["name"] in op["tags"]:
                    parts.append(_operation(method, path, op, schemas))
    parts.append("</main></body></html>\n")
    return "\n".join(parts)


def _text(value: str) -> str:
    """Escape, then show `backticked` words as code."""
    pieces = escape(value).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(pieces))


def _operation(method: str, path: str, op: dict[str, Any], schemas: dict[str, Any]) -> str:
    lock = ' <span class="lock">operator token</span>' if op.get("security") else ""
    html = [
        f'<section id="{escape(op["operationId"])}">',
        f'<h3><span class="m">{method.upper()}</span> <code>{escape(path)}</code>{lock}</h3>',
        f"<p><strong>{escape(op['summary'])}.</strong> {_text(op['description'])}</p>",
    ]
    if op.get("parameters"):
        rows = "".join(
            f"<tr><th><code>{escape(p['name'])}</code> ({p['in']}{', required' if p['required'] else ''})</th>"
            f"<td>{_text(p['description'])}</td></tr>"
            for p in op["parameters"]
        )
        html.append(f"<h4>Parameters</h4><table>{rows}</table>")
    body = op.get("requestBody", {}).get("content", {}).get("application/json")
    if body:
        html.append("<h4>Body</h4>" + _fields(body["schema"], schemas))
        if "example" in body:
            html.append(f"<pre>{escape(json.dumps(body['example'], indent=2))}</pre>")
    rows = "".join(
        f"<tr><th>{status}</th><td>{_text(r['description'])}{_ref_name(r, schemas)}</td></tr>"
        for status, r in op["responses"].items()
    )
    html.append(f"<h4>Responses</h4><table>{rows}</table>")
    ok = next(iter(r for s, r in op["responses"].items() if s.startswith("2")), None)
    if ok and "content" in ok:
        html.append("<details><summary>Success fields</summary>")
        html.append(_fields(ok["content"]["application/json"]["schema"], schemas) + "</details>")
    html.append("</section>")
    return "\n".join(html)


def _ref_name(response: dict[str, Any], schemas: dict[str, Any]) -> str:
    if "content" not in response:  # 204
        return ""
    schema = response["content"]["application/json"]["schema"]
    refs = [s["$ref"] for s in schema.get("anyOf", [schema]) if "$ref" in s]
    return "".join(f" <code>{escape(ref.rsplit('/', 1)[-1])}</code>" for ref in refs)


def _fields(schema: dict[str, Any], schemas: dict[str, Any]) -> str:
    if "$ref" in schema:
        schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
    properties = schema.get("properties") or {}
    if not properties:
        return f"<p>{_text(schema.get('description', 'Any JSON object.'))}</p>"
    required = set(schema.get("required", []))
    rows = []
    for name, prop in properties.items():
        need = "required" if name in required else "optional"
        text = prop.get("description", "")
        kind = f"<code>{escape(_type(prop))}</code>"
        rows.append(f"<tr><th><code>{escape(name)}</code> ({need})</th><td>{kind} {_text(text)}</td></tr>")
    return f"<table>{''.join(rows)}</table>"


def _type(prop: dict[str, Any]) -> str:
    if "$ref" in prop:
        return str(prop["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in prop:
        return " | ".join(_type(p) for p in prop["anyOf"])
    if "const" in prop:
        return json.dumps(prop["const"])
    if "enum" in prop:
        return " | ".join(json.dumps(v) for v in prop["enum"])
    kind = str(prop.get("type", "any"))
    if kind == "array":
        return f"array of {_type(prop.get('items', {}))}"
    limits = [f"{k} {prop[k]}" for k in ("minLength", "maxLength", "exclusiveMinimum", "maximum") if k in prop]
    return kind + (f" ({', '.join(limits)})" if limits else "")
