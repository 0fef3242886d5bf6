from stats import Stats  # noqa: F401 (componentize-py looks for it here)
