"""Authentication (bearer JWTs) and authorisation (roles and scopes) for every service."""
