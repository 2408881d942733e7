"""Text constraints that JSON Schema, the validator and Python agree on."""

# A character that no definition of whitespace covers: Python's (what `str_strip_whitespace`
# strips), JSON Schema's (ECMA-262) and the validator's (Unicode White_Space). A name must
# have one, so that OpenAPI does not offer a name that stripping would leave empty.
NOT_BLANK = r"[^\s\x1c-\x1f\x85\ufeff]"
