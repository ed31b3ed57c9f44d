using System.Net.Sockets;
using Npgsql;

namespace Rendezvous.Data.Failover;

/// <summary>
/// Tells a failure caused by losing the database primary (its connection cut, no writable host yet, a node that is no
/// longer the primary) from an answer of the database (a constraint, a syntax error), which no retry changes.
/// </summary>
public static class FailoverErrors
{
    /// <summary>
    /// Server errors that a failover produces: the primary shutting down or crashing (57P01, 57P02), a node still
    /// starting or recovering (57P03), a write on a node that is now a standby or a primary not yet accepting writes
    /// (25006), and the connection-exception class (08).
    /// </summary>
    private static readonly HashSet<string> FailoverStates =
    [
        PostgresErrorCodes.AdminShutdown,
        PostgresErrorCodes.CrashShutdown,
        PostgresErrorCodes.CannotConnectNow,
        PostgresErrorCodes.ReadOnlySqlTransaction,
        PostgresErrorCodes.ConnectionException,
        PostgresErrorCodes.ConnectionDoesNotExist,
        PostgresErrorCodes.ConnectionFailure,
        PostgresErrorCodes.SqlClientUnableToEstablishSqlConnection,
        PostgresErrorCodes.SqlServerRejectedEstablishmentOfSqlConnection,
    ];

    /// <summary>
    /// True when <paramref name="exception"/> (or what it wraps, as EF Core's <c>DbUpdateException</c> does) means the
    /// database could not be reached or stopped being the writable primary. A commit that failed this way has an
    /// unknown outcome: only work that is safe to run twice may be retried on it.
    /// </summary>
    public static bool IsFailover(Exception exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case PostgresException pg:
                    // The server answered: only the failover states above are worth another try.
                    return FailoverStates.Contains(pg.SqlState);
                case NpgsqlException:
                    // Raised by the client, not the server: the socket broke, a connect or read timed out, or no host
                    // of a multi-host string accepted a read-write session ("No suitable host was found", which
                    // Npgsql does not mark transient although the next attempt may find the new primary).
                    return true;
                case SocketException or EndOfStreamException or IOException or TimeoutException:
                    return true;
                case AggregateException aggregate when aggregate.InnerExceptions.Count > 0:
                    return aggregate.InnerExceptions.All(IsFailover);
            }
        }

        return false;
    }
}
