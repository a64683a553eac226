"""Repository tooling (not shipped, not part of the local stack): OpenAPI generation, offline audit,
package size, README config table, template expansion. Run as ``python -m tools.<name>``."""
