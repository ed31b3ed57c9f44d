using System.Text.Json.Nodes;
using Rendezvous.Server.Tests.Infrastructure;

namespace Rendezvous.Server.Tests.Api;

/// <summary>
/// The generated client (src/Rendezvous.Client) is built from a checked-in copy of the OpenAPI document. This fails when
/// the server's document and that copy differ, so the client cannot drift from the server. Refresh the copy with
/// <c>scripts/openapi</c> (or RENDEZVOUS_UPDATE_OPENAPI=1 on this test), then rebuild the client.
/// </summary>
public sealed class OpenApiDocumentDriftTests(RendezvousApp app) : IClassFixture<RendezvousApp>
{
    [DbFact]
    public async Task Checked_in_document_of_the_client_matches_what_the_server_serves()
    {
        var served = await (await app.Anonymous().GetAsync("/openapi/v1.json")).ExpectAsync(200);
        var text = OpenApiFiles.Normalize(served);
        var path = OpenApiFiles.CheckedInPath();
        if (Environment.GetEnvironmentVariable("RENDEZVOUS_UPDATE_OPENAPI") == "1")
        {
            await File.WriteAllTextAsync(path, text);
            return;
        }

        var checkedIn = File.Exists(path) ? (await File.ReadAllTextAsync(path)).ReplaceLineEndings("\n") : "";
        Assert.True(checkedIn == text,
            $"{path} differs from the document the server serves. Run scripts/openapi to refresh it (and review the diff: the "
            + "generated client changes with it). First difference: " + OpenApiFiles.FirstDifference(checkedIn, text));
    }
}

/// <summary>Where the checked-in document lives, and its one canonical text.</summary>
public static class OpenApiFiles
{
    public static string CheckedInPath() => Path.Combine(RepositoryRoot(), "src", "Rendezvous.Client", "openapi.json");

    /// <summary>Indented, "\n" line ends, a final newline: the same bytes on every machine.</summary>
    public static string Normalize(JsonNode document) =>
        document.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }).ReplaceLineEndings("\n") + "\n";

    public static string FirstDifference(string a, string b)
    {
        var lines1 = a.Split('\n');
        var lines2 = b.Split('\n');
        for (var i = 0; i < Math.Max(lines1.Length, lines2.Length); i++)
        {
            var x = i < lines1.Length ? lines1[i] : "<end>";
            var y = i < lines2.Length ? lines2[i] : "<end>";
            if (x != y)
            {
                return $"line {i + 1}: checked in `{x.Trim()}`, served `{y.Trim()}`";
            }
        }

        return "none";
    }

    public static string RepositoryRoot()
    {
        if (Environment.GetEnvironmentVariable("RENDEZVOUS_REPO_ROOT") is { Length: > 0 } root && File.Exists(Path.Combine(root, "Rendezvous.slnx")))
        {
            return root;
        }

        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Rendezvous.slnx")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("The repository root was not found.");
    }
}
