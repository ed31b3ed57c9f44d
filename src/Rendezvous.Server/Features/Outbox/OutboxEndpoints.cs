using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Integrations;
using Rendezvous.Server.Infrastructure;

namespace Rendezvous.Server.Features.Outbox;

/// <summary>
/// An outbox message as administrators see it. <c>State</c> is <c>dead</c> (used up its attempts; waits for a replay),
/// <c>retrying</c> (failed, tried again at <c>availableAt</c>), <c>running</c> (claimed by a process now), <c>pending</c>
/// (not tried yet) or <c>done</c>.
/// </summary>
public sealed record OutboxMessageResponse(
    long Id,
    string Type,
    string State,
    int Attempts,
    string? LastError,
    string[] HandledBy,
    string CreatedAt,
    string AvailableAt,
    string? ProcessedAt,
    string? DeadAt,
    string? OrderingKey)
{
    /// <summary>The message's content; only when one message is shown.</summary>
    public JsonElement? Payload { get; init; }
}

/// <summary>How many dead messages a replay of a whole type gave back to the outbox.</summary>
public sealed record OutboxReplayResponse(string Type, int Replayed);

/// <summary>
/// The outbox's dead and retrying messages, for administrators of the organization the messages belong to (decision 0027):
/// list, show, replay one, replay every dead message of a type. A replay gives a dead message a fresh set of attempts and
/// keeps what already succeeded (its handled-by list), so only the handlers that failed run again.
/// </summary>
public static class OutboxEndpoints
{
    public const int DefaultPage = 50;
    public const int MaxPage = 500;

    public static void MapOutbox(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/outbox").WithTags("Outbox").RequireAuthorization(ApiKeys.AdministratorPolicy);
        group.MapGet("/messages", ListAsync);
        group.MapGet("/messages/{id}", GetAsync);
        group.MapPost("/messages/{id}/replay", ReplayAsync);
        group.MapPost("/replay", ReplayTypeAsync);
    }

    /// <summary>The organization's messages in one state (default: dead and retrying), newest first, optionally of one type.</summary>
    private static async Task<Results<Ok<OutboxMessageResponse[]>, ProblemHttpResult>> ListAsync(
        string? state, string? type, int? limit, HttpContext http, OutboxAdministration outbox, IClock clock, CancellationToken ct)
    {
        var errors = new List<FieldError>();
        if (state is not null && !OutboxAdministration.States.Contains(state))
        {
            errors.Add(new("state", "must be failing (dead and retrying, the default), dead, retrying, running, pending or done"));
        }

        if (limit is < 1 or > MaxPage)
        {
            errors.Add(new("limit", $"must be between 1 and {MaxPage}"));
        }

        if (errors.Count > 0)
        {
            return Problems.From(DomainError.Validation(errors));
        }

        var messages = await outbox.ListAsync(CurrentUser.From(http.User).OrganizationId, state ?? "failing", type, limit ?? DefaultPage, ct);
        var now = clock.GetCurrentInstant();
        return TypedResults.Ok(messages.Select(m => ToResponse(m, now)).ToArray());
    }

    private static async Task<Results<Ok<OutboxMessageResponse>, ProblemHttpResult>> GetAsync(
        string id, HttpContext http, OutboxAdministration outbox, IClock clock, CancellationToken ct)
    {
        var message = ParseId(id) is { } value ? await outbox.FindAsync(CurrentUser.From(http.User).OrganizationId, value, ct) : null;
        return message is null
            ? Problems.NotFound("Outbox message")
            : TypedResults.Ok(ToResponse(message, clock.GetCurrentInstant()) with { Payload = ParsePayload(message.Payload) });
    }

    /// <summary>Gives one dead message a fresh set of attempts, due now. Only a dead message can be replayed (409 otherwise).</summary>
    private static async Task<Results<Ok<OutboxMessageResponse>, ProblemHttpResult>> ReplayAsync(
        string id, HttpContext http, OutboxAdministration outbox, IClock clock, CancellationToken ct)
    {
        var org = CurrentUser.From(http.User).OrganizationId;
        if (ParseId(id) is not { } value)
        {
            return Problems.NotFound("Outbox message");
        }

        switch (await outbox.ReplayAsync(org, value, ct))
        {
            case OutboxReplayOutcome.NotFound:
                return Problems.NotFound("Outbox message");
            case OutboxReplayOutcome.NotDead:
                return Problems.From(DomainError.Conflict("outbox_message_not_dead",
                    "Only a dead message can be replayed; this one is still being tried or is done."));
            default:
                var after = await outbox.FindAsync(org, value, ct);
                return after is null ? Problems.NotFound("Outbox message") : TypedResults.Ok(ToResponse(after, clock.GetCurrentInstant()));
        }
    }

    /// <summary>Replays every dead message of the organization with the given type.</summary>
    private static async Task<Results<Ok<OutboxReplayResponse>, ProblemHttpResult>> ReplayTypeAsync(
        string? type, HttpContext http, OutboxAdministration outbox, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(type))
        {
            return Problems.Validation("type", "is required: the message type to replay, e.g. booking.created");
        }

        var replayed = await outbox.ReplayTypeAsync(CurrentUser.From(http.User).OrganizationId, type, ct);
        return TypedResults.Ok(new OutboxReplayResponse(type, replayed));
    }

    private static long? ParseId(string id) =>
        long.TryParse(id, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) ? value : null;

    public static OutboxMessageResponse ToResponse(OutboxMessage m, Instant now) => new(
        m.Id, m.Type, OutboxAdministration.StateOf(m, now), m.Attempts, m.LastError, [.. m.HandledBy], ApiFormat.Format(m.CreatedAt),
        ApiFormat.Format(m.AvailableAt), m.ProcessedAt is { } p ? ApiFormat.Format(p) : null, m.DeadAt is { } d ? ApiFormat.Format(d) : null,
        m.OrderingKey);

    private static JsonElement ParsePayload(string payload)
    {
        using var doc = JsonDocument.Parse(payload);
        return doc.RootElement.Clone();
    }
}
