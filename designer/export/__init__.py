"""The real Python files that the exported code (designer.codegen) is made of."""
