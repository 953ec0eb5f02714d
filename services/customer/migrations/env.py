# Imported for their tables, which join Base.metadata.
from services.customer.models import Base
from shared.migrations import run_migrations

run_migrations(Base.metadata)
