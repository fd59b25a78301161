"""Engines that eccoo runs as plain background processes (Neo4j, Keycloak, and the
geth nodes through `eccoo.node`): start with a readiness wait, stop, status.
"""
