"""warehouse: owns DuckDB and its SQL. Everything that touches the warehouse file goes through here."""
