using NodaTime;
using Rendezvous.Domain;

namespace Rendezvous.Data;

/// <summary>
/// An organization's PayPal REST app: payments for its pages go to this merchant. The secret is encrypted with Data
/// Protection (it is needed in clear to ask PayPal for access tokens) and never returned.
/// </summary>
public sealed class PayPalAccount
{
    public required OrganizationId OrganizationId { get; init; }

    public required string ClientId { get; set; }

    public required string ProtectedClientSecret { get; set; }

    public required Instant CreatedAt { get; init; }

    public required Instant UpdatedAt { get; set; }
}
