"""Storage: the database engine per URL, the SQLModel tables, migrations, plain SQL, column types
and the event writer. Imports engine.core (for status enums), engine.config and engine.errors
only."""
