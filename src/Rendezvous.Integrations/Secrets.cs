using Microsoft.AspNetCore.DataProtection;

namespace Rendezvous.Integrations;

/// <summary>Encrypts secrets at rest (calendar passwords, conferencing OAuth tokens) with ASP.NET Data Protection.</summary>
public sealed class Secrets(IDataProtectionProvider provider)
{
    private readonly IDataProtector _calendarPasswords = provider.CreateProtector("Rendezvous.CalendarConnection.Password.v1");

    public string ProtectCalendarPassword(string password) => _calendarPasswords.Protect(password);

    public string UnprotectCalendarPassword(string protectedPassword) => _calendarPasswords.Unprotect(protectedPassword);

    private readonly IDataProtector _conferencingTokens = provider.CreateProtector("Rendezvous.Conferencing.Token.v1");

    public string ProtectConferencingToken(string token) => _conferencingTokens.Protect(token);

    public string UnprotectConferencingToken(string protectedToken) => _conferencingTokens.Unprotect(protectedToken);
}
