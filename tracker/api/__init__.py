"""The open platform: /api/v1 (described by OpenAPI 3.1) and the personal access tokens it is used with."""
