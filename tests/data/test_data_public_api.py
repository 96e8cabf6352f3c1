import algomancy_data


def test_public_names_are_exactly_these() -> None:
    assert algomancy_data.__all__ == [
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
        "file_from_bytes",
    ]
    assert algomancy_data.__all__ == sorted(algomancy_data.__all__)
    for name in algomancy_data.__all__:
        assert hasattr(algomancy_data, name)


def test_data_package_imports_nothing_of_core_or_api() -> None:
    import subprocess
    import sys

    code = (
        "import sys, algomancy_data; "
        "bad = [m for m in sys.modules if m.startswith(('algomancy_core', 'algomancy_api'))]; "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
