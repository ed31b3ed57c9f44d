using System.Globalization;

namespace Rendezvous.Domain.Payments;

/// <summary>
/// An amount in one currency. The currency is an ISO 4217 code that PayPal accepts; the amount is never negative and has
/// no more decimal places than the currency has minor units (two, or none for HUF, JPY and TWD).
/// </summary>
public readonly record struct Money
{
    /// <summary>The currencies PayPal processes (its currency code reference), upper case.</summary>
    public static IReadOnlySet<string> Currencies { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "AUD", "BRL", "CAD", "CNY", "CZK", "DKK", "EUR", "HKD", "HUF", "ILS", "JPY", "MYR", "MXN", "TWD", "NZD", "NOK",
        "PHP", "PLN", "GBP", "SGD", "SEK", "CHF", "THB", "USD",
    };

    private static readonly HashSet<string> WithoutMinorUnits = new(StringComparer.Ordinal) { "HUF", "JPY", "TWD" };

    /// <summary>Largest amount accepted, in whole currency units.</summary>
    public const decimal MaxAmount = 1_000_000m;

    /// <summary>Creates an amount; throws <see cref="ArgumentException"/> for anything <see cref="Create"/> would refuse.</summary>
    public Money(decimal amount, string currency)
    {
        if (Problem(amount, currency) is { } problem)
        {
            throw new ArgumentException(problem, nameof(amount));
        }

        Amount = amount;
        Currency = currency;
    }

    public decimal Amount { get; }

    public string Currency { get; }

    /// <summary>Decimal places of <paramref name="currency"/>: 0 for HUF, JPY and TWD, otherwise 2.</summary>
    public static int MinorUnits(string currency) => WithoutMinorUnits.Contains(currency) ? 0 : 2;

    /// <summary>An amount, or a validation error naming <paramref name="field"/>. The currency may be given in lower case.</summary>
    public static Result<Money> Create(decimal? amount, string? currency, string field)
    {
        var code = currency?.Trim().ToUpperInvariant() ?? "";
        if (amount is null)
        {
            return DomainError.Validation(field + ".amount", "is required");
        }

        return Problem(amount.Value, code) is { } problem
            ? DomainError.Validation(problem.StartsWith("currency", StringComparison.Ordinal) ? field + ".currency" : field + ".amount", problem)
            : new Money(amount.Value, code);
    }

    /// <summary>The amount as PayPal and people write it: "25.00", "1500" for yen.</summary>
    public string FormatAmount() =>
        Amount.ToString(MinorUnits(Currency) == 0 ? "0" : "0.00", CultureInfo.InvariantCulture);

    public override string ToString() => $"{FormatAmount()} {Currency}";

    private static string? Problem(decimal amount, string? currency)
    {
        if (currency is null || !Currencies.Contains(currency))
        {
            return "currency must be a currency code PayPal accepts, such as USD, EUR or GBP";
        }

        if (amount < 0 || amount > MaxAmount)
        {
            return $"must be between 0 and {MaxAmount.ToString(CultureInfo.InvariantCulture)}";
        }

        var places = MinorUnits(currency);
        return decimal.Round(amount, places) != amount
            ? places == 0 ? $"{currency} amounts have no decimal places" : $"{currency} amounts have at most {places} decimal places"
            : null;
    }
}

/// <summary>
/// A page's price: each booking of it is paid for before it is scheduled. <see cref="PaymentWindow"/> is how long an
/// unpaid booking holds its time (never past the meeting's start) before the system cancels it.
/// </summary>
public sealed record PaymentRequirement(Money Price, NodaTime.Duration PaymentWindow)
{
    /// <summary>The window when a page names none.</summary>
    public static NodaTime.Duration DefaultWindow { get; } = NodaTime.Duration.FromMinutes(30);

    /// <summary>
    /// The shortest and longest window accepted. The upper bound is the time PayPal gives a payer to approve an order
    /// by default (three hours): an order left longer can no longer be approved.
    /// </summary>
    public static NodaTime.Duration MinWindow { get; } = NodaTime.Duration.FromMinutes(5);

    public static NodaTime.Duration MaxWindow { get; } = NodaTime.Duration.FromHours(3);
}
