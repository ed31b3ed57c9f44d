using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.Extensions.DependencyInjection;

namespace Rendezvous.Data.KeyEncryption;

/// <summary>
/// Encrypts each Data Protection key's secret with AES-256-GCM under the configured key-encryption key. The stored
/// element names the key by id (<see cref="KeyEncryptionKeys.IdOf"/>) and binds that id as associated data, so a ring
/// read with another key fails loudly instead of yielding garbage.
/// </summary>
public sealed class AesGcmXmlEncryptor(KeyEncryptionKeys keys) : IXmlEncryptor
{
    public static readonly XNamespace Ns = "urn:rendezvous:data-protection:key-encryption";
    public static readonly XName ElementName = Ns + "encryptedKey";

    public EncryptedXmlInfo Encrypt(XElement plaintextElement) =>
        new(Seal(keys, plaintextElement), typeof(AesGcmXmlDecryptor));

    /// <summary>The encrypted form of <paramref name="plaintextElement"/> under the current key.</summary>
    public static XElement Seal(KeyEncryptionKeys keys, XElement plaintextElement)
    {
        var id = keys.CurrentId ?? throw new InvalidOperationException("No key-encryption key is configured.");
        var plaintext = Encoding.UTF8.GetBytes(plaintextElement.ToString(SaveOptions.DisableFormatting));
        var nonce = RandomNumberGenerator.GetBytes(AesGcm.NonceByteSizes.MaxSize);
        var tag = new byte[AesGcm.TagByteSizes.MaxSize];
        var ciphertext = new byte[plaintext.Length];
        using (var aes = new AesGcm(keys.Current, tag.Length))
        {
            aes.Encrypt(nonce, plaintext, ciphertext, tag, Encoding.ASCII.GetBytes(id));
        }

        CryptographicOperations.ZeroMemory(plaintext);
        return new XElement(ElementName,
            new XAttribute("keyId", id),
            new XAttribute("algorithm", "AES-256-GCM"),
            Convert.ToBase64String([.. nonce, .. ciphertext, .. tag]));
    }
}

/// <summary>Decrypts what <see cref="AesGcmXmlEncryptor"/> stored. Data Protection creates it by its type name.</summary>
public sealed class AesGcmXmlDecryptor : IXmlDecryptor
{
    private readonly KeyEncryptionKeys _keys;

    /// <summary>Used by Data Protection, which activates decryptors with the application's services.</summary>
    public AesGcmXmlDecryptor(IServiceProvider services) => _keys = services.GetRequiredService<KeyEncryptionKeys>();

    public AesGcmXmlDecryptor(KeyEncryptionKeys keys) => _keys = keys;

    public XElement Decrypt(XElement encryptedElement) => Open(_keys, encryptedElement);

    /// <summary>The key id <paramref name="encryptedElement"/> was sealed with.</summary>
    public static string KeyIdOf(XElement encryptedElement) =>
        (string?)encryptedElement.Attribute("keyId") ?? throw new InvalidOperationException("An encrypted key-ring entry names no keyId.");

    public static XElement Open(KeyEncryptionKeys keys, XElement encryptedElement)
    {
        var id = KeyIdOf(encryptedElement);
        if (!keys.TryGet(id, out var key))
        {
            throw new KeyEncryptionKeyMissingException(id, keys.Ids);
        }

        var sealedBytes = Convert.FromBase64String(encryptedElement.Value);
        var nonceSize = AesGcm.NonceByteSizes.MaxSize;
        var tagSize = AesGcm.TagByteSizes.MaxSize;
        var nonce = sealedBytes.AsSpan(0, nonceSize);
        var ciphertext = sealedBytes.AsSpan(nonceSize, sealedBytes.Length - nonceSize - tagSize);
        var tag = sealedBytes.AsSpan(sealedBytes.Length - tagSize);
        var plaintext = new byte[ciphertext.Length];
        using (var aes = new AesGcm(key, tagSize))
        {
            aes.Decrypt(nonce, ciphertext, tag, plaintext, Encoding.ASCII.GetBytes(id));
        }

        try
        {
            return XElement.Parse(Encoding.UTF8.GetString(plaintext));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }
}

/// <summary>The key ring holds entries sealed with a key-encryption key this process was not given.</summary>
public sealed class KeyEncryptionKeyMissingException(string keyId, IReadOnlyCollection<string> configured)
    : InvalidOperationException(
        $"A Data Protection key is encrypted with key-encryption key {keyId}, which is not configured " +
        $"(configured: {(configured.Count == 0 ? "none" : string.Join(", ", configured))}). Set Rendezvous:DataProtection:KeyEncryptionKey " +
        "(or PreviousKeyEncryptionKeys during a rotation) to the key the ring was written with; see docs/SECURITY.md.")
{
    public string KeyId { get; } = keyId;
}
