"""Source stage: read the project (load, behind the entrance guard) and check it (validate, front matter, house rules).

Nothing downstream of the model imports this package: after validation the model is the only contract.
"""
