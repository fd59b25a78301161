"""The ledger contracts' Python client: compile, artifacts, deploy, bindings, forward requests.

Entry points for other packages: `artifacts.load_artifacts`, `deploy.deploy`,
`deployment.load_deployment`, `forwarder.signed_call`/`relay`, `transact.Sender`.
Nothing here holds a key longer than one call or writes outside the build and network folders.
"""
