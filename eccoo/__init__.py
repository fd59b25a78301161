"""eccoo: the platform of a care cooperative.

The top-level package holds what every part shares: errors, settings, the engine
cache and the command line. It never holds care data.
"""

__version__ = "0.1.0"
