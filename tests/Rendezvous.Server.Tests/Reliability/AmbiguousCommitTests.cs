using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.Bookings;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests.Reliability;

/// <summary>
/// A failover cuts the booking transaction at its commit, on the real test PostgreSQL: the backend terminates itself
/// (pg_terminate_backend) either just before the commit or just after it, so the client sees the same error
/// (57P01, the one a primary going down sends) whether or not the booking was stored.
/// </summary>
public sealed class AmbiguousCommitTests(AmbiguousCommitTests.App app) : IClassFixture<AmbiguousCommitTests.App>
{
    public sealed class App : RendezvousApp
    {
        public CommitCutter Cutter { get; } = new();

        protected override void ConfigureServices(IServiceCollection services) =>
            services.ConfigureDbContext<RendezvousDbContext>(o => o.AddInterceptors(Cutter));
    }

    public enum Cut
    {
        None,
        BeforeCommit,
        AfterCommit,
    }

    /// <summary>Cuts the next commit, once.</summary>
    public sealed class CommitCutter : DbTransactionInterceptor
    {
        private int _next = (int)Cut.None;

        public int Cuts { get; private set; }

        public void Arm(Cut cut) => Interlocked.Exchange(ref _next, (int)cut);

        public override async ValueTask<InterceptionResult> TransactionCommittingAsync(DbTransaction transaction, TransactionEventData eventData,
            InterceptionResult result, CancellationToken cancellationToken = default)
        {
            var cut = (Cut)Interlocked.Exchange(ref _next, (int)Cut.None);
            if (cut == Cut.None)
            {
                return result;
            }

            Cuts++;
            // After COMMIT the row is durable, and the same session then dies before the client hears of it.
            var sql = cut == Cut.AfterCommit
                ? "COMMIT; SELECT pg_terminate_backend(pg_backend_pid())"
                : "SELECT pg_terminate_backend(pg_backend_pid())";
            await using var command = new NpgsqlCommand(sql, (NpgsqlConnection)transaction.Connection!, (NpgsqlTransaction)transaction);
            await command.ExecuteNonQueryAsync(cancellationToken);
            throw new InvalidOperationException("The backend survived pg_terminate_backend.");
        }
    }

    [DbTheory]
    [InlineData(Cut.AfterCommit, null, 10)]
    [InlineData(Cut.AfterCommit, "client-key-1", 11)]
    [InlineData(Cut.BeforeCommit, null, 12)]
    public async Task A_booking_whose_commit_was_cut_is_stored_once_and_answered_with_that_booking(Cut cut, string? idempotencyKey, int hour)
    {
        // Every page of the fixture belongs to the administrator: each case books its own hour.
        var slug = await Scenario.CreatePageAsync(app.Client());
        var visitor = app.Anonymous();
        if (idempotencyKey is not null)
        {
            visitor.DefaultRequestHeaders.Add("Idempotency-Key", idempotencyKey);
        }

        var cutsBefore = app.Cutter.Cuts;
        app.Cutter.Arm(cut);
        var booking = await (await visitor.PostJsonAsync($"/api/v1/booking-pages/{slug}/bookings",
            new { start = $"2027-03-03T{hour}:00:00Z", customer = Scenario.Customer() })).ExpectAsync(201);

        app.Cutter.Cuts.ShouldBe(cutsBefore + 1);
        var pageId = booking["bookingPageId"]!.GetValue<string>();
        var all = await app.WithDbAsync(db => db.Bookings.IgnoreQueryFilters().AsNoTracking().ToListAsync());
        all.Where(b => b.BookingPageId.ToString() == pageId).Select(b => b.Id.ToString()).ShouldHaveSingleItem().ShouldBe(booking["id"]!.GetValue<string>());
    }

    [DbTheory]
    [InlineData(Cut.AfterCommit, 13)]
    [InlineData(Cut.BeforeCommit, 14)]
    public async Task A_staff_cancel_whose_commit_was_cut_is_applied_once_and_answered_with_the_canceled_booking(Cut cut, int hour)
    {
        var slug = await Scenario.CreatePageAsync(app.Client());
        var id = (await Scenario.BookAsync(app.Anonymous(), slug, $"2027-03-04T{hour}:00:00Z"))["id"]!.GetValue<string>();

        var cutsBefore = app.Cutter.Cuts;
        app.Cutter.Arm(cut);
        var canceled = await (await app.Client().PostJsonAsync($"/api/v1/bookings/{id}/cancel", new { reason = "Double-booked" })).ExpectAsync(200);

        app.Cutter.Cuts.ShouldBe(cutsBefore + 1);
        canceled["status"]!.GetValue<string>().ShouldBe("canceled");
        var stored = await StoredAsync(id);
        stored.History.Count(h => h.Action == BookingAction.Cancel).ShouldBe(1);
    }

    [DbTheory]
    [InlineData(Cut.AfterCommit, 15)]
    [InlineData(Cut.BeforeCommit, 16)]
    public async Task A_staff_reschedule_whose_commit_was_cut_is_applied_once_and_answered_with_the_new_time(Cut cut, int hour)
    {
        var slug = await Scenario.CreatePageAsync(app.Client());
        var id = (await Scenario.BookAsync(app.Anonymous(), slug, $"2027-03-05T{hour}:00:00Z"))["id"]!.GetValue<string>();

        var cutsBefore = app.Cutter.Cuts;
        app.Cutter.Arm(cut);
        var moved = await (await app.Client().PostJsonAsync($"/api/v1/bookings/{id}/reschedule", new { start = $"2027-03-08T{hour}:00:00Z" })).ExpectAsync(200);

        app.Cutter.Cuts.ShouldBe(cutsBefore + 1);
        moved["status"]!.GetValue<string>().ShouldBe("rescheduled");
        var stored = await StoredAsync(id);
        stored.History.Count(h => h.Action == BookingAction.Reschedule).ShouldBe(1);
        stored.Start.ShouldBe(NodaTime.Instant.FromUtc(2027, 3, 8, hour, 0));
    }

    private Task<Booking> StoredAsync(string id) =>
        app.WithDbAsync(db => db.Bookings.IgnoreQueryFilters().AsNoTracking().SingleAsync(b => b.Id == new BookingId(Guid.Parse(id))));
}
