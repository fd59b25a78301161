"""The member web pages, server-rendered from Jinja2 templates with GOV.UK Frontend markup:
sign-in (code + PKCE, bound to the browser), server-side sessions, the booking journey.
Pages call the API's own dependencies and handlers; tokens never reach the browser.
"""
