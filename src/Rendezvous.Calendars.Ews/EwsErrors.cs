namespace Rendezvous.Calendars.Ews;

/// <summary>What a failed EWS call was about.</summary>
public enum EwsErrorKind
{
    /// <summary>401, ErrorAccessDenied, ErrorInvalidLicense...: the credentials or rights are not enough.</summary>
    AccessDenied,
    /// <summary>ErrorItemNotFound, ErrorFolderNotFound, ErrorNonExistentMailbox.</summary>
    NotFound,
    /// <summary>ErrorServerBusy that outlasted our retries, ErrorMailboxMoveInProgress, 5xx, timeouts, network failures.</summary>
    Unavailable,
    /// <summary>ErrorInvalidSyncStateData: the stored SyncState is no longer accepted.</summary>
    InvalidSyncState,
    /// <summary>ErrorIrresolvableConflict: the ChangeKey we sent is not the item's current one.</summary>
    Conflict,
    /// <summary>A SOAP fault or response code we did not expect, or an answer we cannot read.</summary>
    Protocol,
}

/// <summary>An EWS call that failed after its retries.</summary>
public sealed class EwsException : Exception
{
    public EwsException(EwsErrorKind kind, string? responseCode, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
        ResponseCode = responseCode;
    }

    public EwsErrorKind Kind { get; }

    /// <summary>The EWS ResponseCode (ErrorServerBusy, ErrorItemNotFound, ...), or "HTTP 401" and the like.</summary>
    public string? ResponseCode { get; }

    /// <summary>
    /// The kind of an EWS ResponseCode
    /// (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/responsecode).
    /// </summary>
    public static EwsErrorKind KindOf(string? responseCode) => responseCode switch
    {
        "ErrorAccessDenied" or "ErrorInvalidLicense" or "ErrorImpersonateUserDenied" or "ErrorImpersonationDenied"
            or "ErrorNotAllowedExternalSharingByPolicy" or "ErrorInsufficientResources" => EwsErrorKind.AccessDenied,
        "ErrorItemNotFound" or "ErrorFolderNotFound" or "ErrorNonExistentMailbox" or "ErrorMailboxConfiguration"
            or "ErrorSubscriptionNotFound" => EwsErrorKind.NotFound,
        "ErrorServerBusy" or "ErrorMailboxMoveInProgress" or "ErrorMailboxStoreUnavailable" or "ErrorConnectionFailed"
            or "ErrorTimeoutExpired" or "ErrorInternalServerTransientError" => EwsErrorKind.Unavailable,
        "ErrorInvalidSyncStateData" => EwsErrorKind.InvalidSyncState,
        "ErrorIrresolvableConflict" => EwsErrorKind.Conflict,
        _ => EwsErrorKind.Protocol,
    };
}
