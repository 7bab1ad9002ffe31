#!/usr/bin/env python3
"""Markdown reference from an OpenAPI 3.0 document (docs/openapi.yaml ->
docs/api.md): the operations in file order with their parameters, request
bodies and responses, then components/schemas. Local $refs
(#/components/...) are followed and linked. The output depends only on the
input (no dates, no paths), so a test can tell when the committed file is
stale.

    openapi_markdown.py [--shown-as NAME] openapi.yaml > api.md

NAME is the source as the generated file's header names it (default: the
path given).
"""
import json
import sys

import yaml

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class OpenApiError(Exception):
    pass


def cell(text):
    """Text for one table cell: pipes escaped, line breaks flattened."""
    return " ".join(str(text if text is not None else "").split()).replace("|", "\\|")


def code(text):
    return f"`{cell(text)}`" if text not in (None, "") else ""


def slug(text):
    return "".join(c if c.isalnum() else "-" for c in str(text).lower()).strip("-")


class Doc:
    def __init__(self, spec, source, shown_as=None):
        if not isinstance(spec, dict) or not str(spec.get("openapi", "")).startswith("3."):
            raise OpenApiError(f"{source}: not an OpenAPI 3 document (no 'openapi: 3.x' at the top)")
        self.spec = spec
        self.source = source
        self.shown_as = shown_as or source

    def resolve(self, obj, where):
        """Follow local $refs (a chain of them too); returns (object, name of the last ref or None)."""
        name = None
        seen = set()
        while isinstance(obj, dict) and "$ref" in obj:
            ref = obj["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#/"):
                raise OpenApiError(f"{self.source}: {where}: only local $refs are supported ({ref!r})")
            if ref in seen:
                raise OpenApiError(f"{self.source}: {where}: $ref loop at {ref}")
            seen.add(ref)
            target = self.spec
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                if not isinstance(target, dict) or part not in target:
                    raise OpenApiError(f"{self.source}: {where}: $ref {ref} points nowhere")
                target = target[part]
            name = ref.rsplit("/", 1)[1]
            obj = target
        return obj, name

    def type_of(self, schema, where):
        """One-line type of a schema: a link for a named schema, else its shape."""
        if not isinstance(schema, dict):
            return ""
        if "$ref" in schema:
            _, name = self.resolve(schema, where)
            return f"[{name}](#schema-{slug(name)})"
        for combiner, word in (("oneOf", " or "), ("anyOf", " or "), ("allOf", " and ")):
            if combiner in schema:
                return word.join(self.type_of(s, where) for s in schema[combiner])
        t = schema.get("type", "object" if "properties" in schema else "any")
        if t == "array":
            text = "array of " + (self.type_of(schema.get("items", {}), where) or "any")
        elif t == "object" and "additionalProperties" in schema and "properties" not in schema:
            extra = schema["additionalProperties"]
            text = "map of " + (self.type_of(extra, where) if isinstance(extra, dict) else "any")
        else:
            text = str(t)
        if "format" in schema:
            text += f" ({schema['format']})"
        if "enum" in schema:
            text += ": " + ", ".join(code(v) for v in schema["enum"])
        if schema.get("nullable"):
            text += ", nullable"
        return text

    def shape(self, schema, where):
        """type_of, with an inline object's fields spelled out (a response
        has no table of its own)."""
        if isinstance(schema, dict) and "$ref" not in schema and schema.get("properties"):
            fields = ", ".join(f"{code(k)}: {self.type_of(v, f'{where}.{k}')}" for k, v in schema["properties"].items())
            return f"object {{{fields}}}"
        return self.type_of(schema, where)

    def constraints(self, schema):
        notes = []
        for key, label in (("default", "default"), ("minimum", "min"), ("maximum", "max"),
                           ("minLength", "min length"), ("maxLength", "max length"),
                           ("minItems", "min items"), ("maxItems", "max items"), ("pattern", "pattern"),
                           ("example", "example")):
            if isinstance(schema, dict) and key in schema:
                value = schema[key]
                if isinstance(value, (bool, dict, list)) or value is None:
                    value = json.dumps(value)   # JSON, as the API speaks it
                notes.append(f"{label} {code(value)}")
        return "; ".join(notes)

    def describe(self, schema, where):
        schema_r, _ = self.resolve(schema, where) if isinstance(schema, dict) else (schema, None)
        parts = [cell((schema or {}).get("description") or (schema_r or {}).get("description") or "")]
        extra = self.constraints(schema_r or {})
        if schema_r and schema_r.get("readOnly"):
            parts.append("read-only")
        if schema_r and schema_r.get("writeOnly"):
            parts.append("write-only")
        if extra:
            parts.append(extra)
        return "; ".join(p for p in parts if p)

    def property_table(self, schema, where, out):
        """A table of an object schema's properties (allOf members merged)."""
        schema, _ = self.resolve(schema, where)
        props, required = {}, set()
        for part in schema.get("allOf", []) + [schema]:
            part, _ = self.resolve(part, where)
            props.update(part.get("properties", {}) or {})
            required.update(part.get("required", []) or [])
        if not props:
            return False
        out.append("| field | type | required | description |")
        out.append("|---|---|---|---|")
        for name, prop in props.items():
            out.append(f"| {code(name)} | {self.type_of(prop, f'{where}.{name}')} | "
                       f"{'yes' if name in required else ''} | {self.describe(prop, f'{where}.{name}')} |")
        extra = schema.get("additionalProperties")
        if extra is False:
            out.append("")
            out.append("No other fields are accepted.")
        return True

    def content(self, content, where, out):
        for media_type, media in (content or {}).items():
            schema = (media or {}).get("schema")
            line = f"`{media_type}`"
            if schema is not None:
                line += ": " + self.type_of(schema, where)
            out.append(line)
            out.append("")
            if isinstance(schema, dict) and "$ref" not in schema and self.property_table(schema, where, out):
                out.append("")
            if media and "example" in media:
                out.append("Example:")
                out.append("")
                out.append("```json" if "json" in media_type else "```")
                out.append(yaml_to_text(media["example"], media_type))
                out.append("```")
                out.append("")

    def security_text(self, security):
        if security is None:
            return None
        if security == []:
            return "none"
        names = []
        for requirement in security:
            names.append(" + ".join(code(n) for n in requirement) or "none")
        return " or ".join(names)

    def operation(self, path, method, op, path_params, out):
        where = f"paths.{path}.{method}"
        out.append(f'<a id="{slug(method + " " + path)}"></a>')
        out.append(f"### `{method.upper()} {path}`")
        out.append("")
        if op.get("deprecated"):
            out.append("**Deprecated.**")
            out.append("")
        for key in ("summary", "description"):
            if op.get(key):
                out.append(str(op[key]).strip())
                out.append("")
        security = self.security_text(op.get("security", self.spec.get("security")))
        if security:
            out.append(f"Authentication: {security}.")
            out.append("")
        params = {}
        for p in list(path_params) + list(op.get("parameters", []) or []):
            p_r, _ = self.resolve(p, where)
            params[(p_r.get("name"), p_r.get("in"))] = p_r
        if params:
            out.append("| parameter | in | type | required | description |")
            out.append("|---|---|---|---|---|")
            for (name, where_in), p in params.items():
                schema = p.get("schema", {})
                desc = "; ".join(x for x in (cell(p.get("description", "")), self.constraints(
                    self.resolve(schema, where)[0] if schema else {})) if x)
                out.append(f"| {code(name)} | {where_in} | {self.type_of(schema, where)} | "
                           f"{'yes' if p.get('required') or where_in == 'path' else ''} | {desc} |")
            out.append("")
        if "requestBody" in op:
            body, _ = self.resolve(op["requestBody"], where)
            out.append("Request body" + (" (required)" if body.get("required") else "") +
                       (": " + cell(body["description"]) if body.get("description") else "") + ":")
            out.append("")
            self.content(body.get("content"), where + ".requestBody", out)
        responses = op.get("responses", {}) or {}
        if responses:
            out.append("| status | meaning | body |")
            out.append("|---|---|---|")
            for status, response in responses.items():
                r, _ = self.resolve(response, f"{where}.responses.{status}")
                bodies = ", ".join(f"`{mt}` " + self.shape((m or {}).get("schema", {}), where)
                                   for mt, m in (r.get("content") or {}).items())
                headers = ", ".join(f"header {code(h)}" for h in (r.get("headers") or {}))
                out.append(f"| {code(status)} | {cell(r.get('description', ''))} | "
                           f"{'; '.join(x for x in (bodies.strip(), headers) if x)} |")
            out.append("")

    def render(self):
        info = self.spec.get("info", {}) or {}
        out = [f"# {info.get('title', 'HTTP API')}", "",
               f"<!-- Generated from {self.shown_as} by scripts/docs.d/openapi_markdown.py;",
               "     do not edit. Regenerate with `scripts/docs`. -->", ""]
        if info.get("version"):
            out += [f"API version {info['version']}.", ""]
        if info.get("description"):
            out += [str(info["description"]).strip(), ""]
        servers = self.spec.get("servers") or []
        if servers:
            out.append("Servers: " + ", ".join(
                code(s.get("url")) + (f" ({cell(s['description'])})" if s.get("description") else "")
                for s in servers) + ".")
            out.append("")
        schemes = ((self.spec.get("components") or {}).get("securitySchemes") or {})
        if schemes:
            out += ["## Authentication", ""]
            for name, scheme in schemes.items():
                s, _ = self.resolve(scheme, f"securitySchemes.{name}")
                kind = s.get("type", "")
                if kind == "http":
                    kind += f" {s.get('scheme', '')}".rstrip()
                    if s.get("bearerFormat"):
                        kind += f" ({s['bearerFormat']})"
                elif kind == "apiKey":
                    kind += f" in {s.get('in')} {code(s.get('name'))}"
                out.append(f"- {code(name)}: {kind}" + (f" ({cell(s['description'])})" if s.get("description") else ""))
            out.append("")
            default = self.security_text(self.spec.get("security"))
            if default:
                out += [f"Every operation needs {default} unless it says otherwise.", ""]

        paths = self.spec.get("paths") or {}
        ops = []
        for path, item in paths.items():
            if not isinstance(item, dict):
                raise OpenApiError(f"{self.source}: paths.{path}: not a mapping")
            item, _ = self.resolve(item, f"paths.{path}")
            for method in METHODS:
                if method in item:
                    ops.append((path, method, item[method], item.get("parameters", []) or []))
        out += ["## Operations", "", "| method | path | summary |", "|---|---|---|"]
        for path, method, op, _ in ops:
            out.append(f"| {method.upper()} | [`{cell(path)}`](#{slug(method + ' ' + path)}) | "
                       f"{cell(op.get('summary', ''))} |")
        out.append("")
        for path, method, op, path_params in ops:
            self.operation(path, method, op, path_params, out)

        schemas = ((self.spec.get("components") or {}).get("schemas") or {})
        if schemas:
            out += ["## Schemas", ""]
            for name, schema in schemas.items():
                out.append(f'<a id="schema-{slug(name)}"></a>')
                out.append(f"### {name}")
                out.append("")
                s, _ = self.resolve(schema, f"components.schemas.{name}")
                if s.get("description"):
                    out += [str(s["description"]).strip(), ""]
                if not self.property_table(s, f"components.schemas.{name}", out):
                    out.append(f"Type: {self.type_of(schema, name) if '$ref' in schema else self.type_of(s, name)}"
                               + (f"; {self.constraints(s)}" if self.constraints(s) else "") + ".")
                out.append("")
        while out and out[-1] == "":
            out.pop()
        return "\n".join(out) + "\n"


def yaml_to_text(value, media_type):
    if isinstance(value, str):
        return value.rstrip("\n")
    if "json" in media_type:
        return json.dumps(value, indent=2, sort_keys=False)
    return yaml.safe_dump(value, sort_keys=False).rstrip("\n")


def main(argv):
    shown_as = None
    if len(argv) == 4 and argv[1] == "--shown-as":
        shown_as, argv = argv[2], [argv[0], argv[3]]
    if len(argv) != 2:
        print("usage: openapi_markdown.py [--shown-as NAME] OPENAPI.yaml", file=sys.stderr)
        return 2
    try:
        with open(argv[1]) as f:
            spec = yaml.safe_load(f)
    except OSError as e:
        print(f"openapi_markdown: {e}", file=sys.stderr)
        return 2
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{argv[1]}:{mark.line + 1}:{mark.column + 1}" if mark else argv[1]
        print(f"openapi_markdown: {where}: {getattr(e, 'problem', e)}", file=sys.stderr)
        return 2
    try:
        sys.stdout.write(Doc(spec, argv[1], shown_as).render())
    except OpenApiError as e:
        print(f"openapi_markdown: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
