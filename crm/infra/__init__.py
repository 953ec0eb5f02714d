"""Launchers of the servers the embedded run and the tests start on loopback."""
