"""Pure CAP 1.2: typed model, hardened codec, schema and rule validation, signatures, feeds."""
