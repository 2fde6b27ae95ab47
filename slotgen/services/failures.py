"""How the command line's error boundary reads an error from the database layer.

The boundary sees the error only after it has left every service; the database layer
alone knows what a SQLAlchemy error means (unreachable, or a failed statement), so that
decision is made there, once, and handed on from here.
"""

from typing import TypeGuard

from sqlalchemy.exc import SQLAlchemyError

from slotgen.db.errors import as_slotgen_error

__all__ = ["as_slotgen_error", "is_database_error"]


def is_database_error(error: BaseException) -> TypeGuard[SQLAlchemyError]:
    return isinstance(error, SQLAlchemyError)
