"""What the pages share: context (database, cached reads, actions), theme, charts, flow."""
