# Imported for their tables, which join Base.metadata.
import services.customer.attrition.models
import services.customer.groups.models
import services.customer.history.models
import services.customer.projections
import services.customer.prospects.models
import services.customer.wallet.models  # noqa: F401
from services.customer.models import Base
from shared.migrations import run_migrations

run_migrations(Base.metadata)
