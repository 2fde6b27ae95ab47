"""What a database error means to the operator, decided once for every command and job.

The README's exit codes promise 3 when the database "could not be reached": that is a
connection refused at the start and a connection lost in the middle of the work alike.
Any other database error is a failure of the command (1), shown as the driver's own
first line, never SQLAlchemy's text with the SQL and its parameters.
"""

from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from slotgen.errors import DatabaseUnavailable, SlotgenError, first_line


def is_disconnect(error: BaseException) -> bool:
    """The connection went away (refused, killed, timed out, the server restarted)."""
    if isinstance(error, DisconnectionError | PoolTimeoutError | InterfaceError):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


def as_slotgen_error(error: SQLAlchemyError) -> SlotgenError:
    """The one-line, exit-coded error a database error becomes."""
    if is_disconnect(error):
        return DatabaseUnavailable(f"lost the connection to the database: {first_line(error)}")
    return SlotgenError(f"database error: {first_line(error)}")
