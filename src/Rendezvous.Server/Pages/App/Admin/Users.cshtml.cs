using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.Organizations;
using Rendezvous.Server.Features.StaffAuth;
using Rendezvous.Server.Features.Users;
using Rendezvous.Server.Features.Web;

namespace Rendezvous.Server.Pages.App.Admin;

/// <summary>Users and roles: everyone in the organization, and a new user with an optional first password.</summary>
public sealed class UsersModel(RendezvousDbContext db, StaffAccounts accounts, IClock clock) : StaffPageModel
{
    public IReadOnlyList<User> Users { get; private set; } = [];

    public HashSet<UserId> WithPassword { get; private set; } = [];

    public Dictionary<UserId, Instant> Locked { get; private set; } = [];

    public DateTimeZone Zone { get; private set; } = DateTimeZone.Utc;

    [BindProperty]
    public string? Name { get; set; }

    [BindProperty]
    public string? Email { get; set; }

    [BindProperty]
    public string? TimeZone { get; set; }

    [BindProperty]
    public string Role { get; set; } = "member";

    [BindProperty]
    public string? Password { get; set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        TimeZone = Zone.Id;
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        Errors.Labels["name"] = "The name";
        Errors.Labels["email"] = "The email";
        Errors.Labels["timeZone"] = "The time zone";
        Errors.Labels["role"] = "The role";
        Errors.Labels["password"] = "The password";
        if (!string.IsNullOrEmpty(Password) && StaffAccounts.CheckPassword(Password) is { } problem)
        {
            Errors.Add("password", problem);
            return Page();
        }

        var created = await UsersEndpoints.CreateUserAsync(new CreateUserRequest(Name, Email, TimeZone, Role), Me, db, clock, ct);
        if (!created.IsSuccess)
        {
            Errors.Add(created.Error!, f => f);
            if (created.Error!.Code == "email_taken")
            {
                Errors.Add("email", "belongs to another user already");
            }

            return Page();
        }

        if (!string.IsNullOrEmpty(Password))
        {
            await accounts.SetPasswordAsync(created.Value, Password, ct);
        }

        Flash($"{created.Value.Name} is added{(string.IsNullOrEmpty(Password) ? "; set a password so they can sign in" : " and can sign in with the password you chose")}.");
        return Go($"/app/admin/users/{created.Value.Id}");
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        ViewData["Title"] = "Users";
        ViewData["Nav"] = "users";
        Zone = await MyZoneAsync(db, ct);
        Users = await db.Users.AsNoTracking().OrderBy(u => u.Name).ToListAsync(ct);
        var ids = Users.Select(u => u.Id.Value).ToArray();
        var with = await db.Database.SqlQuery<Guid>($"SELECT id AS \"Value\" FROM users WHERE id = ANY({ids}) AND password_hash IS NOT NULL").ToListAsync(ct);
        WithPassword = [.. with.Select(g => new UserId(g))];
        Locked = await accounts.LockedUsersAsync(Me.OrganizationId, ct);
    }
}
