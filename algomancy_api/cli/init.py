"""`algomancy-api init PATH [--from-samples FILES...]`: write a runnable project."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("init")
@click.argument("path", type=click.Path(path_type=Path))
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--from-samples",
    "from_samples",
    is_flag=True,
    help="Infer the schemas from the sample FILES (CSV, XLSX, JSON, or folders of them).",
)
@click.option("--title", help="The app's title (default: from the folder's name).")
@click.option("--force", is_flag=True, help="Write into PATH even if it is not empty.")
@click.pass_context
def init(
    ctx: click.Context,
    path: Path,
    files: tuple[Path, ...],
    from_samples: bool,
    title: str | None,
    force: bool,
) -> int:
    """Write a runnable project into PATH: package, configuration, algorithm and KPI
    shells, a test, and schemas inferred from sample files."""
    if files and not from_samples:
        raise click.UsageError("give --from-samples before the sample files", ctx)
    if from_samples and not files:
        raise click.UsageError("--from-samples needs at least one sample file or folder", ctx)
    # Imported here: the inference needs pandas, which `--help` must not load.
    from algomancy_api.scaffold import ScaffoldError, create_project

    try:
        project = create_project(path, files, title=title, force=force)
    except ScaffoldError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"wrote {path}/ (package {project.package}):")
    for written in project.files:
        click.echo(f"  {written.relative_to(path)}")
    for schema in project.schemas:
        tables = ", ".join(
            f"{table} ({len(columns)} column{'' if len(columns) == 1 else 's'})"
            for table, columns in schema.tables.items()
        )
        click.echo(f"schema {schema.filename}: {tables}")
    click.echo(
        f"next: cd {path} && algomancy-api serve --config {project.config_spec}  (tests: pytest)"
    )
    return 0
