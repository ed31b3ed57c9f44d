using System.Reflection;
using System.Runtime.Serialization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Rendezvous.Client;

/// <summary>The generated client's JSON settings, completed by hand (the generator leaves this hook for it).</summary>
public partial class RendezvousClient
{
    static partial void UpdateJsonSerializerSettings(JsonSerializerOptions settings) =>
        settings.Converters.Add(new EnumMemberConverterFactory());
}

/// <summary>
/// Writes and reads the generated enums by the API's own names (their <see cref="EnumMemberAttribute"/> values, such as
/// "booking.created"), not by their C# member names or numbers.
/// </summary>
public sealed class EnumMemberConverterFactory : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) => typeToConvert.IsEnum;

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(EnumMemberConverter<>).MakeGenericType(typeToConvert))!;

    private sealed class EnumMemberConverter<T> : JsonConverter<T>
        where T : struct, Enum
    {
        private readonly Dictionary<T, string> _names = [];
        private readonly Dictionary<string, T> _values = new(StringComparer.Ordinal);

        public EnumMemberConverter()
        {
            foreach (var field in typeof(T).GetFields(BindingFlags.Public | BindingFlags.Static))
            {
                var value = (T)field.GetValue(null)!;
                var name = field.GetCustomAttribute<EnumMemberAttribute>()?.Value ?? field.Name;
                _names[value] = name;
                _values[name] = value;
            }
        }

        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var text = reader.GetString() ?? "";
            return _values.TryGetValue(text, out var value) || Enum.TryParse(text, ignoreCase: true, out value)
                ? value
                : throw new JsonException($"'{text}' is not a {typeof(T).Name}.");
        }

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) =>
            writer.WriteStringValue(_names.TryGetValue(value, out var name) ? name : value.ToString());
    }
}
