"""OAuth2 client credentials for integration clients: registered by administrators, tokens signed by the
gateway's own key and accepted by the gateway as one more issuer."""
