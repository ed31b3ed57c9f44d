using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Data.Spaces;
using Rendezvous.Domain;
using Rendezvous.Integrations;
using Rendezvous.Integrations.Notifications.Email;
using Rendezvous.Server.Infrastructure;

namespace Rendezvous.Server.Features.Spaces.Channels;

/// <summary>
/// The channel a space's invitations arrive through. <c>kind</c> is <c>caldav</c> (<c>serverUrl</c>, the space's
/// account, <c>address</c> its calendar-user address) or <c>imip</c> (<c>imapHost</c>, <c>imapPort</c>,
/// <c>imapSecurity</c>, the mailbox's account, <c>address</c> the space's email) or <c>graph</c> (a Microsoft 365 room
/// mailbox: <c>address</c> the room's address, <c>tenant</c> the directory, <c>userName</c> the application's client id,
/// <c>password</c> its client secret, <c>serverUrl</c> optionally another Graph endpoint such as a national cloud's).
/// The password is required the first time, kept encrypted and never returned.
/// </summary>
public sealed record SpaceChannelRequest(
    string? Kind, string? Address, string? ServerUrl, string? ImapHost, int? ImapPort, string? ImapSecurity, string? UserName, string? Password,
    string? Tenant = null);

public sealed record SpaceChannelResponse(
    Guid SpaceId, string Kind, string Address, string? ServerUrl, string? ImapHost, int? ImapPort, string? ImapSecurity, string UserName,
    bool HasPassword, Instant? LastPolledAt, string? LastError, int ConsecutiveFailures, string? Tenant);

/// <summary>Administrators set, read and remove a space's channel under <c>/api/v1/spaces/{id}/channel</c>.</summary>
public static class SpaceChannelEndpoints
{
    private static readonly string[] Securities = ["None", "StartTls", "StartTlsWhenAvailable", "SslOnConnect"];

    public static void MapSpaceChannels(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/spaces/{spaceId:guid}/channel").WithTags("Spaces").RequireAuthorization(ApiKeys.AdministratorPolicy);
        group.MapGet("/", GetAsync);
        group.MapPut("/", PutAsync);
        group.MapDelete("/", DeleteAsync);
    }

    private static async Task<Results<Ok<SpaceChannelResponse>, ProblemHttpResult>> GetAsync(Guid spaceId, RendezvousDbContext db, CancellationToken ct)
    {
        if (!await db.Set<Space>().AnyAsync(s => s.Id == spaceId, ct))
        {
            return Problems.NotFound("space");
        }

        var channel = await db.SpaceChannels.AsNoTracking().SingleOrDefaultAsync(c => c.SpaceId == spaceId, ct);
        return channel is null ? Problems.NotFound("channel") : TypedResults.Ok(ToResponse(channel));
    }

    private static async Task<Results<Ok<SpaceChannelResponse>, ProblemHttpResult>> PutAsync(Guid spaceId, SpaceChannelRequest request,
        RendezvousDbContext db, SpaceChannelSecrets secrets, IClock clock, HttpContext http, CancellationToken ct)
    {
        var me = CurrentUser.From(http.User);
        if (!await db.Set<Space>().AnyAsync(s => s.Id == spaceId, ct))
        {
            return Problems.NotFound("space");
        }

        var channel = await db.SpaceChannels.SingleOrDefaultAsync(c => c.SpaceId == spaceId, ct);
        var errors = new List<FieldError>();
        var kind = request.Kind;
        if (kind is not (SpaceChannel.CalDav or SpaceChannel.Imip or SpaceChannel.Graph))
        {
            errors.Add(new("kind", "must be caldav, imip or graph"));
        }

        if (!EmailAddresses.TryParse(request.Address, out var address) || !string.IsNullOrEmpty(address.Name))
        {
            errors.Add(new("address", "must be the space's email or calendar-user address (name@example.com)"));
        }

        if (!ApiFormat.TryText(request.UserName, 200, out var userName))
        {
            errors.Add(new("userName", "is required: the account Rendezvous signs in with"));
        }

        string? password = null;
        if (request.Password is not null && !ApiFormat.TryText(request.Password, 500, out password))
        {
            errors.Add(new("password", "must be 1-500 characters"));
        }
        else if (request.Password is null && channel is null)
        {
            errors.Add(new("password", "is required the first time"));
        }

        if (kind == SpaceChannel.CalDav && (!Uri.TryCreate(request.ServerUrl, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https")))
        {
            errors.Add(new("serverUrl", "must be the CalDAV server's http(s) URL"));
        }

        if (kind == SpaceChannel.Graph)
        {
            if (!ApiFormat.TryText(request.Tenant, 100, out _))
            {
                errors.Add(new("tenant", "is required for graph: the directory (tenant) id or domain of the application"));
            }

            if (request.ServerUrl is not null && (!Uri.TryCreate(request.ServerUrl, UriKind.Absolute, out var graphUrl) || graphUrl.Scheme != "https"))
            {
                errors.Add(new("serverUrl", "must be the Microsoft Graph https URL (leave it out for the default)"));
            }
        }

        if (kind == SpaceChannel.Imip)
        {
            if (!ApiFormat.TryText(request.ImapHost, 253, out _))
            {
                errors.Add(new("imapHost", "is required for imip"));
            }

            if (request.ImapPort is not null and (< 1 or > 65535))
            {
                errors.Add(new("imapPort", "must be 1-65535"));
            }

            if (request.ImapSecurity is not null && !Securities.Contains(request.ImapSecurity))
            {
                errors.Add(new("imapSecurity", "must be None, StartTls, StartTlsWhenAvailable or SslOnConnect"));
            }
        }

        if (errors.Count > 0)
        {
            return Problems.From(DomainError.Validation(errors));
        }

        var now = clock.GetCurrentInstant();
        if (channel is null)
        {
            channel = new SpaceChannel
            {
                SpaceId = spaceId,
                OrganizationId = me.OrganizationId,
                Kind = kind!,
                Address = address.Address,
                UserName = userName,
                ProtectedSecret = secrets.Protect(password!),
                NextPollAt = now,
                CreatedAt = now,
                UpdatedAt = now,
            };
            db.SpaceChannels.Add(channel);
        }

        var moved = channel.Kind != kind || channel.ServerUrl != request.ServerUrl || channel.ImapHost != request.ImapHost
            || channel.UserName != userName || channel.Address != address.Address || channel.Tenant != request.Tenant;
        channel.Kind = kind!;
        channel.Address = address.Address;
        channel.UserName = userName;
        channel.ServerUrl = kind is SpaceChannel.CalDav or SpaceChannel.Graph ? request.ServerUrl : null;
        channel.Tenant = kind == SpaceChannel.Graph ? request.Tenant : null;
        channel.ImapHost = kind == SpaceChannel.Imip ? request.ImapHost : null;
        channel.ImapPort = kind == SpaceChannel.Imip ? request.ImapPort ?? 143 : null;
        channel.ImapSecurity = kind == SpaceChannel.Imip ? request.ImapSecurity ?? "StartTlsWhenAvailable" : null;
        if (password is not null)
        {
            channel.ProtectedSecret = secrets.Protect(password);
        }

        if (moved)
        {
            // Another calendar or mailbox: what was read from the old one says nothing about the new one.
            channel.CalendarHref = null;
            channel.SyncToken = null;
            channel.ImapUidValidity = null;
            channel.ImapLastUid = 0;
        }

        channel.NextPollAt = now;
        channel.LastError = null;
        channel.ConsecutiveFailures = 0;
        channel.UpdatedAt = now;
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(ToResponse(channel));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(Guid spaceId, RendezvousDbContext db, CancellationToken ct)
    {
        var channel = await db.SpaceChannels.SingleOrDefaultAsync(c => c.SpaceId == spaceId, ct);
        if (channel is null)
        {
            return Problems.NotFound("channel");
        }

        db.SpaceChannels.Remove(channel);
        await db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }

    private static SpaceChannelResponse ToResponse(SpaceChannel c) => new(
        c.SpaceId, c.Kind, c.Address, c.ServerUrl, c.ImapHost, c.ImapPort, c.ImapSecurity, c.UserName,
        !string.IsNullOrEmpty(c.ProtectedSecret), c.LastPolledAt, c.LastError, c.ConsecutiveFailures, c.Tenant);
}
