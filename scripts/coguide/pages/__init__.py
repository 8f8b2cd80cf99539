"""Pages stage: render the model into Markdown pages, figures and data exports; reads the model only.

`render` (with `templates/`) writes the record, index, bibliography and home pages; `glossary` links first
mentions; `timeline` draws the timeline SVG; `figures` draws the figures and the compare page's data; `export` writes the data package copies, RIS, SKOS and JSON-LD.
"""
