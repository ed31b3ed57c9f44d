using System.Text.Json;
using System.Text.Json.Serialization;
using NodaTime;
using NodaTime.Text;
using Rendezvous.Domain;

namespace Rendezvous.Data.Serialization;

/// <summary>JSON settings shared by storage (jsonb columns, outbox payloads) and the API: camelCase, enums as camelCase strings, instants as ISO-8601.</summary>
public static class JsonDefaults
{
    public static JsonSerializerOptions Options { get; } = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    /// <summary>Adds our converters and naming to <paramref name="options"/> and returns it.</summary>
    public static JsonSerializerOptions Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false));
        options.Converters.Add(new InstantConverter());
        options.Converters.Add(new GuidIdConverter<OrganizationId>(g => new(g), id => id.Value));
        options.Converters.Add(new GuidIdConverter<UserId>(g => new(g), id => id.Value));
        options.Converters.Add(new GuidIdConverter<CustomerId>(g => new(g), id => id.Value));
        options.Converters.Add(new GuidIdConverter<BookingPageId>(g => new(g), id => id.Value));
        options.Converters.Add(new GuidIdConverter<BookingId>(g => new(g), id => id.Value));
        options.Converters.Add(new GuidIdConverter<PackageId>(g => new(g), id => id.Value));
        return options;
    }

    private sealed class InstantConverter : JsonConverter<Instant>
    {
        public override Instant Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var text = reader.GetString();
            var parsed = OffsetDateTimePattern.ExtendedIso.Parse(text ?? "");
            return parsed.Success ? parsed.Value.ToInstant() : throw new JsonException("Expected an ISO-8601 date-time with an offset.");
        }

        public override void Write(Utf8JsonWriter writer, Instant value, JsonSerializerOptions options) =>
            writer.WriteStringValue(InstantPattern.ExtendedIso.Format(value));
    }

    private sealed class GuidIdConverter<T>(Func<Guid, T> create, Func<T, Guid> unwrap) : JsonConverter<T>
    {
        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            Guid.TryParse(reader.GetString(), out var g) ? create(g) : throw new JsonException("Expected an id.");

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) =>
            writer.WriteStringValue(unwrap(value!).ToString());
    }
}
