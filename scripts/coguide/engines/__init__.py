"""Engines: the only code that knows a site engine; each adapter builds the generated docs tree into a site."""
