"""Use cases, one module per business area.

Every public function takes a `Context` (who is acting, on which company
file, from which device), checks one permission first, runs one transaction,
and returns plain data. Every business rule and permission check lives here.
"""
