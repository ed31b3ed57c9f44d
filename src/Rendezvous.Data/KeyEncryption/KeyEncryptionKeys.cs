using System.Security.Cryptography;

namespace Rendezvous.Data.KeyEncryption;

/// <summary>Settings under <c>Rendezvous:DataProtection</c>.</summary>
public sealed class KeyEncryptionOptions
{
    /// <summary>
    /// The key that encrypts the Data Protection key ring at rest: 32 random bytes in base64 (<c>openssl rand -base64 32</c>).
    /// Every server process of one deployment gets the same one.
    /// </summary>
    public string? KeyEncryptionKey { get; set; }

    /// <summary>Keys used before a rotation: still read, never written; the server re-encrypts under the current key at start.</summary>
    public List<string> PreviousKeyEncryptionKeys { get; set; } = [];
}

/// <summary>
/// The configured key-encryption keys, each named by an id derived from it (the first 8 bytes of its SHA-256), so the
/// stored ring says which key it needs without the operator naming keys.
/// </summary>
public sealed class KeyEncryptionKeys
{
    private readonly Dictionary<string, byte[]> _byId = new(StringComparer.Ordinal);

    public KeyEncryptionKeys(KeyEncryptionOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.KeyEncryptionKey))
        {
            var current = Parse(options.KeyEncryptionKey, "Rendezvous:DataProtection:KeyEncryptionKey");
            CurrentId = IdOf(current);
            _byId[CurrentId] = current;
        }

        for (var i = 0; i < options.PreviousKeyEncryptionKeys.Count; i++)
        {
            var previous = Parse(options.PreviousKeyEncryptionKeys[i], $"Rendezvous:DataProtection:PreviousKeyEncryptionKeys:{i}");
            _byId.TryAdd(IdOf(previous), previous);
        }
    }

    /// <summary>The id of the key new key-ring entries are encrypted with, or null when none is configured.</summary>
    public string? CurrentId { get; }

    public byte[] Current => CurrentId is null ? throw new InvalidOperationException("No key-encryption key is configured.") : _byId[CurrentId];

    public IReadOnlyCollection<string> Ids => _byId.Keys;

    public bool TryGet(string id, out byte[] key) => _byId.TryGetValue(id, out key!);

    public static string IdOf(byte[] key) => Convert.ToHexStringLower(SHA256.HashData(key).AsSpan(0, 8));

    private static byte[] Parse(string value, string setting)
    {
        byte[] key;
        try
        {
            key = Convert.FromBase64String(value.Trim());
        }
        catch (FormatException)
        {
            throw new InvalidOperationException($"{setting} is not base64; make one with: openssl rand -base64 32");
        }

        return key.Length == 32
            ? key
            : throw new InvalidOperationException($"{setting} must be 32 bytes (base64 of 32 random bytes), not {key.Length}; make one with: openssl rand -base64 32");
    }
}
