"""PaperDesk engine: models, control API, queries and the engine process."""
