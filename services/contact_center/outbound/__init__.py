"""Calls the bank makes: the call list fed by the detector's opportunities, the calling rules,
the attempts and the do-not-call register."""
