"""Partner API tokens: issued by administrators to a partner agency, with scopes and an expiry."""
