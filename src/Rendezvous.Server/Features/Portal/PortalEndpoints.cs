using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.Bookings;
using Rendezvous.Domain.Organizations;
using Rendezvous.Server.Features.Bookings;
using Rendezvous.Server.Features.Security;
using Rendezvous.Server.Features.SelfService;
using Rendezvous.Server.Infrastructure;

namespace Rendezvous.Server.Features.Portal;

/// <summary>Sends a customer the one-time link that signs them in to the portal.</summary>
public interface IPortalMailer
{
    Task SendSignInLinkAsync(Customer customer, Organization organization, string url, CancellationToken cancellationToken);
}

/// <summary>Sends the sign-in link by email, through the same SMTP transport as every other message.</summary>
public sealed class SmtpPortalMailer(
    Rendezvous.Integrations.Notifications.Email.IMailTransport transport, Microsoft.Extensions.Options.IOptions<Rendezvous.Integrations.Notifications.Email.SmtpOptions> smtp, IClock clock) : IPortalMailer
{
    public async Task SendSignInLinkAsync(Customer customer, Organization organization, string url, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(smtp.Value.Host))
        {
            // No mail server configured (as for booking notifications): nothing to send through.
            return;
        }

        if (!Rendezvous.Integrations.Notifications.Email.EmailAddresses.TryParse(smtp.Value.From, out var from))
        {
            throw new InvalidOperationException("Rendezvous__Smtp__From is not a valid address.");
        }

        var text = $"Hello {customer.Name},\n\nUse this link to sign in to {organization.Name} and see your appointments:\n{url}\n\n" +
            $"It works once, for {PortalEndpoints.LinkLifetime.TotalMinutes:0} minutes. If you did not ask for it, you can ignore this email.\n";
        var message = new Rendezvous.Integrations.Notifications.Email.EmailMessage
        {
            From = new MimeKit.MailboxAddress(from.Name ?? organization.Name, from.Address),
            To = [new MimeKit.MailboxAddress(customer.Name, customer.Email)],
            Subject = $"Sign in to {organization.Name}",
            Date = clock.GetCurrentInstant(),
            MessageId = $"portal-{Guid.NewGuid():N}@{from.Address.Split('@')[^1]}",
            TextBody = text,
            HtmlBody = $"<p>Hello {Html.E(customer.Name)},</p><p><a href=\"{Html.E(url)}\">Sign in to {Html.E(organization.Name)}</a> to see your appointments.</p>" +
                $"<p>The link works once, for {PortalEndpoints.LinkLifetime.TotalMinutes:0} minutes. If you did not ask for it, you can ignore this email.</p>",
        };
        await transport.SendAsync(message, cancellationToken);
    }
}

public sealed record SignInLinkRequest(string? Email);

public sealed record PasswordSignInRequest(string? Email, string? Password);

public sealed record SetPasswordRequest(string? Password);

public sealed record PortalAppointment(SelfServiceView View, string BookingId, bool Upcoming);

public sealed record PortalMe(string CustomerId, string Name, string Email, string Organization, bool HasPassword);

/// <summary>
/// The customer portal: customers sign in with a one-time link sent to their email, or with a password they set once
/// signed in, and see their appointments, then reschedule or cancel them within policy through the same paths as the
/// self-service links (so the same notifications and automations follow).
/// </summary>
public static class PortalEndpoints
{
    public const string Scheme = "Portal";
    public const string CustomerClaim = "rdv:customer";
    public const string OrganizationClaim = "rdv:portal-org";
    public static readonly Duration LinkLifetime = Duration.FromMinutes(15);
    public const int MinPasswordLength = 10;

    public static void MapPortal(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/portal/{org}").WithTags("Customer portal").AllowAnonymous().DisableAntiforgery();
        group.MapPost("/sign-in-link", RequestLinkAsync).RequireRateLimiting(RateLimits.SignInLink);
        group.MapPost("/sign-in", PasswordSignInAsync).RequireRateLimiting(RateLimits.SignIn);
        group.MapPost("/sign-out", SignOutAsync);
        group.MapGet("/me", MeAsync);
        group.MapPost("/password", SetPasswordAsync);
        group.MapGet("/appointments", AppointmentsAsync);
    }

    private static async Task<Results<Accepted, ProblemHttpResult>> RequestLinkAsync(string org, SignInLinkRequest request, HttpContext http, RendezvousDbContext db,
        IPortalMailer mailer, SelfServiceLinks links, EmailLimiter perEmail, IClock clock, CancellationToken ct)
    {
        if (!ApiFormat.TryNormalizeEmail(request.Email, out var email))
        {
            return Problems.Validation("email", "must be a valid email address");
        }

        // Each request may send an email: one inbox gets only a few links, from whatever addresses they are asked for.
        if (perEmail.TryAcquire(email) is { } wait)
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
            http.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return TypedResults.Problem($"Too many sign-in links for this email address; try again in {seconds} seconds.",
                statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests",
                extensions: new Dictionary<string, object?> { ["code"] = "rate_limited", ["field"] = "email", ["retryAfter"] = seconds });
        }

        await SendSignInLinkAsync(org, email, db, mailer, links, clock, ct);

        // The same answer whether or not the address is known, so the portal reveals no customer list.
        return TypedResults.Accepted((string?)null);
    }

    /// <summary>Emails a one-time sign-in link when <paramref name="email"/> is a customer of the organization; otherwise does nothing.</summary>
    public static async Task SendSignInLinkAsync(string org, string email, RendezvousDbContext db, IPortalMailer mailer, SelfServiceLinks links,
        IClock clock, CancellationToken ct)
    {
        var organization = await db.Organizations.AsNoTracking().FirstOrDefaultAsync(o => o.Slug == org, ct);
        if (organization is null)
        {
            return;
        }

        db.TenantId = organization.Id;
        var customer = await db.Customers.AsNoTracking().FirstOrDefaultAsync(c => c.Email == email, ct);
        if (customer is null || !await PortalAccessService.MayUsePortalAsync(db, customer, ct))
        {
            // Unknown, or not granted access: the same silence either way.
            return;
        }

        var token = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        await db.Database.ExecuteSqlInterpolatedAsync($"""
            INSERT INTO portal_sign_in_tokens (token_hash, customer_id, expires_at)
            VALUES ({SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token))}, {customer.Id.Value}, {clock.GetCurrentInstant() + LinkLifetime})
            """, ct);
        await mailer.SendSignInLinkAsync(customer, organization, links.Url($"/portal/{organization.Slug}/sign-in/{token}"), ct);
    }

    /// <summary>
    /// Uses a one-time sign-in link: when it is valid, unused and not expired for this organization, marks it used, signs
    /// the customer in and answers true.
    /// </summary>
    public static async Task<bool> UseSignInLinkAsync(string org, string token, HttpContext http, RendezvousDbContext db, IClock clock, CancellationToken ct)
    {
        var hash = SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token));
        var now = clock.GetCurrentInstant();
        var used = await db.Database.SqlQuery<Guid>($"""
            UPDATE portal_sign_in_tokens SET used_at = {now}
            WHERE token_hash = {hash} AND used_at IS NULL AND expires_at > {now}
            RETURNING customer_id AS "Value"
            """).ToListAsync(ct);
        var customer = used.Count == 1 ? await db.Customers.AcrossTenants().AsNoTracking().FirstOrDefaultAsync(c => c.Id == new CustomerId(used[0]), ct) : null;
        var organization = customer is null ? null : await db.Organizations.AsNoTracking().FirstOrDefaultAsync(o => o.Id == customer.OrganizationId && o.Slug == org, ct);
        if (customer is null || organization is null || !await PortalAccessService.MayUsePortalAsync(db, customer, ct))
        {
            return false;
        }

        await SignInAsync(http, customer);
        return true;
    }

    private static async Task<Results<Ok<PortalMe>, ProblemHttpResult>> PasswordSignInAsync(
        string org, PasswordSignInRequest request, HttpContext http, RendezvousDbContext db, CancellationToken ct)
    {
        var refused = Problems.From(new DomainError(ErrorKind.Forbidden, "sign_in_failed", "The email or password is not right."));
        if (!ApiFormat.TryNormalizeEmail(request.Email, out var email) || string.IsNullOrEmpty(request.Password) || request.Password.Length > 200)
        {
            return refused;
        }

        var customer = await SignInWithPasswordAsync(org, email, request.Password, http, db, ct);
        return customer is null ? refused : TypedResults.Ok(new PortalMe(customer.Id.ToString(), customer.Name, customer.Email, org, true));
    }

    /// <summary>Signs a customer in with their password; null (and nothing signed in) when the email or password is not right.</summary>
    public static async Task<Customer?> SignInWithPasswordAsync(string org, string email, string password, HttpContext http, RendezvousDbContext db,
        CancellationToken ct)
    {
        var organization = await db.Organizations.AsNoTracking().FirstOrDefaultAsync(o => o.Slug == org, ct);
        if (organization is null)
        {
            return null;
        }

        db.TenantId = organization.Id;
        var row = await db.Database.SqlQuery<PasswordRow>($"""
            SELECT id AS "Id", password_hash AS "Hash" FROM customers WHERE organization_id = {organization.Id.Value} AND email = {email}
            """).FirstOrDefaultAsync(ct);
        var customer = row is null ? null : await db.Customers.AsNoTracking().FirstAsync(c => c.Id == new CustomerId(row.Id), ct);
        if (customer is null || row!.Hash is null)
        {
            return null;
        }

        // Counted before the check, so parallel guesses get no more checks than the lockout allows (decision 0022).
        var throttle = http.RequestServices.GetRequiredService<SignInThrottle>();
        var address = SignInThrottle.AddressKey(http.Connection.RemoteIpAddress);
        if (!(await throttle.TryEnterAsync(SignInThrottle.Portal, row.Id, address, ct)).Allowed
            || new PasswordHasher<Customer>().VerifyHashedPassword(customer, row.Hash, password) == PasswordVerificationResult.Failed)
        {
            return null;
        }

        await throttle.SucceededAsync(SignInThrottle.Portal, row.Id, address, ct);
        if (!await PortalAccessService.MayUsePortalAsync(db, customer, ct))
        {
            return null;
        }

        await SignInAsync(http, customer);
        return customer;
    }

    /// <summary>True when the customer has set a password.</summary>
    public static async Task<bool> HasPasswordAsync(Customer customer, RendezvousDbContext db, CancellationToken ct) =>
        await db.Database.SqlQuery<string?>($"SELECT password_hash AS \"Value\" FROM customers WHERE id = {customer.Id.Value}").FirstAsync(ct) is not null;

    /// <summary>Why a portal password is refused, or null when it will do.</summary>
    public static DomainError? CheckPassword(string? password) =>
        password is { Length: >= MinPasswordLength and <= 200 } ? null : DomainError.Validation("password", $"must be {MinPasswordLength} to 200 characters");

    /// <summary>Sets the customer's portal password: the one implementation the API and the portal page both call.</summary>
    public static async Task<Result> StorePasswordAsync(Customer customer, string? password, RendezvousDbContext db, CancellationToken ct)
    {
        if (CheckPassword(password) is { } problem)
        {
            return problem;
        }

        var hash = new PasswordHasher<Customer>().HashPassword(customer, password!);
        await db.Database.ExecuteSqlInterpolatedAsync($"UPDATE customers SET password_hash = {hash} WHERE id = {customer.Id.Value}", ct);
        await db.Database.ExecuteSqlInterpolatedAsync($"DELETE FROM sign_in_failures WHERE kind = {SignInThrottle.Portal} AND account_id = {customer.Id.Value}", ct);
        return Result.Success;
    }

    private static async Task<NoContent> SignOutAsync(string org, HttpContext http)
    {
        await http.SignOutAsync(Scheme);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<PortalMe>, ProblemHttpResult>> MeAsync(string org, HttpContext http, RendezvousDbContext db, CancellationToken ct)
    {
        var me = await CurrentAsync(org, http, db, ct);
        if (me is null)
        {
            return NotSignedIn();
        }

        var hash = await db.Database.SqlQuery<string?>($"SELECT password_hash AS \"Value\" FROM customers WHERE id = {me.Value.Customer.Id.Value}").FirstAsync(ct);
        return TypedResults.Ok(new PortalMe(me.Value.Customer.Id.ToString(), me.Value.Customer.Name, me.Value.Customer.Email, me.Value.Organization.Slug, hash is not null));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> SetPasswordAsync(
        string org, SetPasswordRequest request, HttpContext http, RendezvousDbContext db, CancellationToken ct)
    {
        var me = await CurrentAsync(org, http, db, ct);
        if (me is null)
        {
            return NotSignedIn();
        }

        var stored = await StorePasswordAsync(me.Value.Customer, request.Password, db, ct);
        return stored.IsSuccess ? TypedResults.NoContent() : Problems.From(stored.Error!);
    }

    private static async Task<Results<Ok<PortalAppointment[]>, ProblemHttpResult>> AppointmentsAsync(
        string org, HttpContext http, RendezvousDbContext db, SelfServiceService selfService, SelfServiceLinks links, IClock clock, CancellationToken ct)
    {
        var me = await CurrentAsync(org, http, db, ct);
        if (me is null)
        {
            return NotSignedIn();
        }

        return TypedResults.Ok(await ListAsync(me.Value.Customer, db, selfService, links, clock, ct));
    }

    /// <summary>
    /// The customer's appointments, upcoming first; for a contact of a company, the appointments of every contact of the
    /// company (seed 003, "Contact/Company"). Upcoming ones carry the same single-purpose tokens as the emailed links, so
    /// cancelling and rescheduling go through the self-service paths.
    /// </summary>
    public static async Task<PortalAppointment[]> ListAsync(Customer customer, RendezvousDbContext db, SelfServiceService selfService,
        SelfServiceLinks links, IClock clock, CancellationToken ct)
    {
        var now = clock.GetCurrentInstant();
        var circle = await PortalAccessService.CircleAsync(db, customer, ct);
        var bookings = await db.Bookings.AsNoTracking().Where(b => circle.Contains(b.CustomerId)).OrderBy(b => b.Start).Take(200).ToListAsync(ct);
        var result = new List<PortalAppointment>();
        foreach (var booking in bookings.OrderByDescending(b => SelfServiceLinks.IsLive(b, now)).ThenBy(b => b.Start))
        {
            var live = SelfServiceLinks.IsLive(booking, now);
            var target = await selfService.OpenAsync(links.CreateToken(booking.Id, LinkPurpose.View), LinkPurpose.View, ct);
            if (target.IsSuccess)
            {
                result.Add(new PortalAppointment(selfService.Describe(target.Value), booking.Id.ToString(), live));
            }
            else
            {
                // Past or canceled: listed without actions.
                var page = await db.BookingPages.AsNoTracking().FirstAsync(p => p.Id == booking.BookingPageId, ct);
                var host = await db.Users.AsNoTracking().FirstAsync(u => u.Id == booking.OwnerId, ct);
                var zone = TimeZones.Find(customer.TimeZoneId) ?? page.Settings.TimeZone;
                var contactName = booking.CustomerId == customer.Id
                    ? customer.Name
                    : (await db.Customers.AsNoTracking().FirstAsync(c => c.Id == booking.CustomerId, ct)).Name;
                result.Add(new PortalAppointment(new SelfServiceView(
                    new SelfServiceBooking(booking.Id.ToString(), BookingLifecycle.ApiName(booking.Status), booking.DetailedStatus, page.Title,
                        await Rendezvous.Integrations.Conferencing.BookingLocation.ForCustomerAsync(db, page, booking, ct),
                        ApiFormat.Format(booking.Start, zone), ApiFormat.Format(booking.End, zone), zone.Id, host.Name, host.Email, contactName),
                    false, false, null, null, null, null), booking.Id.ToString(), false));
            }
        }

        return [.. result];
    }

    public static async Task SignInAsync(HttpContext http, Customer customer)
    {
        var identity = new ClaimsIdentity(
        [
            new Claim(CustomerClaim, customer.Id.ToString()),
            new Claim(OrganizationClaim, customer.OrganizationId.ToString()),
        ], Scheme);
        await http.SignInAsync(Scheme, new ClaimsPrincipal(identity));
    }

    /// <summary>The signed-in customer, when the portal cookie belongs to this organization.</summary>
    public static async Task<(Customer Customer, Organization Organization)?> CurrentAsync(string org, HttpContext http, RendezvousDbContext db, CancellationToken ct)
    {
        var auth = await http.AuthenticateAsync(Scheme);
        if (!auth.Succeeded || !Guid.TryParse(auth.Principal.FindFirstValue(CustomerClaim), out var customerId)
            || !Guid.TryParse(auth.Principal.FindFirstValue(OrganizationClaim), out var orgId))
        {
            return null;
        }

        var organization = await db.Organizations.AsNoTracking().FirstOrDefaultAsync(o => o.Id == new OrganizationId(orgId) && o.Slug == org, ct);
        if (organization is null)
        {
            return null;
        }

        db.TenantId = organization.Id;
        var customer = await db.Customers.AsNoTracking().FirstOrDefaultAsync(c => c.Id == new CustomerId(customerId), ct);
        // Access is checked on every request, so revoking it (or closing the portal to granted contacts) takes effect at once.
        return customer is null || !await PortalAccessService.MayUsePortalAsync(db, customer, ct) ? null : (customer, organization);
    }

    private static ProblemHttpResult NotSignedIn() =>
        Problems.From(new DomainError(ErrorKind.Forbidden, "not_signed_in", "Sign in to the portal first.")) is var p
            ? TypedResults.Problem(p.ProblemDetails.Detail, statusCode: 401, title: "Not signed in.", extensions: p.ProblemDetails.Extensions)
            : p;

    private sealed record PasswordRow(Guid Id, string? Hash);
}
