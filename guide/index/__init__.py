"""The children's index: look-ups under the consultation's access rules, with a hash-chained audit."""
