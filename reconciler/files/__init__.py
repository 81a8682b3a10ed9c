"""Series files: safe YAML, validation, loading, the JSON Schema, import and adopt writers."""
