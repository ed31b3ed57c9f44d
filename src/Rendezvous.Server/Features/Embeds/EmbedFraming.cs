using Microsoft.Net.Http.Headers;
using Rendezvous.Server.Features.Web;

namespace Rendezvous.Server.Features.Embeds;

/// <summary>
/// The booking pages under /embed/{organization}/{page}: the same pages as /{organization}/{page}, which other sites may
/// frame when their origin is on the organization's list. Every other page keeps forbidding framing.
/// </summary>
public static class EmbedFraming
{
    public const string Prefix = "/embed";

    public static bool IsEmbedded(HttpRequest request) => request.Path.StartsWithSegments(Prefix, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Lets exactly <paramref name="origins"/> frame this answer (none: nobody). The origins are stored normalized
    /// (<see cref="EmbedSettingsService.TryNormalize"/>), so none can add a directive of its own.
    /// </summary>
    public static void Allow(HttpResponse response, IReadOnlyList<string> origins)
    {
        response.Headers.Remove(HeaderNames.XFrameOptions);
        response.Headers[HeaderNames.ContentSecurityPolicy] =
            PageHeadersFilter.ContentSecurityPolicy(origins.Count == 0 ? "'none'" : string.Join(' ', origins));
    }
}
