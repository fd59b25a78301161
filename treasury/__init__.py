"""The treasurer's engine: bank statements in, matched against the chain, months closed.

The command line (`eccoo treasury ...`) and the treasurer's web pages both call these
functions; nothing here prints, renders HTML or writes to the chain.
"""
