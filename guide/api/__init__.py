"""The JSON API for case-management systems, and its OpenAPI document."""
