using System.Security.Cryptography;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Rendezvous.Data.KeyEncryption;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests.Reliability;

/// <summary>The Data Protection key ring is shared by every node through the database and encrypted at rest.</summary>
public sealed class KeyRingEncryptionTests(KeyRingEncryptionTests.App app) : IClassFixture<KeyRingEncryptionTests.App>
{
    public static readonly string Key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    public sealed class App : RendezvousApp
    {
        protected override void ConfigureSettings(IWebHostBuilder builder) =>
            builder.UseSetting("Rendezvous:DataProtection:KeyEncryptionKey", Key);
    }

    /// <summary>Another server process on the same database, with its own settings.</summary>
    private sealed class Node(string connectionString, string? key, params string[] previousKeys) : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseSetting("ConnectionStrings:Rendezvous", connectionString);
            builder.UseSetting("Rendezvous:Workers:Enabled", "false");
            builder.UseSetting("Rendezvous:CalendarSync:Enabled", "false");
            builder.UseSetting("Rendezvous:DataProtection:KeyEncryptionKey", key ?? "");
            for (var i = 0; i < previousKeys.Length; i++)
            {
                builder.UseSetting($"Rendezvous:DataProtection:PreviousKeyEncryptionKeys:{i}", previousKeys[i]);
            }

            builder.UseEnvironment("Testing");
        }
    }

    private const string Purpose = "Rendezvous.Tests.KeyRing";

    private static string Protect(IServiceProvider services, string secret) =>
        services.GetRequiredService<IDataProtectionProvider>().CreateProtector(Purpose).Protect(secret);

    private static string Unprotect(IServiceProvider services, string payload) =>
        services.GetRequiredService<IDataProtectionProvider>().CreateProtector(Purpose).Unprotect(payload);

    private static async Task<List<XElement>> StoredRingAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT xml FROM data_protection_keys ORDER BY id", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var ring = new List<XElement>();
        while (await reader.ReadAsync())
        {
            ring.Add(XElement.Parse(reader.GetString(0)));
        }

        return ring;
    }

    [DbFact]
    public async Task The_stored_key_ring_holds_no_plaintext_key_material()
    {
        Protect(app.Services, "calendar password");

        var ring = await StoredRingAsync(app.ConnectionString);
        ring.ShouldNotBeEmpty();
        foreach (var entry in ring)
        {
            entry.Descendants().Where(e => e.Name.LocalName == "masterKey").ShouldBeEmpty();
            entry.Descendants().Where(e => e.Name.LocalName == "value").ShouldBeEmpty();
            var sealedSecret = entry.Descendants(AesGcmXmlEncryptor.ElementName).ShouldHaveSingleItem();
            sealedSecret.Attribute("keyId")!.Value.ShouldBe(KeyEncryptionKeys.IdOf(Convert.FromBase64String(Key)));
        }
    }

    [DbFact]
    public async Task A_secret_protected_on_one_node_is_read_on_another_with_the_same_key()
    {
        var payload = Protect(app.Services, "token from node one");

        await using var other = new Node(app.ConnectionString, Key);
        Unprotect(other.Services, payload).ShouldBe("token from node one");
    }

    [DbFact]
    public async Task A_node_given_the_wrong_key_refuses_to_start_and_says_why()
    {
        Protect(app.Services, "anything");
        var wrong = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

        await using var node = new Node(app.ConnectionString, wrong);
        var error = Should.Throw<Exception>(() => node.Services);

        var missing = Chain(error).OfType<KeyEncryptionKeyMissingException>().ShouldHaveSingleItem();
        missing.KeyId.ShouldBe(KeyEncryptionKeys.IdOf(Convert.FromBase64String(Key)));
        missing.Message.ShouldContain("not configured");
        missing.Message.ShouldContain("Rendezvous:DataProtection:KeyEncryptionKey");
    }

    [DbFact]
    public async Task A_node_without_a_key_refuses_an_encrypted_ring()
    {
        Protect(app.Services, "anything");

        await using var node = new Node(app.ConnectionString, null);
        var error = Should.Throw<Exception>(() => node.Services);
        Chain(error).OfType<KeyEncryptionKeyMissingException>().ShouldHaveSingleItem();
    }

    [DbFact]
    public async Task Rotating_the_key_re_encrypts_the_ring_and_old_secrets_stay_readable()
    {
        // A ring written without any key (as before this setting existed) is encrypted by the first node given one.
        var connectionString = await TestDatabase.CreateAsync();
        try
        {
            string payload;
            await using (var plain = new Node(connectionString, null))
            {
                payload = Protect(plain.Services, "written before encryption");
            }

            (await StoredRingAsync(connectionString)).SelectMany(e => e.Descendants()).ShouldContain(e => e.Name.LocalName == "masterKey");

            var first = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
            var second = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
            await using (var encrypted = new Node(connectionString, first))
            {
                Unprotect(encrypted.Services, payload).ShouldBe("written before encryption");
            }

            await using (var rotating = new Node(connectionString, second, first))
            {
                Unprotect(rotating.Services, payload).ShouldBe("written before encryption");
            }

            var ring = await StoredRingAsync(connectionString);
            ring.SelectMany(e => e.Descendants(AesGcmXmlEncryptor.ElementName)).Select(e => e.Attribute("keyId")!.Value).Distinct()
                .ShouldBe([KeyEncryptionKeys.IdOf(Convert.FromBase64String(second))]);

            // The previous key can now be dropped.
            await using var rotated = new Node(connectionString, second);
            Unprotect(rotated.Services, payload).ShouldBe("written before encryption");
        }
        finally
        {
            await TestDatabase.DropAsync(connectionString);
        }
    }

    private static IEnumerable<Exception> Chain(Exception error)
    {
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            yield return e;
            if (e is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions.SelectMany(Chain))
                {
                    yield return inner;
                }
            }
        }
    }
}
