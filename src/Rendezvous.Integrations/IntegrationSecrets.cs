using Microsoft.AspNetCore.DataProtection;

namespace Rendezvous.Integrations;

/// <summary>
/// Encrypts integration secrets at rest with ASP.NET Data Protection (the key ring lives in PostgreSQL): CRM OAuth tokens
/// and PayPal client secrets. Each kind has its own purpose, so one can never be read as another.
/// </summary>
public sealed class IntegrationSecrets(IDataProtectionProvider provider)
{
    private readonly IDataProtector _tokens = provider.CreateProtector("Rendezvous.Crm.OAuthToken.v1");
    private readonly IDataProtector _payPal = provider.CreateProtector("Rendezvous.PayPal.ClientSecret.v1");
    private readonly IDataProtector _states = provider.CreateProtector("Rendezvous.Crm.OAuthState.v1");

    public string ProtectToken(string token) => _tokens.Protect(token);

    /// <summary>The token in clear; throws <see cref="System.Security.Cryptography.CryptographicException"/> when the keys are gone.</summary>
    public string UnprotectToken(string protectedToken) => _tokens.Unprotect(protectedToken);

    public string ProtectPayPalSecret(string secret) => _payPal.Protect(secret);

    public string UnprotectPayPalSecret(string protectedSecret) => _payPal.Unprotect(protectedSecret);

    /// <summary>Signs (and encrypts) the state carried through an OAuth authorization.</summary>
    public string ProtectState(string state) => _states.Protect(state);

    /// <summary>The state in clear, or null when it was altered, truncated or made up.</summary>
    public string? UnprotectState(string? state)
    {
        if (string.IsNullOrEmpty(state) || state.Length > 2048)
        {
            return null;
        }

        try
        {
            return _states.Unprotect(state);
        }
        catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or FormatException)
        {
            return null;
        }
    }
}
