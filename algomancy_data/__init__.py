"""Tables and ETL: `DataSource`, file types, schemas, validation and the ETL pipeline."""

from algomancy_data.datasource import DataClassification, DataSource

__all__ = ["DataClassification", "DataSource"]
