"""The real Python files that the exported code (designer.export.codegen) is made of."""
