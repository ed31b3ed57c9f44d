using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Npgsql;

namespace Rendezvous.Data;

/// <summary>
/// Keeps the Data Protection key ring in PostgreSQL, so every server process sharing the database can decrypt the
/// secrets any of them encrypted.
/// </summary>
public sealed class DataProtectionKeyStore(NpgsqlDataSource dataSource) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var command = dataSource.CreateCommand("SELECT xml FROM data_protection_keys ORDER BY id");
        using var reader = command.ExecuteReader();
        var elements = new List<XElement>();
        while (reader.Read())
        {
            elements.Add(XElement.Parse(reader.GetString(0)));
        }

        return elements;
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        using var command = dataSource.CreateCommand("INSERT INTO data_protection_keys (friendly_name, xml) VALUES (@name, @xml)");
        command.Parameters.AddWithValue("name", friendlyName);
        command.Parameters.AddWithValue("xml", element.ToString(SaveOptions.DisableFormatting));
        command.ExecuteNonQuery();
    }

    /// <summary>Every entry with its row id, for the start-up check and re-encryption (KeyRingProtection).</summary>
    public IReadOnlyList<(long Id, XElement Xml)> ReadRows()
    {
        using var command = dataSource.CreateCommand("SELECT id, xml FROM data_protection_keys ORDER BY id");
        using var reader = command.ExecuteReader();
        var rows = new List<(long, XElement)>();
        while (reader.Read())
        {
            rows.Add((reader.GetInt64(0), XElement.Parse(reader.GetString(1))));
        }

        return rows;
    }

    /// <summary>Rewrites one entry in place: the same key, its secret encrypted differently.</summary>
    public void Replace(long id, XElement element)
    {
        using var command = dataSource.CreateCommand("UPDATE data_protection_keys SET xml = @xml WHERE id = @id");
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("xml", element.ToString(SaveOptions.DisableFormatting));
        command.ExecuteNonQuery();
    }
}
