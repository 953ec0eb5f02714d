import services.customer.projections  # noqa: F401  (its tables join Base.metadata)
from services.customer.models import Base
from shared.migrations import run_migrations

run_migrations(Base.metadata)
