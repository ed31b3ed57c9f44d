using Microsoft.AspNetCore.DataProtection;

namespace Rendezvous.Server.Infrastructure;

/// <summary>Encrypts secrets at rest (calendar passwords, later OAuth tokens) with ASP.NET Data Protection.</summary>
public sealed class Secrets(IDataProtectionProvider provider)
{
    private readonly IDataProtector _calendarPasswords = provider.CreateProtector("Rendezvous.CalendarConnection.Password.v1");

    public string ProtectCalendarPassword(string password) => _calendarPasswords.Protect(password);

    public string UnprotectCalendarPassword(string protectedPassword) => _calendarPasswords.Unprotect(protectedPassword);
}
