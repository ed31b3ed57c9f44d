using Microsoft.AspNetCore.Http.HttpResults;
using Rendezvous.Server.Infrastructure;

namespace Rendezvous.Server.Features.Automations;

/// <summary>
/// <c>/api/v1/automations</c>: rules (CRUD), "send me a sample" and recent runs. Administrators see and manage every rule of
/// the organization; other users the rules of their own booking pages.
/// </summary>
public static class AutomationsEndpoints
{
    public static void MapAutomations(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/automations").WithTags("Automations").RequireAuthorization();
        group.MapGet("/", ListAsync);
        group.MapPost("/", CreateAsync);
        group.MapGet("/{id}", GetAsync);
        group.MapPut("/{id}", UpdateAsync);
        group.MapDelete("/{id}", DeleteAsync);
        group.MapPost("/{id}/test", TestAsync);
        group.MapGet("/{id}/runs", RunsAsync);
        api.MapGet("/bookings/{id}/automation-runs", BookingRunsAsync).WithTags("Automations").RequireAuthorization();
    }

    private static async Task<Ok<AutomationResponse[]>> ListAsync(AutomationService automations, HttpContext http, CancellationToken ct) =>
        TypedResults.Ok((await automations.ListAsync(CurrentUser.From(http.User), ct)).Select(r => r.ToResponse()).ToArray());

    private static async Task<Results<Created<AutomationResponse>, ProblemHttpResult>> CreateAsync(
        AutomationRequest request, AutomationService automations, HttpContext http, CancellationToken ct)
    {
        var created = await automations.CreateAsync(CurrentUser.From(http.User), request, ct);
        return created.IsSuccess
            ? TypedResults.Created($"/api/v1/automations/{created.Value.Id}", created.Value.ToResponse())
            : Problems.From(created.Error!);
    }

    private static async Task<Results<Ok<AutomationResponse>, ProblemHttpResult>> GetAsync(
        string id, AutomationService automations, HttpContext http, CancellationToken ct)
    {
        var found = await automations.FindAsync(CurrentUser.From(http.User), id, ct);
        return found.IsSuccess ? TypedResults.Ok(found.Value.ToResponse()) : Problems.From(found.Error!);
    }

    private static async Task<Results<Ok<AutomationResponse>, ProblemHttpResult>> UpdateAsync(
        string id, AutomationRequest request, AutomationService automations, HttpContext http, CancellationToken ct)
    {
        var updated = await automations.UpdateAsync(CurrentUser.From(http.User), id, request, ct);
        return updated.IsSuccess ? TypedResults.Ok(updated.Value.ToResponse()) : Problems.From(updated.Error!);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        string id, AutomationService automations, HttpContext http, CancellationToken ct)
    {
        var deleted = await automations.DeleteAsync(CurrentUser.From(http.User), id, ct);
        return deleted.IsSuccess ? TypedResults.NoContent() : Problems.From(deleted.Error!);
    }

    /// <summary>"Send me a sample": the action goes to the signed-in user (email) or is marked as a sample (webhook).</summary>
    private static async Task<Results<Ok<AutomationTestResponse>, ProblemHttpResult>> TestAsync(
        string id, string? bookingId, AutomationService automations, HttpContext http, CancellationToken ct)
    {
        var sent = await automations.SampleAsync(CurrentUser.From(http.User), id, bookingId, ct);
        return sent.IsSuccess ? TypedResults.Ok(new AutomationTestResponse(sent.Value)) : Problems.From(sent.Error!);
    }

    private static async Task<Results<Ok<AutomationRunResponse[]>, ProblemHttpResult>> RunsAsync(
        string id, int? limit, AutomationService automations, HttpContext http, CancellationToken ct)
    {
        var runs = await automations.RunsAsync(CurrentUser.From(http.User), id, limit, ct);
        return runs.IsSuccess ? TypedResults.Ok(runs.Value.Select(r => r.ToResponse()).ToArray()) : Problems.From(runs.Error!);
    }

    private static async Task<Results<Ok<AutomationRunResponse[]>, ProblemHttpResult>> BookingRunsAsync(
        string id, Bookings.BookingService bookings, Data.RendezvousDbContext db, HttpContext http, CancellationToken ct)
    {
        var booking = await bookings.FindForStaffAsync(id, CurrentUser.From(http.User), ct);
        if (!booking.IsSuccess)
        {
            return Problems.From(booking.Error!);
        }

        var runs = await AutomationStore.RunsOfBookingAsync(db, booking.Value.Id, ct);
        return TypedResults.Ok(runs.Select(r => r.ToResponse()).ToArray());
    }
}
