"""Tables and ETL: `DataSource`, file types, schemas, validation and the ETL pipeline."""

from algomancy_data.datasource import DataClassification, DataSource
from algomancy_data.digest import content_digest
from algomancy_data.etl import DefaultETLFactory, ETLFactory, ETLResult
from algomancy_data.files import CSVFile, File, FileReadError, JSONFile, XLSXFile, file_from_bytes
from algomancy_data.limits import LimitExceeded, ReadLimits
from algomancy_data.schema import Column, ColumnType, Schema
from algomancy_data.validation import Severity, ValidationMessage

__all__ = [
    "CSVFile",
    "Column",
    "ColumnType",
    "DataClassification",
    "DataSource",
    "DefaultETLFactory",
    "ETLFactory",
    "ETLResult",
    "File",
    "FileReadError",
    "JSONFile",
    "LimitExceeded",
    "ReadLimits",
    "Schema",
    "Severity",
    "ValidationMessage",
    "XLSXFile",
    "content_digest",
    "file_from_bytes",
]
