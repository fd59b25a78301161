"""Who is calling: access-token validation (RFC 8725), members and their pseudonyms,
onboarding on chain, custody of wallet keys, the Keycloak realm, and the terminal sign-in
(device grant). Called by api/ and web/; calls tx/ to put hats on chain, and store/.
"""
