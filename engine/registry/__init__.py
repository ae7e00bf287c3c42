"""The kinds the system knows, with no implementation code: the agent types (config schema,
pipeline inputs). The dashboard draws from here. Imports news (for feed checks), params and
errors."""
