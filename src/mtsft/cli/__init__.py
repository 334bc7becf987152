"""The `mtsft` command line: thin commands over library functions (each module: one command group)."""

from __future__ import annotations

import os

# Tests and the embedded defaults never reach a hub; a user with the internet can set it to 0.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import typer  # noqa: E402

from mtsft import __version__, threads_error  # noqa: E402
from mtsft.cli import data, diagnose, evaluate, iterate, run, runs, serve, train  # noqa: E402

class OneLineUsageErrors(typer.Typer):
    """Typer, with a usage error (a bad or missing option value) printed as one line, as every other user
    error is: typer draws it as a boxed panel under the usage text. Help and exit codes are unchanged."""

    def __call__(self, *args, **kwargs):
        import sys

        try:  # typer >= 0.25 carries its own copy of click, with its own exception classes
            from typer._click import exceptions as errors
        except ImportError:
            from click import exceptions as errors

        if kwargs.get("standalone_mode", True) is False:
            return super().__call__(*args, **kwargs)
        try:
            code = super().__call__(*args, **{**kwargs, "standalone_mode": False})
        except errors.NoArgsIsHelpError as e:  # plain `mtsft`: the help, as before
            e.show()
            sys.exit(e.exit_code)
        except errors.UsageError as e:
            where = f" (see {e.ctx.command_path} --help)" if e.ctx is not None else ""
            print(f"error: {e.format_message()}{where}", file=sys.stderr)
            sys.exit(e.exit_code)
        except errors.ClickException as e:
            e.show()
            sys.exit(e.exit_code)
        except typer.Abort:
            print("Aborted!", file=sys.stderr)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


app = OneLineUsageErrors(
    name="mtsft",
    help="Multi-task supervised fine-tuning: curate -> train -> eval -> diagnose -> remix, then serve.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(data.app, name="data", help="Make, import, analyze and curate multi-task data.")
train.register(app)
app.add_typer(evaluate.app, name="eval", help="Generate with a model and score each task with its verifier.")
diagnose.register(app)
iterate.register(app)
serve.register(app)
run.register(app)
app.add_typer(runs.app, name="runs", help="List runs, and compare them side by side (a table and an HTML page).")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mtsft {__version__}")
        raise typer.Exit()


@app.callback()
def main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                      help="Print the version and exit.")) -> None:
    """mtsft: one assistant model for many task types, with the tasks kept apart."""
    problem = threads_error()  # `import mtsft` set the OpenMP defaults already; a bad MTSFT_THREADS stops here
    if problem:
        from mtsft.cli.common import err_console

        err_console.print(f"[bold red]error:[/] {problem}", highlight=False, soft_wrap=True)
        raise typer.Exit(2)
