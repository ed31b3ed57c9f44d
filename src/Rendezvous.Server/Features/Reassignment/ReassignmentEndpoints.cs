using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Rendezvous.Data;
using Rendezvous.Server.Features.Bookings;
using Rendezvous.Server.Infrastructure;

namespace Rendezvous.Server.Features.Reassignment;

/// <summary>
/// <c>GET /bookings/{id}/reassignment-targets</c> and <c>POST /bookings/{id}/reassign</c> (administrators only; seed 001).
/// A refused reassignment is answered 403 (not an administrator) or 409 with <c>code</c> naming the first rule that
/// failed and <c>refusals</c> listing every one.
/// </summary>
public static class ReassignmentEndpoints
{
    public static void MapReassignment(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/bookings").WithTags("Reassignment");
        group.MapGet("/{id}/reassignment-targets", TargetsAsync);
        group.MapPost("/{id}/reassign", ReassignAsync);
    }

    private static async Task<Results<Ok<ReassignmentTargetsResponse>, ProblemHttpResult>> TargetsAsync(
        string id, ReassignmentService service, HttpContext http, CancellationToken ct)
    {
        var result = await service.TargetsAsync(id, CurrentUser.From(http.User), ct);
        return result.IsSuccess ? TypedResults.Ok(result.Value) : Problems.From(result.Error!);
    }

    private static async Task<Results<Ok<ReassignmentResponse>, ProblemHttpResult>> ReassignAsync(
        string id, ReassignRequest body, ReassignmentService service, RendezvousDbContext db, HttpContext http, CancellationToken ct)
    {
        ReassignmentFailure? refused = null;
        var result = await service.ReassignAsync(id, body, CurrentUser.From(http.User), f => refused = f, ct);
        if (!result.IsSuccess)
        {
            var problem = Problems.From(result.Error!);
            if (refused is not null)
            {
                problem.ProblemDetails.Extensions["refusals"] = refused.Refusals.Select(r => new RefusalResponse(r.Code, r.Message)).ToArray();
            }

            return problem;
        }

        var (booking, location) = result.Value;
        var customer = await db.Customers.AsNoTracking().FirstOrDefaultAsync(c => c.Id == booking.CustomerId, ct);
        return TypedResults.Ok(new ReassignmentResponse(BookingResponse.From(booking, customer, withHistory: true), location));
    }
}
