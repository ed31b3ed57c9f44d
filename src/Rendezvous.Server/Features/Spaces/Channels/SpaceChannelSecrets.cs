using Microsoft.AspNetCore.DataProtection;

namespace Rendezvous.Server.Features.Spaces.Channels;

/// <summary>Encrypts a space channel's password or client secret at rest, as calendar passwords are.</summary>
public sealed class SpaceChannelSecrets(IDataProtectionProvider provider)
{
    private readonly IDataProtector _protector = provider.CreateProtector("Rendezvous.SpaceChannel.Secret.v1");

    public string Protect(string secret) => _protector.Protect(secret);

    public string Unprotect(string protectedSecret) => _protector.Unprotect(protectedSecret);
}
