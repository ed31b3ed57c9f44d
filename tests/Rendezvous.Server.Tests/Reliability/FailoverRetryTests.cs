using Microsoft.EntityFrameworkCore;
using Npgsql;
using Rendezvous.Data;
using Rendezvous.Data.Failover;
using Shouldly;

namespace Rendezvous.Server.Tests.Reliability;

public sealed class FailoverRetryTests
{
    private static readonly FailoverRetryOptions Quick = new()
    {
        Budget = TimeSpan.FromMilliseconds(50),
        FirstDelay = TimeSpan.FromMilliseconds(1),
        MaxDelay = TimeSpan.FromMilliseconds(5),
    };

    private static PostgresException Server(string sqlState) => new("message", "FATAL", "FATAL", sqlState);

    [Theory]
    [InlineData(PostgresErrorCodes.AdminShutdown)]
    [InlineData(PostgresErrorCodes.CrashShutdown)]
    [InlineData(PostgresErrorCodes.CannotConnectNow)]
    [InlineData(PostgresErrorCodes.ReadOnlySqlTransaction)]
    [InlineData(PostgresErrorCodes.ConnectionFailure)]
    public void Server_errors_a_failover_produces_are_retried(string sqlState)
    {
        FailoverErrors.IsFailover(Server(sqlState)).ShouldBeTrue();
        FailoverErrors.IsFailover(new DbUpdateException("save failed", Server(sqlState))).ShouldBeTrue();
    }

    [Theory]
    [InlineData(PostgresErrorCodes.ExclusionViolation)]
    [InlineData(PostgresErrorCodes.UniqueViolation)]
    [InlineData(PostgresErrorCodes.SerializationFailure)]
    [InlineData(PostgresErrorCodes.SyntaxError)]
    public void Answers_of_the_database_are_not_retried(string sqlState)
    {
        FailoverErrors.IsFailover(Server(sqlState)).ShouldBeFalse();
        FailoverErrors.IsFailover(new DbUpdateException("save failed", Server(sqlState))).ShouldBeFalse();
    }

    [Fact]
    public void No_writable_host_and_a_cut_socket_are_retried_but_a_program_error_is_not()
    {
        // Npgsql raises this while no host of a multi-host string accepts a read-write session, without marking it transient.
        FailoverErrors.IsFailover(new NpgsqlException("No suitable host was found.")).ShouldBeTrue();
        FailoverErrors.IsFailover(new NpgsqlException("Exception while reading from stream", new EndOfStreamException())).ShouldBeTrue();
        FailoverErrors.IsFailover(new InvalidOperationException("Sequence contains no elements")).ShouldBeFalse();
        FailoverErrors.IsFailover(new ArgumentException("bad")).ShouldBeFalse();
    }

    [Fact]
    public async Task A_unit_cut_by_a_failover_runs_again_and_its_result_is_returned()
    {
        var attempts = new List<int>();
        var result = await FailoverRetry.RunAsync((attempt, _) =>
        {
            attempts.Add(attempt);
            return attempt < 3 ? throw Server(PostgresErrorCodes.AdminShutdown) : Task.FromResult("booked");
        }, new FailoverRetryOptions { Budget = TimeSpan.FromSeconds(10), FirstDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(5) }, null, CancellationToken.None);

        result.ShouldBe("booked");
        attempts.ShouldBe([1, 2, 3]);
    }

    [Fact]
    public async Task A_constraint_violation_is_thrown_at_once()
    {
        var attempts = 0;
        var thrown = await Should.ThrowAsync<PostgresException>(() => FailoverRetry.RunAsync<string>((_, _) =>
        {
            attempts++;
            throw Server(PostgresErrorCodes.ExclusionViolation);
        }, Quick, null, CancellationToken.None));

        thrown.SqlState.ShouldBe(PostgresErrorCodes.ExclusionViolation);
        attempts.ShouldBe(1);
    }

    [Fact]
    public async Task Retrying_stops_when_the_budget_is_spent_and_the_last_error_surfaces()
    {
        var attempts = 0;
        await Should.ThrowAsync<NpgsqlException>(() => FailoverRetry.RunAsync<string>((_, _) =>
        {
            attempts++;
            throw new NpgsqlException("No suitable host was found.");
        }, Quick, null, CancellationToken.None));

        attempts.ShouldBeGreaterThan(1);
    }

    [Fact]
    public void A_multi_host_connection_string_asks_for_the_writable_node_and_rechecks_hosts_often()
    {
        var multi = new NpgsqlConnectionStringBuilder(
            DataServiceCollectionExtensions.WithFailoverDefaults("Host=127.0.0.1:5501,127.0.0.1:5502;Username=app;Database=rendezvous"));
        multi.TargetSessionAttributes.ShouldBe("read-write");
        multi.HostRecheckSeconds.ShouldBe(1);

        var chosen = new NpgsqlConnectionStringBuilder(DataServiceCollectionExtensions.WithFailoverDefaults(
            "Host=a:1,b:2;Target Session Attributes=prefer-standby;Host Recheck Seconds=5;Username=app"));
        chosen.TargetSessionAttributes.ShouldBe("prefer-standby");
        chosen.HostRecheckSeconds.ShouldBe(5);

        const string single = "Host=127.0.0.1;Port=5432;Username=app";
        DataServiceCollectionExtensions.WithFailoverDefaults(single).ShouldBe(single);
    }
}
