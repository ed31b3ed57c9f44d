namespace Rendezvous.Integrations;

public sealed class PublicUrlOptions
{
    /// <summary>Where people reach this server; links in emails start with it.</summary>
    public string PublicBaseUrl { get; set; } = "http://127.0.0.1:8080";
}
