using System.Security.Cryptography;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Rendezvous.Data.KeyEncryption;

/// <summary>What <see cref="KeyRingProtection.Prepare"/> found and did.</summary>
public sealed record KeyRingReport(int Entries, int Encrypted, int Rewrapped, int Plaintext);

/// <summary>
/// The Data Protection key ring, shared by every server process through PostgreSQL and encrypted at rest with the
/// configured key-encryption key.
/// </summary>
public static partial class KeyRingProtection
{
    private static readonly XNamespace DataProtectionNs = "http://schemas.asp.net/2015/03/dataProtection";

    /// <summary>Data Protection with its key ring in the database, encrypted when a key-encryption key is configured.</summary>
    public static IServiceCollection AddRendezvousDataProtection(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<KeyEncryptionOptions>(configuration.GetSection("Rendezvous:DataProtection"));
        services.AddSingleton(sp => new KeyEncryptionKeys(sp.GetRequiredService<IOptions<KeyEncryptionOptions>>().Value));
        services.AddDataProtection().SetApplicationName("Rendezvous");
        services.AddOptions<KeyManagementOptions>()
            .Configure<NpgsqlDataSource, KeyEncryptionKeys>((o, dataSource, keys) =>
            {
                o.XmlRepository = new DataProtectionKeyStore(dataSource);
                if (keys.CurrentId is not null)
                {
                    o.XmlEncryptor = new AesGcmXmlEncryptor(keys);
                }
            });
        return services;
    }

    /// <summary>
    /// Run at start, before anything uses Data Protection: proves every stored entry decrypts with the configured keys
    /// (otherwise Data Protection would quietly make a new key and every stored secret would become unreadable), and
    /// re-encrypts under the current key the entries written before a key was configured or under a previous key.
    /// </summary>
    /// <exception cref="InvalidOperationException">An entry needs a key that is not configured, or does not decrypt.</exception>
    public static KeyRingReport Prepare(IServiceProvider services, ILogger logger)
    {
        var keys = services.GetRequiredService<KeyEncryptionKeys>();
        var store = new DataProtectionKeyStore(services.GetRequiredService<NpgsqlDataSource>());
        int entries = 0, encrypted = 0, rewrapped = 0, plaintext = 0;
        foreach (var (id, xml) in store.ReadRows())
        {
            entries++;
            var changed = false;
            foreach (var sealedElement in xml.Descendants(AesGcmXmlEncryptor.ElementName).ToList())
            {
                encrypted++;
                var secret = Open(keys, sealedElement, xml);
                if (keys.CurrentId is not null && AesGcmXmlDecryptor.KeyIdOf(sealedElement) != keys.CurrentId)
                {
                    sealedElement.ReplaceWith(AesGcmXmlEncryptor.Seal(keys, secret));
                    rewrapped++;
                    changed = true;
                }
            }

            foreach (var secret in xml.Descendants().Where(e => (string?)e.Attribute(DataProtectionNs + "requiresEncryption") == "true").ToList())
            {
                if (keys.CurrentId is null)
                {
                    plaintext++;
                    continue;
                }

                // The same wrapper Data Protection writes around what an IXmlEncryptor returns.
                secret.ReplaceWith(new XElement(DataProtectionNs + "encryptedSecret",
                    new XAttribute("decryptorType", typeof(AesGcmXmlDecryptor).AssemblyQualifiedName!),
                    AesGcmXmlEncryptor.Seal(keys, secret)));
                rewrapped++;
                changed = true;
            }

            if (changed)
            {
                store.Replace(id, xml);
            }
        }

        if (plaintext > 0)
        {
            LogPlaintext(logger, plaintext);
        }
        else if (keys.CurrentId is null)
        {
            LogNoKey(logger);
        }

        if (rewrapped > 0)
        {
            LogRewrapped(logger, rewrapped, keys.CurrentId!);
        }

        return new KeyRingReport(entries, encrypted, rewrapped, plaintext);
    }

    private static XElement Open(KeyEncryptionKeys keys, XElement sealedElement, XElement entry)
    {
        try
        {
            return AesGcmXmlDecryptor.Open(keys, sealedElement);
        }
        catch (CryptographicException ex)
        {
            throw new InvalidOperationException(
                $"Data Protection key {(string?)entry.Attribute("id")} does not decrypt with key-encryption key " +
                $"{AesGcmXmlDecryptor.KeyIdOf(sealedElement)}: the stored entry was altered or damaged. See docs/SECURITY.md.", ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} Data Protection key secrets are stored unencrypted: set Rendezvous:DataProtection:KeyEncryptionKey (docs/SECURITY.md)")]
    private static partial void LogPlaintext(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No Rendezvous:DataProtection:KeyEncryptionKey is set: new Data Protection keys will be stored unencrypted (docs/SECURITY.md)")]
    private static partial void LogNoKey(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Re-encrypted {Count} Data Protection key secrets under key-encryption key {KeyId}")]
    private static partial void LogRewrapped(ILogger logger, int count, string keyId);
}
