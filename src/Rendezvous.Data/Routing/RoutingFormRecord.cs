using NodaTime;
using Rendezvous.Domain;

namespace Rendezvous.Data;

/// <summary>
/// An administrator's routing form. <see cref="Definition"/> is the JSON of its questions, rules and fallback message
/// (<see cref="Domain.Routing.RoutingFormDefinitionSpec"/>); <see cref="Slug"/> is its public address, unique across
/// organizations like a booking page's.
/// </summary>
public sealed class RoutingFormRecord
{
    public required Guid Id { get; init; }

    public required OrganizationId OrganizationId { get; init; }

    public required string Slug { get; set; }

    public required string Title { get; set; }

    public string? Description { get; set; }

    public required string Definition { get; set; }

    public required Instant CreatedAt { get; init; }

    public required Instant UpdatedAt { get; set; }
}
