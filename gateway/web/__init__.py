"""The member web pages, server-rendered: sign-in (code + PKCE, bound to the browser) and
the pages. Calls identity/ and tx/ as the API does; never holds tokens in the browser.
"""
