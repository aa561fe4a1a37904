"""The HTTP API: Powertools resolvers, routes and the one place where errors become responses."""
